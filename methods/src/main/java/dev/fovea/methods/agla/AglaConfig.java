package dev.fovea.methods.agla;

import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.methods.contrastive.ContrastiveConfig;
import dev.fovea.vit.blip.BlipText;

/**
 * AGLA's parameters (spec methods-abs-agla.md B.4, B.8), with the released code's defaults.
 *
 * @param alpha weight of the augmented branch in {@code l_o + alpha l_a}: 2 (the POPE scripts and
 *     argparse); within [0, {@link ContrastiveConfig#MAX_ALPHA}]
 * @param beta adaptive plausibility cut on the original branch: tokens with {@code l_o < log(beta) +
 *     max l_o} are never drawn; 0.5; within (0, 1]
 * @param sampling processors and warpers after the assembly (the reference samples at temperature 1,
 *     top-p 1, no top-k)
 * @param seed seed of the draws (the released scripts run seeds 1, 2 and 3; 1 here)
 * @param layer the BLIP text layer whose cross-attention the GradCAM reads (LAVIS {@code
 *     block_num=6}); checked against the model when it runs
 * @param convention the ITM pass's first token: {@code [ENC]} as the original BLIP and AGLA (default)
 *     or {@code [CLS]} as HF's class
 * @param referenceCacheReuse reproduce the released sampler's cache sharing (spec B.8): from the
 *     second token on the augmented branch reads the original branch's cache, so {@code l_a = l_o}
 *     and only the first token sees the masked image. Off by default (independent caches, the
 *     paper's semantics)
 */
public record AglaConfig(float alpha, float beta, SamplingConfig sampling, long seed, int layer, BlipText.Convention convention,
    boolean referenceCacheReuse) {
  public static final AglaConfig DEFAULT =
      new AglaConfig(2f, 0.5f, ContrastiveConfig.REFERENCE_SAMPLING, 1, 6, BlipText.Convention.ORIGINAL, false);

  public AglaConfig {
    if (!(alpha >= 0 && alpha <= ContrastiveConfig.MAX_ALPHA)) {
      throw new AglaException("alpha must be within [0, " + ContrastiveConfig.MAX_ALPHA + "], got " + alpha);
    }
    if (!(beta > 0 && beta <= 1)) {
      throw new AglaException("beta must be within (0, 1], got " + beta);
    }
    if (sampling == null || convention == null) {
      throw new AglaException("no sampling configuration or [ENC] convention given");
    }
    if (layer < 0) {
      throw new AglaException("the GradCAM layer must be a text layer index >= 0, got " + layer);
    }
  }

  public AglaConfig withAlpha(float a) {
    return new AglaConfig(a, beta, sampling, seed, layer, convention, referenceCacheReuse);
  }

  public AglaConfig withBeta(float b) {
    return new AglaConfig(alpha, b, sampling, seed, layer, convention, referenceCacheReuse);
  }

  public AglaConfig withSampling(SamplingConfig s) {
    return new AglaConfig(alpha, beta, s, seed, layer, convention, referenceCacheReuse);
  }

  public AglaConfig withSeed(long s) {
    return new AglaConfig(alpha, beta, sampling, s, layer, convention, referenceCacheReuse);
  }

  public AglaConfig withLayer(int l) {
    return new AglaConfig(alpha, beta, sampling, seed, l, convention, referenceCacheReuse);
  }

  public AglaConfig withConvention(BlipText.Convention c) {
    return new AglaConfig(alpha, beta, sampling, seed, layer, c, referenceCacheReuse);
  }

  public AglaConfig withReferenceCacheReuse(boolean on) {
    return new AglaConfig(alpha, beta, sampling, seed, layer, convention, on);
  }
}
