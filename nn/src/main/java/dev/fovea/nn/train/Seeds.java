package dev.fovea.nn.train;

/** Seeds derived from a run's seed and a position (SplitMix64's finalizer), so no random state needs saving. */
final class Seeds {
  private Seeds() {}

  /** A well-mixed 64-bit seed from {@code seed}, a purpose tag and a position. */
  static long mix(long seed, long tag, long position) {
    return fmix(fmix(seed ^ fmix(tag)) + 0x9E3779B97F4A7C15L * (position + 1));
  }

  private static long fmix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
