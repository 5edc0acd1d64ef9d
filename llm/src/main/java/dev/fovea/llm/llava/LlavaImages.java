package dev.fovea.llm.llava;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The two LLaVA-1.5 image pipelines (spec models-formats.md 2.5): llava-hf's CLIPImageProcessor
 * (shortest edge S, bicubic, <b>centre crop</b>) and the original repo's {@code image_aspect_ratio:
 * "pad"} ({@code expand2square} with the mean colour (122, 116, 104), then the same processor).
 */
public final class LlavaImages {
  /** Which pipeline: as the checkpoint says, or forced. */
  public enum Mode {
    CHECKPOINT,
    PAD,
    CROP
  }

  private LlavaImages() {}

  /**
   * The preprocessing of a checkpoint: its {@code preprocessor_config.json} when given (HF
   * {@code do_pad} selects padding), else CLIPImageProcessor at the tower's image size, padded when
   * config.json says {@code image_aspect_ratio: "pad"}; then {@code mode} overrides the padding.
   *
   * @param preprocessorJson the bytes of preprocessor_config.json, or null
   * @param configJson the bytes of config.json, or null
   */
  public static PreprocessorConfig preprocessorConfig(LlavaConfig config, byte[] preprocessorJson, byte[] configJson, Mode mode) {
    PreprocessorConfig p;
    if (preprocessorJson != null) {
      p = PreprocessorConfig.fromJson(JsonConfig.parse(preprocessorJson, "preprocessor_config.json", LlavaException::new), "preprocessor_config.json");
    } else {
      p = PreprocessorConfig.clip(config.visionConfig().imageSize());
    }
    JsonNode root = configJson == null ? null : JsonConfig.parse(configJson, config.origin(), LlavaException::new);
    if (root != null && root.path("image_aspect_ratio").asText("").equals("pad")) {
      p = p.withPadToSquare(true);
    }
    return switch (mode) {
      case CHECKPOINT -> p;
      case PAD -> p.withPadToSquare(true);
      case CROP -> p.withPadToSquare(false);
    };
  }

  /** Pixels [n, 3, S, S] of image files, in order (current scope). */
  public static Tensor pixels(List<Path> files, PreprocessorConfig preprocessing) {
    if (files.isEmpty()) {
      throw new LlavaException("no images given");
    }
    List<RgbImage> images = new ArrayList<>();
    for (Path f : files) {
      images.add(ImageDecoder.read(f));
    }
    return new ImageProcessor(preprocessing).processBatch(images);
  }
}
