package dev.fovea.methods.vicrop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.SharedData;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tiny LLaVA of tools/reference/vicrop/make_vicrop_reference.py (84 px tower, 6 x 6 image tokens,
 * 3 decoder layers, maps at layer 1, crop base size 224) and its reference ViCrop runs.
 */
final class VicropFixtures {
  private VicropFixtures() {}

  static Path dir() {
    try {
      return Path.of(VicropFixtures.class.getResource("/vicrop-reference/tiny/config.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static WeightSource reference() {
    return WeightFiles.open(dir().resolveSibling("reference.safetensors"));
  }

  static JsonNode meta() {
    try {
      return new ObjectMapper().readTree(dir().resolveSibling("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static LlavaForConditionalGeneration model() {
    return LlavaForConditionalGeneration.load(dir());
  }

  static TextTokenizer tokenizer() {
    return TokenizerLoader.load(dir());
  }

  static PreprocessorConfig preprocessing(LlavaForConditionalGeneration model) {
    try {
      return LlavaImages.preprocessorConfig(model.config, Files.readAllBytes(dir().resolve("preprocessor_config.json")),
          Files.readAllBytes(dir().resolve("config.json")), LlavaImages.Mode.CHECKPOINT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The reference's settings: layer 1, base size 224, the default ratios, 20 new tokens. */
  static ViCropConfig config() {
    JsonNode m = meta();
    return ViCropConfig.defaults().withLayer(m.get("layer").asInt()).withBaseSize(m.get("base_size").asInt())
        .withMaxNewTokens(m.get("max_new_tokens").asInt());
  }

  /** A shared image (the test skips when ../shared/data is absent). */
  static RgbImage image(String name) {
    return ImageDecoder.read(SharedData.imageFile(name));
  }

  static int[] ints(WeightSource ref, String name) {
    Tensor t = ref.get(name);
    long[] v = t.toLongArray();
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }
}
