package dev.fovea.methods.contrastive;

import dev.fovea.llm.generate.SamplingConfig;

/**
 * The contrast and the draw shared by VCD and AVC.
 *
 * @param alpha weight of the contrast in {@code (1 + alpha) z - alpha z'}; 0 gives plain decoding on
 *     the plausible set. At most {@link #MAX_ALPHA}
 * @param beta adaptive plausibility cut: tokens whose probability under the first branch is below
 *     beta times the top one are never drawn; within (0, 1]
 * @param sampling processors and warpers applied to the contrasted logits, then the draw (the
 *     references sample at temperature 1 with top-p 1 and no top-k; temperature 0 is greedy)
 * @param seed seed of the draws (and of the noise VCD draws)
 */
public record ContrastiveConfig(float alpha, float beta, SamplingConfig sampling, long seed) {
  /** Past this the first branch hardly matters: (1 + a) z - a z' is a scaled difference. */
  public static final float MAX_ALPHA = 100f;

  /** Direct sampling as the VCD and AvisC evaluation scripts run it: temperature 1, top-p 1, no top-k, no repetition penalty. */
  public static final SamplingConfig REFERENCE_SAMPLING = SamplingConfig.sampling(1f);

  /** alpha 1, beta 0.1, direct sampling, seed 42: the sampler defaults of both reference codes. */
  public static final ContrastiveConfig DEFAULT = new ContrastiveConfig(1f, 0.1f, REFERENCE_SAMPLING, 42);

  public ContrastiveConfig {
    if (!(alpha >= 0 && alpha <= MAX_ALPHA)) {
      throw new ContrastiveException("alpha must be within [0, " + MAX_ALPHA + "], got " + alpha);
    }
    if (!(beta > 0 && beta <= 1)) {
      throw new ContrastiveException("beta must be within (0, 1], got " + beta);
    }
    if (sampling == null) {
      throw new ContrastiveException("no sampling configuration given");
    }
  }

  public ContrastiveConfig withAlpha(float a) {
    return new ContrastiveConfig(a, beta, sampling, seed);
  }

  public ContrastiveConfig withBeta(float b) {
    return new ContrastiveConfig(alpha, b, sampling, seed);
  }

  public ContrastiveConfig withSampling(SamplingConfig s) {
    return new ContrastiveConfig(alpha, beta, s, seed);
  }

  public ContrastiveConfig withSeed(long s) {
    return new ContrastiveConfig(alpha, beta, sampling, s);
  }
}
