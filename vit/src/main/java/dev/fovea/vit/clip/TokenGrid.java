package dev.fovea.vit.clip;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;

/**
 * Edits of a ViT token sequence [1 + g*g, D] (row 0 CLS, then the g x g patches row-major) in the
 * space of its patch grid (spec methods-abs-agla.md A.6 step 3): a window of cells resized back to
 * the full grid with PyTorch's tensor bicubic ({@code F.interpolate(mode="bicubic",
 * align_corners=False)}: source {@code (o + 0.5) * in / out - 0.5} unclamped, Keys cubic a = -0.75,
 * taps clamped to the border, rows and columns scaled independently; not PIL's antialiased bicubic),
 * the original CLS row kept. No position is re-added.
 */
public final class TokenGrid {
  private TokenGrid() {}

  /** A window of grid cells: rows [r0, r1), columns [c0, c1). */
  public record Window(int r0, int c0, int r1, int c1) {
    public int height() {
      return r1 - r0;
    }

    public int width() {
      return c1 - c0;
    }
  }

  /**
   * grid [h, w, D] resized to [oh, ow, D] per channel with PyTorch's bicubic (align_corners=False),
   * separably (rows, then columns) on the token layout, D contiguous, with the Keys weights computed
   * in double and rounded to float as {@link Ops#interpolate}'s interpolation matrices are (whose
   * results it matches to float rounding). PyTorch evaluates the weights in float32, where {@code
   * cc2(t + 1)} loses about 2e-7 to cancellation, so the two agree to about 1e-6 of the grid's largest
   * magnitude, not to the last bit ({@code TokenGridTest} measures it). Not differentiable; the result
   * is a new tensor in the current scope.
   */
  public static Tensor resize(Tensor grid, int oh, int ow) {
    if (grid.dim() != 3 || oh < 1 || ow < 1) {
      throw new ShapeException("token grid " + Arrays.toString(grid.shape()) + " must be [h, w, D] and the output size positive ("
          + oh + ", " + ow + ")");
    }
    int h = grid.size(0);
    int w = grid.size(1);
    int d = grid.size(2);
    return Tensor.of(resize(grid.contiguous().toFloatArray(), h, w, d, oh, ow), oh, ow, d);
  }

  /** As {@link #resize(Tensor, int, int)} on a row-major [h, w, D] array; returns [oh, ow, D]. */
  public static float[] resize(float[] x, int h, int w, int d, int oh, int ow) {
    float[] wy = weights(h, oh); // [oh, h]
    float[] wx = weights(w, ow); // [ow, w]
    float[] rows = new float[oh * w * d]; // [oh, w, D]
    for (int oy = 0; oy < oh; oy++) {
      for (int iy = 0; iy < h; iy++) {
        float c = wy[oy * h + iy];
        if (c == 0) {
          continue;
        }
        for (int ix = 0; ix < w; ix++) {
          int src = (iy * w + ix) * d;
          int dst = (oy * w + ix) * d;
          for (int k = 0; k < d; k++) {
            rows[dst + k] += c * x[src + k];
          }
        }
      }
    }
    float[] out = new float[oh * ow * d];
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        int dst = (oy * ow + ox) * d;
        for (int ix = 0; ix < w; ix++) {
          float c = wx[ox * w + ix];
          if (c == 0) {
            continue;
          }
          int src = (oy * w + ix) * d;
          for (int k = 0; k < d; k++) {
            out[dst + k] += c * rows[src + k];
          }
        }
      }
    }
    return out;
  }

  /**
   * Interpolation matrix [out, in] of PyTorch's bicubic, align_corners=False: source {@code (o + 0.5)
   * * in / out - 0.5}, taps i-1..i+2 clamped to the border (clamped taps add up), Keys a = -0.75;
   * computed in double, stored as float.
   */
  static float[] weights(int in, int out) {
    double[] m = new double[out * in];
    double scale = (double) in / out;
    for (int o = 0; o < out; o++) {
      double src = (o + 0.5) * scale - 0.5;
      int i = (int) Math.floor(src);
      double t = src - i;
      double[] c = {cc2(t + 1), cc1(t), cc1(1 - t), cc2(2 - t)};
      for (int k = 0; k < 4; k++) {
        m[o * in + Math.max(0, Math.min(in - 1, i - 1 + k))] += c[k];
      }
    }
    float[] f = new float[m.length];
    for (int i = 0; i < m.length; i++) {
      f[i] = (float) m[i];
    }
    return f;
  }

  private static final double A = -0.75;

  // |x| <= 1: ((A + 2) x - (A + 3)) x x + 1
  private static double cc1(double x) {
    return ((A + 2) * x - (A + 3)) * x * x + 1;
  }

  // 1 < |x| < 2: ((A x - 5A) x + 8A) x - 4A
  private static double cc2(double x) {
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  }

  /**
   * The sequence whose patches are {@code window} of {@code tokens} [1 + g*g, D] resized to g x g,
   * behind the original CLS row: [1 + g*g, D].
   */
  public static Tensor cropResize(Tensor tokens, int g, Window window) {
    if (tokens.dim() != 2 || tokens.size(0) != 1 + g * g) {
      throw new ShapeException("token sequence " + Arrays.toString(tokens.shape()) + " must be [1 + " + g + "*" + g + ", D]");
    }
    int d = tokens.size(1);
    float[] out = new float[(1 + g * g) * d];
    cropResize(tokens.contiguous().toFloatArray(), g, d, window, out, 0);
    return Tensor.of(out, 1 + g * g, d);
  }

  /**
   * As {@link #cropResize(Tensor, int, Window)} on a row-major [1 + g*g, D] array, written into
   * {@code out} at {@code offset} (so a batch of edited sequences is built in one array).
   */
  public static void cropResize(float[] tokens, int g, int d, Window window, float[] out, int offset) {
    if (window.r0() < 0 || window.c0() < 0 || window.r1() > g || window.c1() > g || window.height() <= 0 || window.width() <= 0) {
      throw new ShapeException("window " + window + " is not inside the " + g + " x " + g + " grid");
    }
    if (tokens.length != (1 + g * g) * d || out.length - offset < (1 + g * g) * d) {
      throw new ShapeException("token arrays of " + tokens.length + " and " + (out.length - offset) + " floats for [1 + " + g + "*" + g + ", " + d + "]");
    }
    int wh = window.height();
    int ww = window.width();
    float[] sub = new float[wh * ww * d];
    for (int r = 0; r < wh; r++) {
      System.arraycopy(tokens, (1 + (window.r0() + r) * g + window.c0()) * d, sub, r * ww * d, ww * d);
    }
    float[] resized = resize(sub, wh, ww, d, g, g);
    System.arraycopy(tokens, 0, out, offset, d); // the original CLS row
    System.arraycopy(resized, 0, out, offset + d, g * g * d);
  }
}
