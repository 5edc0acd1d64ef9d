package dev.fovea.tensor;

import java.util.Arrays;

/**
 * Comparison of an op's float32 result with the naive double result. The allowed error of element
 * i is {@code atol + rtol * |want_i| + ctol * cond_i}, where {@code cond_i} is the sum of the
 * absolute values of the terms that produced it (for sums and products: the same computation on
 * |inputs|), so that cancellation does not demand impossible accuracy. A failure names the op,
 * "forward", the shapes/layouts, the worst element and the largest error.
 */
public final class Check {
  private Check() {}

  public static void close(String what, Tensor got, Naive.Arr want, double atol, double rtol) {
    close(what, got, want, null, atol, rtol, 0);
  }

  public static void close(String what, Tensor got, Naive.Arr want, Naive.Arr cond, double atol, double rtol, double ctol) {
    if (!Arrays.equals(got.shape(), want.shape())) {
      throw new AssertionError(what + ": forward shape " + Arrays.toString(got.shape()) + ", expected " + Arrays.toString(want.shape()));
    }
    float[] g = got.toFloatArray();
    double worst = 0;
    int worstAt = -1;
    double worstRatio = 0;
    for (int i = 0; i < g.length; i++) {
      double w = want.v()[i];
      double err;
      if (Double.isInfinite(w) || Double.isNaN(w)) {
        err = (g[i] == w || (Double.isNaN(w) && Float.isNaN(g[i]))) ? 0 : Double.POSITIVE_INFINITY;
      } else {
        err = Math.abs(g[i] - w);
        if (Double.isNaN(err)) {
          err = Double.POSITIVE_INFINITY;
        }
      }
      double bound = atol + rtol * Math.abs(w) + (cond == null ? 0 : ctol * cond.v()[i]);
      double ratio = err / bound;
      if (ratio > worstRatio || worstAt < 0) {
        worstRatio = ratio;
        worst = err;
        worstAt = i;
      }
    }
    if (worstRatio > 1) {
      int[] idx = Naive.unflat(want.shape(), worstAt);
      throw new AssertionError(String.format(
          "%s: forward error %.3g at %s (got %s, want %s) exceeds the bound atol %.1g + rtol %.1g*|want| + ctol %.1g*cond; output shape %s",
          what, worst, Arrays.toString(idx), g[worstAt], want.v()[worstAt], atol, rtol, ctol, Arrays.toString(want.shape())));
    }
  }

  /** Bitwise equality (determinism, fused twins that must agree exactly). */
  public static void identical(String what, Tensor a, Tensor b) {
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new AssertionError(what + ": shapes " + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
    }
    for (int i = 0; i < x.length; i++) {
      if (Float.floatToIntBits(x[i]) != Float.floatToIntBits(y[i])) {
        throw new AssertionError(what + ": element " + i + " differs: " + x[i] + " vs " + y[i] + " (shape " + Arrays.toString(a.shape()) + ")");
      }
    }
  }
}
