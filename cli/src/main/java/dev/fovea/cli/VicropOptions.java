package dev.fovea.cli;

import dev.fovea.methods.vicrop.ViCropConfig;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The model and ViCrop settings shared by {@code vicrop} and {@code eval vqa} (a picocli mixin). */
final class VicropOptions {
  @Option(names = "--model", required = true, paramLabel = "PATH", description = "llava-hf or original LLaVA folder, a .fovea archive, or a GGUF model (with --mmproj)")
  Path model;

  @Mixin LlavaFileOptions files;

  @Option(names = "--high-res", description = "tile images larger than --tile-size, map each tile, select on the stitched map")
  boolean highRes;

  @Option(names = "--tile-size", paramLabel = "PX", description = "high-res tile limit (default: ${DEFAULT-VALUE})")
  int tileSize = 1024;

  @Option(names = "--layer", paramLabel = "L", description = "decoder layer of the attention maps (default: ${DEFAULT-VALUE})")
  int layer = 14;

  @Option(names = "--base-size", paramLabel = "PX", description = "crop base size in pixels (default: the vision tower's input size)")
  int baseSize = 0;

  @Option(names = "--max-new-tokens", paramLabel = "N", description = "answer length (default: ${DEFAULT-VALUE})")
  int maxNewTokens = 20;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  /** The paper's defaults with these options applied. */
  ViCropConfig config() {
    return ViCropConfig.defaults().withLayer(layer).withBaseSize(baseSize).withHighResThreshold(tileSize).withMaxNewTokens(maxNewTokens);
  }
}
