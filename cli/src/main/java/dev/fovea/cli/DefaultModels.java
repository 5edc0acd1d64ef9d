package dev.fovea.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The models that ship in the repository's {@code models/} folder, so the main job runs on a clean
 * clone with no download: the mini LLaVA trained by {@code ./fovea train} on synthetic scenes ({@code
 * models/scenes-llava}, the default of {@code demo}, {@code ask} with an image, {@code vicrop} and
 * {@code eval}) and Karpathy's stories260K ({@code models/stories260K}, MIT: the default of text-only
 * {@code ask} and the decoder the mini LLaVA starts from).
 *
 * <p>The folder is found from the launcher's {@code -Dfovea.home} (the repository root), else from
 * the working directory or its parent (a module's tests run in the module's folder).
 */
final class DefaultModels {
  static final String SCENES_LLAVA = "models/scenes-llava";
  static final String STORIES = "models/stories260K";

  private DefaultModels() {}

  /** The repository root holding {@code models/}, or null when none is found. */
  static Path home() {
    String prop = System.getProperty("fovea.home");
    if (prop != null && Files.isDirectory(Path.of(prop, "models"))) {
      return Path.of(prop);
    }
    Path cwd = Path.of("").toAbsolutePath();
    for (Path p = cwd; p != null && cwd.getNameCount() - p.getNameCount() <= 1; p = p.getParent()) {
      if (Files.isDirectory(p.resolve(STORIES))) {
        return p;
      }
    }
    return null;
  }

  /** {@code relative} under the repository root; throws a usage-level message naming what is missing. */
  static Path require(String relative, String what) {
    Path home = home();
    Path p = home == null ? null : home.resolve(relative);
    if (p == null || !Files.exists(p)) {
      throw new IllegalArgumentException("the default " + what + " (" + relative + " in the fovea repository) was not found"
          + (home == null ? " (run ./fovea from a checkout, or pass the model's path)" : " under " + home) + "; pass --model PATH");
    }
    return p;
  }

  /** The shipped mini LLaVA's folder. */
  static Path scenesLlava() {
    return require(SCENES_LLAVA, "scenes model");
  }

  /** stories260K's GGUF. */
  static Path storiesGguf() {
    return require(STORIES + "/stories260K.gguf", "stories260K model");
  }

  /** stories260K's tokenizer in llama2.c's format. */
  static Path storiesTokenizer() {
    return require(STORIES + "/tok512.bin", "stories260K tokenizer");
  }

  /** The name of the hint file a model folder may carry: {@code {"vicrop_layer": L}}. */
  static final String HINTS = "fovea.json";

  /**
   * The ViCrop layer a model folder recommends in its {@code fovea.json} (the shipped mini LLaVA:
   * the layer its training taught to look at the answer), if any. A hint file that cannot be read
   * or holds no such integer is an error naming the file.
   */
  static java.util.OptionalInt vicropLayer(Path model) {
    Path hints = Files.isDirectory(model) ? model.resolve(HINTS) : null;
    if (hints == null || !Files.isRegularFile(hints)) {
      return java.util.OptionalInt.empty();
    }
    try {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(hints.toFile()).get("vicrop_layer");
      if (node == null) {
        return java.util.OptionalInt.empty();
      }
      if (!node.isInt() || node.asInt() < 0) {
        throw new IllegalArgumentException(hints + ": \"vicrop_layer\" must be a non-negative integer, got " + node);
      }
      return java.util.OptionalInt.of(node.asInt());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read " + hints + ": " + e.getMessage(), e);
    }
  }
}
