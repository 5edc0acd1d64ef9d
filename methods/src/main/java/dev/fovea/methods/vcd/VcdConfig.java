package dev.fovea.methods.vcd;

import dev.fovea.methods.contrastive.ContrastiveConfig;
import dev.fovea.methods.contrastive.ContrastiveException;

/**
 * VCD's parameters (spec 3.3), with the reference repository's defaults.
 *
 * @param contrast alpha 1, beta 0.1, direct sampling (temperature 1, top-p 1), seed 42 ({@code
 *     argparse} defaults of the VCD evaluation scripts; {@code llava1.5_pope.bash} passes beta 0.2)
 * @param noiseStep diffusion step T of the distorted image, within [0, 999] (500)
 * @param referenceCacheReuse reproduce the reference's cache bug: {@code vcd_sample.py} resets the
 *     distorted branch's model arguments to a copy of the first branch's at the top of every step,
 *     so from the second token on the "distorted" logits are computed from the first branch's own
 *     cache (the image is not read again) and equal the first branch's: only the first token is
 *     contrasted. Off by default (each branch keeps its own cache, as the paper describes); on only
 *     to compare with numbers produced by the released code.
 */
public record VcdConfig(ContrastiveConfig contrast, int noiseStep, boolean referenceCacheReuse) {
  public static final VcdConfig DEFAULT = new VcdConfig(ContrastiveConfig.DEFAULT, 500, false);

  public VcdConfig {
    if (contrast == null) {
      throw new ContrastiveException("no contrastive configuration given");
    }
    DiffusionNoise.checkStep(noiseStep);
  }

  public VcdConfig withContrast(ContrastiveConfig c) {
    return new VcdConfig(c, noiseStep, referenceCacheReuse);
  }

  public VcdConfig withNoiseStep(int t) {
    return new VcdConfig(contrast, t, referenceCacheReuse);
  }

  public VcdConfig withReferenceCacheReuse(boolean on) {
    return new VcdConfig(contrast, noiseStep, on);
  }
}
