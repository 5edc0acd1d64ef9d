package dev.fovea.vit.image;

/**
 * {@code scipy.ndimage.gaussian_filter(x, sigma)} of a float64 map with scipy's defaults (spec
 * methods-abs-agla.md B.6.3; LAVIS {@code getAttMap} blurs with sigma = 0.02 * max(H, W)): separable,
 * axis 0 then axis 1, each a correlation with weights exp(-x^2 / 2 sigma^2), x in [-r, r], r =
 * int(4 sigma + 0.5), normalized to sum 1, and the {@code reflect} boundary (half-sample symmetric:
 * d c b a | a b c d | d c b a).
 */
public final class GaussianBlur {
  private GaussianBlur() {}

  /** scipy's radius for truncate 4: int(4 sigma + 0.5). */
  public static int radius(double sigma) {
    return (int) (4.0 * sigma + 0.5);
  }

  /** The normalized kernel [2r + 1]. */
  public static double[] kernel(double sigma) {
    if (!(sigma > 0) || !Double.isFinite(sigma)) {
      throw new IllegalArgumentException("GaussianBlur: sigma must be positive and finite, got " + sigma);
    }
    int r = radius(sigma);
    double[] k = new double[2 * r + 1];
    double sum = 0;
    for (int i = -r; i <= r; i++) {
      k[i + r] = Math.exp(-0.5 * i * i / (sigma * sigma));
      sum += k[i + r];
    }
    for (int i = 0; i < k.length; i++) {
      k[i] /= sum;
    }
    return k;
  }

  /** scipy's {@code reflect} index of i into [0, n). */
  public static int reflect(int i, int n) {
    int period = 2 * n;
    int m = Math.floorMod(i, period);
    return m < n ? m : period - 1 - m;
  }

  /** The blurred map [h * w] of {@code in} [h * w]. */
  public static double[] blur(double[] in, int h, int w, double sigma) {
    if (h <= 0 || w <= 0 || in.length != h * w) {
      throw new IllegalArgumentException("GaussianBlur: " + in.length + " values for " + h + "x" + w);
    }
    double[] k = kernel(sigma);
    int r = k.length / 2;
    double[] tmp = new double[h * w];
    for (int i = 0; i < h; i++) { // axis 0
      for (int j = 0; j < w; j++) {
        double s = 0;
        for (int d = -r; d <= r; d++) {
          s += k[d + r] * in[reflect(i + d, h) * w + j];
        }
        tmp[i * w + j] = s;
      }
    }
    double[] out = new double[h * w];
    for (int i = 0; i < h; i++) { // axis 1
      for (int j = 0; j < w; j++) {
        double s = 0;
        for (int d = -r; d <= r; d++) {
          s += k[d + r] * tmp[i * w + reflect(j + d, w)];
        }
        out[i * w + j] = s;
      }
    }
    return out;
  }
}
