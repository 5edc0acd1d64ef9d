package dev.fovea.methods.scenes;

import java.util.List;

/**
 * The generator's random numbers: SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014), written out here so that a seed gives the same scenes on every JDK
 * ({@code java.util.SplittableRandom} does not promise its algorithm). Integer arithmetic only.
 */
final class SceneRandom {
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;

  private long state;

  SceneRandom(long seed) {
    this.state = seed;
  }

  /** The generator of scene {@code index} of the stream {@code seed}: independent of every other scene's. */
  static SceneRandom forScene(long seed, long index) {
    return new SceneRandom(mix(mix(seed) + GOLDEN_GAMMA * (index + 1)));
  }

  /** SplitMix64's finalizer (Stafford's variant 13): a bijection of 64-bit values that scatters nearby inputs. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  long nextLong() {
    state += GOLDEN_GAMMA;
    return mix(state);
  }

  /** Uniform in [0, bound), by the multiply-shift of the top 32 bits (bias below bound / 2^32). */
  int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive, got " + bound);
    }
    return (int) (((nextLong() >>> 32) * bound) >>> 32);
  }

  /** Uniform in [lo, hi], both included. */
  int between(int lo, int hi) {
    return lo + nextInt(hi - lo + 1);
  }

  /** Uniform in [0, 1), 53 bits. */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [lo, hi). */
  double between(double lo, double hi) {
    return lo + (hi - lo) * nextDouble();
  }

  boolean nextBoolean() {
    return nextLong() < 0;
  }

  /** True with probability {@code p}. */
  boolean chance(double p) {
    return nextDouble() < p;
  }

  <T> T pick(List<T> items) {
    return items.get(nextInt(items.size()));
  }

  char pick(String chars) {
    return chars.charAt(nextInt(chars.length()));
  }

  /** Fisher-Yates, in place. */
  <T> void shuffle(List<T> items) {
    for (int i = items.size() - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      T t = items.get(i);
      items.set(i, items.get(j));
      items.set(j, t);
    }
  }
}
