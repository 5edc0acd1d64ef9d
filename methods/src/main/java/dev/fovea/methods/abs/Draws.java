package dev.fovea.methods.abs;

import java.util.SplittableRandom;

/**
 * The random choices ABS makes, in the order it makes them: for the raw crops one multinomial draw
 * of the centres, then per crop a width and a height; for the feature crops another multinomial
 * draw, then per crop a window size. {@link #seeded} is the engine's generator; tests replay the
 * reference's recorded draws through the same interface.
 */
public interface Draws {
  /** {@code n} indices drawn with replacement from the categorical distribution {@code probs} (torch.multinomial). */
  int[] multinomial(float[] probs, int n);

  /** A uniform integer in [lo, hi], both inclusive (Python's random.randint). */
  int randint(int lo, int hi);

  /** A seeded generator (SplittableRandom): the same seed gives the same crops. */
  static Draws seeded(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    return new Draws() {
      @Override
      public int[] multinomial(float[] probs, int n) {
        double[] cdf = new double[probs.length];
        double total = 0;
        for (int i = 0; i < probs.length; i++) {
          if (!(probs[i] >= 0) || !Float.isFinite(probs[i])) {
            throw new AbsException("ABS: sampling weight " + i + " is " + probs[i] + " (weights must be finite and >= 0)");
          }
          total += probs[i];
          cdf[i] = total;
        }
        if (!(total > 0)) {
          throw new AbsException("ABS: all sampling weights are zero");
        }
        int[] out = new int[n];
        for (int k = 0; k < n; k++) {
          double u = rng.nextDouble() * total;
          int i = 0;
          while (i < cdf.length - 1 && cdf[i] <= u) {
            i++;
          }
          while (i > 0 && probs[i] == 0) { // never land on a zero weight through rounding at the end
            i--;
          }
          out[k] = i;
        }
        return out;
      }

      @Override
      public int randint(int lo, int hi) {
        if (lo > hi) {
          throw new AbsException("ABS: randint(" + lo + ", " + hi + ") has an empty range");
        }
        return lo + rng.nextInt(hi - lo + 1);
      }
    };
  }
}
