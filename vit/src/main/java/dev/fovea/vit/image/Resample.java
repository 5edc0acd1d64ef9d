package dev.fovea.vit.image;

/**
 * PIL's {@code Image.resize(size, filter, reducing_gap=None)} on 8-bit RGB, re-implemented exactly
 * (python-pillow/Pillow {@code src/libImaging/Resample.c}, unchanged from 7.x to 12.x; spec 8.2):
 *
 * <ol>
 *   <li>two separable passes, horizontal first (only if the width changes) into an 8-bit intermediate,
 *       then vertical (only if the height changes);
 *   <li>per pass, {@code scale = in / out}, {@code filterscale = max(scale, 1)}, {@code support =
 *       filter.support · filterscale}: downscaling widens the kernel (antialiasing);
 *   <li>output index x takes inputs [xmin, xmax) around {@code center = (x + 0.5) · scale}, weighted by
 *       {@code K((i − center + 0.5) · (1 / filterscale))}, normalised to sum 1 in double;
 *   <li>weights become 22-bit fixed point rounded half away from zero, the sum starts at 2²¹ (rounding),
 *       is shifted right by 22 and clamped to [0, 255].
 * </ol>
 *
 * The expressions are kept in PIL's order of evaluation: a reordered double expression can move a
 * weight across a rounding boundary and change a pixel.
 */
public final class Resample {
  /** PIL's separable filters, with their {@code Image.Resampling} codes (NEAREST = 0 is not here). */
  public enum Filter {
    LANCZOS(1, 3.0),
    BILINEAR(2, 1.0),
    BICUBIC(3, 2.0),
    BOX(4, 0.5),
    HAMMING(5, 1.0);

    /** The integer PIL and HF configs use ({@code "resample": 3} is BICUBIC). */
    public final int pilCode;
    /** Half-width of the kernel at scale 1. */
    public final double support;

    Filter(int pilCode, double support) {
      this.pilCode = pilCode;
      this.support = support;
    }

    public static Filter fromPil(int code) {
      for (Filter f : values()) {
        if (f.pilCode == code) {
          return f;
        }
      }
      throw new IllegalArgumentException("resample " + code + (code == 0 ? " (NEAREST)" : "")
          + " is not supported; use 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX or 5 HAMMING");
    }

    /** The kernel, as written in Resample.c. */
    double kernel(double x) {
      return switch (this) {
        case BOX -> (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
        case BILINEAR -> {
          if (x < 0.0) {
            x = -x;
          }
          yield x < 1.0 ? 1.0 - x : 0.0;
        }
        case HAMMING -> {
          if (x < 0.0) {
            x = -x;
          }
          if (x == 0.0) {
            yield 1.0;
          }
          if (x >= 1.0) {
            yield 0.0;
          }
          x = x * Math.PI;
          // the constants are C floats (0.54f, 0.46f) in Resample.c
          yield Math.sin(x) / x * ((double) 0.54f + (double) 0.46f * Math.cos(x));
        }
        case BICUBIC -> {
          // Keys cubic with a = -0.5
          final double a = -0.5;
          if (x < 0.0) {
            x = -x;
          }
          if (x < 1.0) {
            yield ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
          }
          if (x < 2.0) {
            yield (((x - 5) * x + 8) * x - 4) * a;
          }
          yield 0.0;
        }
        case LANCZOS -> (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0;
      };
    }

    private static double sinc(double x) {
      if (x == 0.0) {
        return 1.0;
      }
      x = x * Math.PI;
      return Math.sin(x) / x;
    }
  }

  static final int PRECISION_BITS = 32 - 8 - 2;

  private Resample() {}

  /** {@code Image.resize((width, height), filter)}; the same size returns the image itself (PIL copies). */
  public static RgbImage resize(RgbImage in, int width, int height, Filter filter) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("resize of " + in + " to " + width + "x" + height + ": size must be positive");
    }
    RgbImage cur = in;
    if (width != in.width()) {
      cur = horizontal(cur, width, filter);
    }
    if (height != in.height()) {
      cur = vertical(cur, height, filter);
    }
    return cur;
  }

  /** Fixed-point weights of one pass: for output i, {@code k[i * ksize .. + size[i])} apply from {@code start[i]}. */
  record Coeffs(int ksize, int[] start, int[] size, int[] k) {}

  /** precompute_coeffs + normalize_coeffs_8bpc of Resample.c, for the box [0, inSize). */
  static Coeffs coeffs(int inSize, int outSize, Filter filter) {
    double scale = (double) inSize / outSize;
    double filterscale = Math.max(scale, 1.0);
    double support = filter.support * filterscale;
    int ksize = (int) Math.ceil(support) * 2 + 1;
    int[] start = new int[outSize];
    int[] size = new int[outSize];
    int[] k = new int[outSize * ksize];
    double[] w = new double[ksize];
    double ss = 1.0 / filterscale;
    for (int xx = 0; xx < outSize; xx++) {
      double center = (xx + 0.5) * scale;
      int xmin = Math.max((int) (center - support + 0.5), 0);
      int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
      double ww = 0.0;
      for (int x = 0; x < xmax; x++) {
        w[x] = filter.kernel((x + xmin - center + 0.5) * ss);
        ww += w[x];
      }
      for (int x = 0; x < xmax; x++) {
        double v = ww != 0.0 ? w[x] / ww : w[x];
        // round half away from zero, as the C casts do
        k[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
      }
      start[xx] = xmin;
      size[xx] = Math.max(xmax, 0);
    }
    return new Coeffs(ksize, start, size, k);
  }

  /** clip8 of Resample.c: shift out the fraction and clamp to [0, 255]. */
  static int clip8(int acc) {
    if (acc >= (1 << PRECISION_BITS << 8)) {
      return 255;
    }
    if (acc <= 0) {
      return 0;
    }
    return acc >> PRECISION_BITS;
  }

  private static RgbImage horizontal(RgbImage in, int outW, Filter filter) {
    int inW = in.width();
    int h = in.height();
    Coeffs c = coeffs(inW, outW, filter);
    byte[] src = in.raw();
    byte[] dst = new byte[Math.multiplyExact(3, Math.multiplyExact(outW, h))];
    for (int y = 0; y < h; y++) {
      int rowIn = 3 * y * inW;
      int rowOut = 3 * y * outW;
      for (int xx = 0; xx < outW; xx++) {
        int kOff = xx * c.ksize;
        int xmin = c.start[xx];
        int n = c.size[xx];
        int r = 1 << (PRECISION_BITS - 1);
        int g = r;
        int b = r;
        for (int x = 0; x < n; x++) {
          int kw = c.k[kOff + x];
          int p = rowIn + 3 * (xmin + x);
          r += (src[p] & 0xFF) * kw;
          g += (src[p + 1] & 0xFF) * kw;
          b += (src[p + 2] & 0xFF) * kw;
        }
        int o = rowOut + 3 * xx;
        dst[o] = (byte) clip8(r);
        dst[o + 1] = (byte) clip8(g);
        dst[o + 2] = (byte) clip8(b);
      }
    }
    return RgbImage.wrap(outW, h, dst);
  }

  private static RgbImage vertical(RgbImage in, int outH, Filter filter) {
    int w = in.width();
    int inH = in.height();
    Coeffs c = coeffs(inH, outH, filter);
    byte[] src = in.raw();
    byte[] dst = new byte[Math.multiplyExact(3, Math.multiplyExact(w, outH))];
    int stride = 3 * w;
    for (int yy = 0; yy < outH; yy++) {
      int kOff = yy * c.ksize;
      int ymin = c.start[yy];
      int n = c.size[yy];
      int rowOut = yy * stride;
      for (int i = 0; i < stride; i++) {
        int acc = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < n; y++) {
          acc += (src[(ymin + y) * stride + i] & 0xFF) * c.k[kOff + y];
        }
        dst[rowOut + i] = (byte) clip8(acc);
      }
    }
    return RgbImage.wrap(w, outH, dst);
  }
}
