package dev.fovea.methods.vicrop;

import java.util.Arrays;

/**
 * ViCrop's parameters, with the paper's defaults for LLaVA-1.5 (spec 1.7).
 *
 * @param layer decoder layer whose attention makes the rel-att and grad-att maps (14 of 32)
 * @param genericInstruction the question of the generic prompt that rel-att and pure-grad divide by
 * @param promptTemplate the prompt text; {@code {images}} becomes one {@code <image>} per image and
 *     {@code {question}} the question (the repository's llava-hf format by default)
 * @param ratios crop window sides as multiples of the base size, ascending
 * @param baseSize crop base size S0 in original-image pixels, {@link #MIN_BASE_SIZE} to {@link
 *     #MAX_SIDE}; 0 means the vision tower's image size (336 for LLaVA-1.5)
 * @param highResThreshold tile side limit of the high-resolution variant (1024), {@link
 *     #MIN_TILE_SIZE} to {@link #MAX_SIDE}; {@link ViCrop#run} also wants at least the tower's input
 *     size and at most {@link Tiling#MAX_TILES} tiles per image
 * @param maxNewTokens greedy answer length (20), at least 1; {@link ViCrop#run} checks that the
 *     prompt and the answer fit the model's context
 * @param blurKernel pure-grad: Gaussian high-pass kernel size (3, sigma 0.8)
 * @param medianKernel pure-grad: median filter size (7)
 */
public record ViCropConfig(int layer, String genericInstruction, String promptTemplate, double[] ratios, int baseSize, int highResThreshold,
    int maxNewTokens, int blurKernel, int medianKernel) {
  public static final String GENERIC_INSTRUCTION = "Write a general description of the image.";
  public static final String LLAVA_HF_TEMPLATE = "{images}\nUSER: {question} Answer the question using a single word or phrase.\nASSISTANT:";
  public static final double[] RATIOS = {1.0, 1.2, 1.4, 1.6, 1.8, 2.0};

  /**
   * The smallest crop base size: a window of fewer pixels holds no detail the vision tower could
   * use once it is scaled up to the tower's input (336 px for LLaVA-1.5, 224 for InstructBLIP).
   */
  public static final int MIN_BASE_SIZE = 64;

  /** The smallest high-res tile: each tile is a full map pass, so tiny tiles only multiply the work. */
  public static final int MIN_TILE_SIZE = 64;

  /** The largest base size and tile side: the largest image side the decoder reads ({@code ImageDecoder.Limits.DEFAULT}). */
  public static final int MAX_SIDE = 100_000;

  public ViCropConfig {
    if (layer < 0) {
      throw new ViCropException("layer must be >= 0, got " + layer);
    }
    if (!promptTemplate.contains("{images}") || !promptTemplate.contains("{question}")) {
      throw new ViCropException("the prompt template must contain {images} and {question}: \"" + promptTemplate + "\"");
    }
    if (ratios.length == 0) {
      throw new ViCropException("no crop ratios given");
    }
    ratios = ratios.clone();
    for (int i = 0; i < ratios.length; i++) {
      if (!(ratios[i] > 0) || (i > 0 && ratios[i] <= ratios[i - 1])) {
        throw new ViCropException("crop ratios must be positive and ascending: " + Arrays.toString(ratios));
      }
    }
    if (baseSize != 0 && (baseSize < MIN_BASE_SIZE || baseSize > MAX_SIDE)) {
      throw new ViCropException("base size must be 0 (the vision tower's input size) or within [" + MIN_BASE_SIZE + ", " + MAX_SIDE + "] px, got "
          + baseSize);
    }
    if (highResThreshold < MIN_TILE_SIZE || highResThreshold > MAX_SIDE) {
      throw new ViCropException("high-res threshold must be within [" + MIN_TILE_SIZE + ", " + MAX_SIDE + "] px, got " + highResThreshold);
    }
    if (maxNewTokens < 1) {
      throw new ViCropException("max new tokens must be at least 1, got " + maxNewTokens);
    }
    if (blurKernel < 1 || blurKernel % 2 == 0 || medianKernel < 1) {
      throw new ViCropException("bad ViCrop settings: blur kernel " + blurKernel + " (odd, >= 1), median kernel " + medianKernel + " (>= 1)");
    }
  }

  /** The paper's settings for LLaVA-1.5-7B. */
  public static ViCropConfig defaults() {
    return new ViCropConfig(14, GENERIC_INSTRUCTION, LLAVA_HF_TEMPLATE, RATIOS, 0, 1024, 20, 3, 7);
  }

  @Override
  public double[] ratios() {
    return ratios.clone();
  }

  public ViCropConfig withLayer(int l) {
    return new ViCropConfig(l, genericInstruction, promptTemplate, ratios, baseSize, highResThreshold, maxNewTokens, blurKernel, medianKernel);
  }

  public ViCropConfig withBaseSize(int s) {
    return new ViCropConfig(layer, genericInstruction, promptTemplate, ratios, s, highResThreshold, maxNewTokens, blurKernel, medianKernel);
  }

  public ViCropConfig withHighResThreshold(int t) {
    return new ViCropConfig(layer, genericInstruction, promptTemplate, ratios, baseSize, t, maxNewTokens, blurKernel, medianKernel);
  }

  public ViCropConfig withMaxNewTokens(int n) {
    return new ViCropConfig(layer, genericInstruction, promptTemplate, ratios, baseSize, highResThreshold, n, blurKernel, medianKernel);
  }

  public ViCropConfig withRatios(double... r) {
    return new ViCropConfig(layer, genericInstruction, promptTemplate, r, baseSize, highResThreshold, maxNewTokens, blurKernel, medianKernel);
  }

  public ViCropConfig withPromptTemplate(String t) {
    return new ViCropConfig(layer, genericInstruction, t, ratios, baseSize, highResThreshold, maxNewTokens, blurKernel, medianKernel);
  }

  public ViCropConfig withGenericInstruction(String g) {
    return new ViCropConfig(layer, g, promptTemplate, ratios, baseSize, highResThreshold, maxNewTokens, blurKernel, medianKernel);
  }

  /** The prompt text for {@code images} images and a question. */
  public String prompt(int images, String question) {
    return promptTemplate.replace("{images}", "<image>".repeat(images)).replace("{question}", question);
  }
}
