package dev.fovea.vit.dino;

import dev.fovea.vit.clip.ClipCheckpoint;
import dev.fovea.vit.image.ImageException;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.tensor.io.JsonConfig;
import java.nio.file.Path;

/**
 * A DINO ViT ready to run on images: the HF folder or fovea archive ({@code config.json}, weights as
 * safetensors or {@code .bin}), the {@link VitModel} (weights kept mapped) and its image processor
 * ({@code preprocessor_config.json}; without one, {@link PreprocessorConfig#dino} at the config's
 * image size). Close it to unmap the weights.
 */
public final class DinoPipeline implements AutoCloseable {
  private final ClipCheckpoint checkpoint;
  private final VitModel model;
  private final ImageProcessor processor;

  private DinoPipeline(ClipCheckpoint checkpoint, VitModel model, ImageProcessor processor) {
    this.checkpoint = checkpoint;
    this.model = model;
    this.processor = processor;
  }

  public static DinoPipeline open(Path path) {
    ClipCheckpoint ckpt = ClipCheckpoint.open(path, "DINO ViT", "config.json, model.safetensors or pytorch_model.bin, preprocessor_config.json");
    try {
      VitModel model = VitModel.load(ckpt);
      byte[] json = ckpt.file("preprocessor_config.json");
      ImageProcessor proc;
      if (json == null) {
        proc = new ImageProcessor(PreprocessorConfig.dino(model.config.imageSize()));
      } else {
        String source = ckpt.describe("preprocessor_config.json");
        proc = new ImageProcessor(PreprocessorConfig.fromJson(JsonConfig.parse(json, source, m -> new ImageException(source, m)), source));
      }
      return new DinoPipeline(ckpt, model, proc);
    } catch (RuntimeException e) {
      ckpt.close();
      throw e;
    }
  }

  public VitModel model() {
    return model;
  }

  public ImageProcessor processor() {
    return processor;
  }

  public ClipCheckpoint checkpoint() {
    return checkpoint;
  }

  @Override
  public void close() {
    checkpoint.close();
  }
}
