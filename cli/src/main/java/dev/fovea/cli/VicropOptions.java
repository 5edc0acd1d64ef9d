package dev.fovea.cli;

import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.Tiling;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.vit.image.RgbImage;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The model and ViCrop settings shared by {@code vicrop} and {@code eval vqa} (a picocli mixin),
 * with their ranges: those that need no model are checked first ({@link #checkRanges}), the tile
 * count once the image is read ({@link #checkTiles}), and those the model sets once it is loaded
 * ({@link #checkRanges(CommandSpec, LlavaForConditionalGeneration, Method)}), before its weights are
 * paged in.
 */
final class VicropOptions {
  /** The paper's layer for LLaVA-1.5-7B (14 of 32). */
  static final int DEFAULT_LAYER = 14;

  @Option(names = "--model", paramLabel = "PATH",
      description = "llava-hf or original LLaVA folder, a .fovea archive, or a GGUF model (with --mmproj) (default: the shipped mini LLaVA, models/scenes-llava)")
  Path model;

  /** The model: {@code --model}, or the shipped mini LLaVA. */
  Path model() {
    if (model == null) {
      model = DefaultModels.scenesLlava();
    }
    return model;
  }

  @Mixin LlavaFileOptions files;

  @Option(names = "--high-res", description = "tile images larger than --tile-size, map each tile, select on the stitched map")
  boolean highRes;

  @Option(names = "--tile-size", paramLabel = "PX",
      description = "high-res tile limit, from the vision tower's input size (336 for LLaVA-1.5; at least " + ViCropConfig.MIN_TILE_SIZE + ") to "
          + ViCropConfig.MAX_SIDE + " px; at most " + Tiling.MAX_TILES + " tiles per image (default: ${DEFAULT-VALUE})")
  int tileSize = Tiling.DEFAULT_THRESHOLD;

  @Option(names = "--layer", paramLabel = "L", description = "decoder layer of the attention maps, 0 to the language model's layers - 1 (default: the"
      + " model folder's fovea.json \"vicrop_layer\" when it has one, as the shipped model does, else " + DEFAULT_LAYER + ")")
  Integer layer;

  @Option(names = "--base-size", paramLabel = "PX",
      description = "crop base size, " + ViCropConfig.MIN_BASE_SIZE + " to " + ViCropConfig.MAX_SIDE + " px (default: the vision tower's input size)")
  Integer baseSize;

  @Option(names = "--max-new-tokens", paramLabel = "N", description = "answer length, 1 to the model's context (max_position_embeddings) (default: ${DEFAULT-VALUE})")
  int maxNewTokens = 20;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  /** The layer the maps use: {@code --layer}, else the model folder's hint, else the paper's. */
  int layer() {
    if (layer != null) {
      return layer;
    }
    if (defaultLayer == null) {
      defaultLayer = DefaultModels.vicropLayer(model()).orElse(DEFAULT_LAYER);
    }
    return defaultLayer;
  }

  private Integer defaultLayer;

  /** The ranges that need no model. */
  void checkRanges(CommandSpec spec) {
    OptionRange.check(spec, "--tile-size", tileSize, ViCropConfig.MIN_TILE_SIZE, ViCropConfig.MAX_SIDE);
    if (layer != null) {
      OptionRange.check(spec, "--layer", layer, 0, Integer.MAX_VALUE);
    }
    if (baseSize != null) {
      OptionRange.check(spec, "--base-size", baseSize, ViCropConfig.MIN_BASE_SIZE, ViCropConfig.MAX_SIDE);
    }
    OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, Integer.MAX_VALUE);
  }

  /**
   * With {@code --high-res}: at most {@link Tiling#MAX_TILES} tiles for {@code image} (each tile is
   * a full map pass), with the smallest {@code --tile-size} that gives few enough.
   */
  void checkTiles(CommandSpec spec, RgbImage image) {
    if (!highRes) {
      return;
    }
    Tiling.Plan plan = Tiling.plan(image.width(), image.height(), tileSize);
    long count = (long) plan.rows() * plan.cols();
    if (count > Tiling.MAX_TILES) {
      int least = Tiling.leastThreshold(image.width(), image.height(), Tiling.MAX_TILES);
      throw new CommandLine.ParameterException(spec.commandLine(), "--tile-size " + tileSize + " splits the " + image.width() + " x " + image.height()
          + " image into " + plan.rows() + " x " + plan.cols() + " = " + count + " tiles, more than " + Tiling.MAX_TILES
          + (least > 0 ? "; use --tile-size " + least + " or more" : "; no tile size gives fewer for this aspect ratio"));
    }
  }

  /**
   * The ranges the model sets: tiles at least the vision tower's input size, a layer the language
   * model has (checked when given, or when {@code method} uses it), an answer that fits the context.
   */
  void checkRanges(CommandSpec spec, LlavaForConditionalGeneration lm, Method method) {
    int input = lm.config.visionConfig().imageSize();
    if (highRes) {
      OptionRange.check(spec, "--tile-size", tileSize, Math.max(ViCropConfig.MIN_TILE_SIZE, input), ViCropConfig.MAX_SIDE,
          "at least the vision tower's input size, " + input + " px");
    }
    int layers = lm.config.textConfig().numHiddenLayers();
    if (layer != null || method == Method.REL_ATT || method == Method.GRAD_ATT) {
      OptionRange.check(spec, "--layer", layer(), 0, layers - 1, "the language model has " + layers + " layers");
    }
    OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, lm.maxPositions(), "the model's context");
  }

  /** The paper's defaults with these options applied. */
  ViCropConfig config() {
    return ViCropConfig.defaults().withLayer(layer()).withBaseSize(baseSize == null ? 0 : baseSize).withHighResThreshold(tileSize)
        .withMaxNewTokens(maxNewTokens);
  }
}
