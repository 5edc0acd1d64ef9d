package dev.fovea.tensor.ops;

import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;

/**
 * Resizing of the last two dimensions as torch.nn.functional.interpolate does (no antialiasing):
 * bilinear and bicubic (A = -0.75, indices clamped at the border), align_corners either way. Both
 * are separable linear maps, so the op is R_h x R_w^T with interpolation matrices and autograd
 * comes from matmul.
 */
public final class Interpolate {
  private Interpolate() {}

  public enum Mode {
    BILINEAR,
    BICUBIC
  }

  /** x [..., H, W] to [..., outH, outW]. */
  public static Tensor interpolate(Tensor x, int outH, int outW, Mode mode, boolean alignCorners) {
    if (x.dim() < 2 || outH < 1 || outW < 1) {
      throw ShapeException.of("interpolate", "needs [..., H, W] input and positive output sizes (" + outH + ", " + outW + ")", x.shape());
    }
    int h = x.size(-2);
    int w = x.size(-1);
    Tensor rh = matrix(h, outH, mode, alignCorners); // [outH, H]
    Tensor rw = matrix(w, outW, mode, alignCorners); // [outW, W]
    return Matmul.matmul(Matmul.matmul(rh, x), Views.transpose(rw, 0, 1));
  }

  /** Interpolation matrix [out, in]: row o holds the weights of the input samples of output o. */
  static Tensor matrix(int in, int out, Mode mode, boolean alignCorners) {
    double[] m = new double[out * in];
    double scale = alignCorners ? (out > 1 ? (in - 1.0) / (out - 1.0) : 0.0) : (double) in / out;
    for (int o = 0; o < out; o++) {
      double src = alignCorners ? o * scale : (o + 0.5) * scale - 0.5;
      if (mode == Mode.BILINEAR) {
        if (!alignCorners && src < 0) {
          src = 0;
        }
        int i0 = Math.min((int) Math.floor(src), in - 1);
        int i1 = i0 < in - 1 ? i0 + 1 : i0;
        double l1 = src - i0;
        m[o * in + i0] += 1 - l1;
        m[o * in + i1] += l1;
      } else {
        int i = (int) Math.floor(src);
        double t = src - i;
        double[] c = cubicCoefficients(t);
        for (int k = 0; k < 4; k++) {
          int idx = Math.max(0, Math.min(in - 1, i - 1 + k));
          m[o * in + idx] += c[k];
        }
      }
    }
    float[] f = new float[m.length];
    for (int i = 0; i < m.length; i++) {
      f[i] = (float) m[i];
    }
    return Tensor.of(f, out, in);
  }

  private static double[] cubicCoefficients(double t) {
    double a = -0.75;
    return new double[] {cc2(t + 1, a), cc1(t, a), cc1(1 - t, a), cc2(2 - t, a)};
  }

  // |x| <= 1
  private static double cc1(double x, double a) {
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  }

  // 1 < |x| < 2
  private static double cc2(double x, double a) {
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  }
}
