package dev.fovea.llm.generate;

import java.util.SplittableRandom;

/**
 * Uniform draws in [0, 1) for a {@link Sampler}: seeded ({@link SplittableRandom}, so a sampled run
 * repeats exactly) or supplied by the caller (to replay a reference's recorded draws).
 */
@FunctionalInterface
public interface Uniforms {
  double next();

  static Uniforms seeded(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    return r::nextDouble;
  }

  /** The given draws in order; asking for more than given is an error. */
  static Uniforms of(double... draws) {
    double[] d = draws.clone();
    int[] i = {0};
    return () -> {
      if (i[0] >= d.length) {
        throw new IllegalStateException("Uniforms.of: all " + d.length + " supplied draws are used");
      }
      return d[i[0]++];
    };
  }
}
