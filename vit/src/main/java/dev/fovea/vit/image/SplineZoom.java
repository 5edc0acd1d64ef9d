package dev.fovea.vit.image;

/**
 * Cubic B-spline resizing of a float64 map as scikit-image's {@code transform.resize(order=3,
 * mode="constant")} computes it: {@code scipy.ndimage.zoom(order=3, mode="grid-constant",
 * grid_mode=True, cval=0)}, then a clip to the input's range (spec methods-abs-agla.md B.6.2; LAVIS
 * {@code getAttMap}). Shapes: an h x w input, an outH x outW output, row-major.
 *
 * <ol>
 *   <li>Pad the input with {@value #PAD} zeros on every side (scipy's fixed pre-pad for the
 *       grid-constant mode).
 *   <li>Cubic B-spline coefficients along each axis with the mirror boundary: the recursive filter
 *       of pole z = sqrt(3) - 2 and gain (1 - z)(1 - 1/z) = 6 (Unser 1999, scipy ni_splines.c).
 *   <li>Evaluate at source coordinate x = (o + 0.5) in/out - 0.5 + PAD on each axis: sum over the
 *       four nearest k of c[k] beta3(x - k), beta3 the cubic B-spline.
 *   <li>Clip to [min(0, min in), max(0, max in)] (the input range together with cval 0).
 * </ol>
 */
public final class SplineZoom {
  /** scipy's pre-pad ({@code npad = 12}) for modes whose spline filter needs room. */
  public static final int PAD = 12;
  /** The pole of the cubic B-spline prefilter. */
  public static final double POLE = Math.sqrt(3) - 2;

  private SplineZoom() {}

  /** The resized map [outH * outW] of {@code in} [h * w]. */
  public static double[] resize(double[] in, int h, int w, int outH, int outW) {
    if (h <= 0 || w <= 0 || outH <= 0 || outW <= 0 || in.length != h * w) {
      throw new IllegalArgumentException("SplineZoom: " + in.length + " values for " + h + "x" + w + " -> " + outH + "x" + outW);
    }
    int ph = h + 2 * PAD;
    int pw = w + 2 * PAD;
    double[] c = new double[ph * pw]; // padded, then coefficients
    double lo = 0;
    double hi = 0;
    for (int i = 0; i < h; i++) {
      for (int j = 0; j < w; j++) {
        double v = in[i * w + j];
        c[(i + PAD) * pw + j + PAD] = v;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    double[] line = new double[Math.max(ph, pw)];
    for (int j = 0; j < pw; j++) { // along axis 0
      for (int i = 0; i < ph; i++) {
        line[i] = c[i * pw + j];
      }
      coefficients(line, ph);
      for (int i = 0; i < ph; i++) {
        c[i * pw + j] = line[i];
      }
    }
    for (int i = 0; i < ph; i++) { // along axis 1
      System.arraycopy(c, i * pw, line, 0, pw);
      coefficients(line, pw);
      System.arraycopy(line, 0, c, i * pw, pw);
    }
    // separable evaluation: first index k0 and four weights per output row and column
    int[] r0 = new int[outH];
    double[][] rw = new double[outH][];
    for (int o = 0; o < outH; o++) {
      double x = (o + 0.5) * h / outH - 0.5 + PAD;
      r0[o] = (int) Math.floor(x) - 1;
      rw[o] = weights(x, r0[o]);
    }
    int[] c0 = new int[outW];
    double[][] cw = new double[outW][];
    for (int o = 0; o < outW; o++) {
      double x = (o + 0.5) * w / outW - 0.5 + PAD;
      c0[o] = (int) Math.floor(x) - 1;
      cw[o] = weights(x, c0[o]);
    }
    double[] out = new double[outH * outW];
    for (int oi = 0; oi < outH; oi++) {
      for (int oj = 0; oj < outW; oj++) {
        double s = 0;
        for (int a = 0; a < 4; a++) {
          int row = (r0[oi] + a) * pw;
          double t = 0;
          for (int b = 0; b < 4; b++) {
            t += c[row + c0[oj] + b] * cw[oj][b];
          }
          s += t * rw[oi][a];
        }
        out[oi * outW + oj] = Math.min(hi, Math.max(lo, s));
      }
    }
    return out;
  }

  /** beta3(x - k) for k = k0 .. k0 + 3. */
  static double[] weights(double x, int k0) {
    double[] wt = new double[4];
    for (int a = 0; a < 4; a++) {
      wt[a] = beta3(x - (k0 + a));
    }
    return wt;
  }

  /** The cubic B-spline: 2/3 - |x|^2 + |x|^3/2 on [0, 1), (2 - |x|)^3 / 6 on [1, 2), 0 beyond. */
  public static double beta3(double x) {
    double a = Math.abs(x);
    if (a < 1) {
      return 2.0 / 3 - a * a + a * a * a / 2;
    }
    if (a < 2) {
      double b = 2 - a;
      return b * b * b / 6;
    }
    return 0;
  }

  /**
   * In place: the samples s[0..n) become the cubic B-spline coefficients c with s[k] = (c[k-1] +
   * 4 c[k] + c[k+1]) / 6 under the mirror boundary (c[-1] = c[1], c[n] = c[n-2]).
   */
  public static void coefficients(double[] s, int n) {
    if (n == 1) {
      return;
    }
    double z = POLE;
    double gain = (1 - z) * (1 - 1 / z);
    for (int i = 0; i < n; i++) {
      s[i] *= gain;
    }
    // causal initial value, mirror boundary: sum over the mirrored signal of z^k s[k]
    double zn1 = Math.pow(z, n - 1);
    double zi = z;
    double c0 = s[0] + zn1 * s[n - 1];
    for (int i = 1; i < n - 1; i++) {
      c0 += zi * (s[i] + zn1 * s[n - 1 - i]);
      zi *= z;
    }
    s[0] = c0 / (1 - zn1 * zn1);
    for (int i = 1; i < n; i++) {
      s[i] += z * s[i - 1];
    }
    // anti-causal initial value, mirror boundary
    s[n - 1] = z / (z * z - 1) * (z * s[n - 2] + s[n - 1]);
    for (int i = n - 2; i >= 0; i--) {
      s[i] = z * (s[i + 1] - s[i]);
    }
  }
}
