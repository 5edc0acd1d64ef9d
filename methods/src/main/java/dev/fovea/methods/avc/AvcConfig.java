package dev.fovea.methods.avc;

import dev.fovea.methods.contrastive.ContrastiveConfig;
import dev.fovea.methods.contrastive.ContrastiveException;

/**
 * AVC's parameters (spec 2.6), with the released code's defaults.
 *
 * @param contrast alpha 1 (the POPE and MME scripts and the sampler's default; the paper quotes 2.5
 *     for LLaVA-1.5 and 3 for InstructBLIP, the AMBER script passes 2.5), beta 0.1, direct sampling
 *     (temperature 1, top-p 1), seed 42
 * @param layerP top-P over layers ({@code layer_gamma}): the fewest layers whose share of the image
 *     attention reaches P; within (0, 1] (0.5)
 * @param lambda blind tokens have attention at least mean + lambda std (N - 1 std) ({@code lamb}, 1
 *     in the scripts); within [-{@link #MAX_LAMBDA}, {@link #MAX_LAMBDA}]
 * @param fill what replaces the non-blind image embeddings in the second branch (zeros)
 */
public record AvcConfig(ContrastiveConfig contrast, float layerP, float lambda, Fill fill) {
  /** Past this many standard deviations no token of a few hundred can be blind (or every one is). */
  public static final float MAX_LAMBDA = 100f;

  public static final AvcConfig DEFAULT = new AvcConfig(ContrastiveConfig.DEFAULT, 0.5f, 1f, Fill.ZEROS);

  /** The masking schemes of the released code ({@code masking_scheme}). */
  public enum Fill {
    /** All zeros (the default, used by every script). */
    ZEROS,
    /** All ones. */
    ONES,
    /** Standard normal values drawn from the seed. */
    NOISE;

    /** By its lower-case name. */
    public static Fill named(String name) {
      for (Fill f : values()) {
        if (f.name().equalsIgnoreCase(name)) {
          return f;
        }
      }
      throw new ContrastiveException("unknown fill \"" + name + "\" (zeros, ones or noise)");
    }
  }

  public AvcConfig {
    if (contrast == null || fill == null) {
      throw new ContrastiveException("no contrastive configuration or fill given");
    }
    if (!(layerP > 0 && layerP <= 1)) {
      throw new ContrastiveException("the layer top-P must be within (0, 1], got " + layerP);
    }
    if (!(Math.abs(lambda) <= MAX_LAMBDA)) {
      throw new ContrastiveException("lambda must be within [-" + MAX_LAMBDA + ", " + MAX_LAMBDA + "], got " + lambda);
    }
  }

  public AvcConfig withContrast(ContrastiveConfig c) {
    return new AvcConfig(c, layerP, lambda, fill);
  }

  public AvcConfig withLayerP(float p) {
    return new AvcConfig(contrast, p, lambda, fill);
  }

  public AvcConfig withLambda(float l) {
    return new AvcConfig(contrast, layerP, l, fill);
  }

  public AvcConfig withFill(Fill f) {
    return new AvcConfig(contrast, layerP, lambda, f);
  }
}
