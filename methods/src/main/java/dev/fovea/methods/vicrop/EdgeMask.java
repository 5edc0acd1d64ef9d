package dev.fovea.methods.vicrop;

import dev.fovea.vit.image.Resample;
import dev.fovea.vit.image.RgbImage;
import java.util.Arrays;

/**
 * The edge mask of ViCrop's pure-grad map and its post-processing (saccharomycetes/mllms_know
 * {@code utils.py} {@code high_pass_filter(image, 336, km=7, kh=3, reduce=False)} and the end of
 * {@code llava_methods.py} {@code pure_gradient_llava}; spec {@code methods-vicrop-avc-vcd.md}
 * 1.3.3), from the documented semantics of the library calls the reference makes:
 *
 * <ol>
 *   <li>torchvision {@code TF.resize(pil, (res, res))}: PIL's bilinear resize with its antialiasing
 *       support, aspect not kept ({@link Resample}, which matches PIL to the pixel).
 *   <li>{@code TF.to_tensor}: each channel value / 255 in float32.
 *   <li>{@code TF.gaussian_blur(kernel_size=k)}: sigma = 0.3 · ((k − 1) · 0.5 − 1) + 0.8 (0.8 for k
 *       = 3), the 1-D kernel {@code exp(-0.5 (x / sigma)²)} over {@code x = linspace(-(k−1)/2,
 *       (k−1)/2, k)} normalised to sum 1, the 2-D kernel its outer product (float32), per channel,
 *       over a {@code reflect} padding of k / 2 (torch's reflect: the edge sample is not repeated,
 *       {@code c b | a b c}).
 *   <li>High pass {@code D = image − blur}; magnitude {@code E = sqrt(D_r² + D_g² + D_b²)} in float32.
 *   <li>scipy {@code ndimage.median_filter(E, size=km)} with scipy's default mode {@code reflect}
 *       (the edge sample IS repeated, {@code b a | a b c}; note the two libraries' "reflect" differ).
 *   <li>numpy {@code E > np.median(E)}: the threshold is the mean of the two middle values for an
 *       even count, {@code (a + b) / 2} in float32.
 * </ol>
 *
 * <p>Numerics: the blur accumulates its k² products in double and rounds once, where torch's conv2d
 * sums in float32 in its own order, so magnitudes can differ from the reference by a few float32
 * ulps; the median filter picks one of its inputs, so it adds no error. A mask bit can therefore
 * differ from the reference only where a value lies within such a difference of the threshold.
 * {@link #blockMean} accumulates in double where numpy's float32 mean accumulates in float32.
 */
public final class EdgeMask {
  /** LLaVA-1.5's input size: the mask is computed on a 336 x 336 resize. */
  public static final int DEFAULT_RESOLUTION = 336;
  /** The reference's {@code km}. */
  public static final int DEFAULT_MEDIAN_KERNEL = 7;
  /** The reference's {@code kh}. */
  public static final int DEFAULT_BLUR_KERNEL = 3;
  /** LLaVA-1.5's patch size: pure-grad pools 14 x 14 pixel blocks into one map cell. */
  public static final int DEFAULT_BLOCK = 14;

  private EdgeMask() {}

  /**
   * A mask and what it was cut from.
   *
   * @param resolution side of the square the mask covers
   * @param mask row-major {@code resolution²} flags, true where {@code filtered > threshold}
   * @param filtered the median-filtered high-pass magnitudes, row-major
   * @param threshold the median of {@code filtered}
   */
  public record Result(int resolution, boolean[] mask, float[] filtered, float threshold) {
    public Result {
      mask = mask.clone();
      filtered = filtered.clone();
    }

    /** A copy of the mask. */
    @Override
    public boolean[] mask() {
      return mask.clone();
    }

    /** A copy of the filtered magnitudes. */
    @Override
    public float[] filtered() {
      return filtered.clone();
    }

    /** Number of pixels in the mask. */
    public int count() {
      int n = 0;
      for (boolean b : mask) {
        n += b ? 1 : 0;
      }
      return n;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Result r && r.resolution == resolution && Arrays.equals(r.mask, mask) && Arrays.equals(r.filtered, filtered)
          && Float.compare(r.threshold, threshold) == 0;
    }

    @Override
    public int hashCode() {
      return 31 * (31 * resolution + Arrays.hashCode(mask)) + Arrays.hashCode(filtered);
    }

    @Override
    public String toString() {
      return "EdgeMask.Result[" + resolution + " x " + resolution + ", " + count() + " pixels, threshold " + threshold + "]";
    }
  }

  /** The mask with the reference's settings: 336 px, median 7, blur 3. */
  public static Result compute(RgbImage image) {
    return compute(image, DEFAULT_RESOLUTION, DEFAULT_MEDIAN_KERNEL, DEFAULT_BLUR_KERNEL);
  }

  /**
   * The edge mask of {@code image} at {@code resolution} x {@code resolution}.
   *
   * @throws ViCropException for kernels that are not odd and positive, or a resolution smaller than
   *     the median kernel
   */
  public static Result compute(RgbImage image, int resolution, int medianKernel, int blurKernel) {
    checkKernel("median", medianKernel);
    checkKernel("blur", blurKernel);
    if (resolution < medianKernel || resolution <= blurKernel / 2) {
      throw new ViCropException("edge-mask resolution " + resolution + " must be at least the median kernel " + medianKernel
          + " and exceed half the blur kernel " + blurKernel);
    }
    RgbImage resized = Resample.resize(image, resolution, resolution, Resample.Filter.BILINEAR);
    float[] magnitude = highPassMagnitude(resized, blurKernel);
    float[] filtered = medianFilter(magnitude, resolution, resolution, medianKernel);
    float threshold = median(filtered);
    boolean[] mask = new boolean[filtered.length];
    for (int i = 0; i < mask.length; i++) {
      mask[i] = filtered[i] > threshold;
    }
    return new Result(resolution, mask, filtered, threshold);
  }

  /**
   * torchvision's 1-D Gaussian kernel for an odd {@code k} with its default sigma {@code 0.3 · ((k
   * − 1) · 0.5 − 1) + 0.8}, in float32 ({@code [0.2741, 0.4519, 0.2741]} for k = 3).
   */
  public static float[] gaussianKernel1d(int k) {
    checkKernel("blur", k);
    float sigma = (float) (0.3 * ((k - 1) * 0.5 - 1) + 0.8);
    int half = k / 2;
    float[] pdf = new float[k];
    float sum = 0;
    for (int i = 0; i < k; i++) {
      float t = (i - half) / sigma; // linspace(-half, half, k) is exactly i - half for odd k
      pdf[i] = (float) Math.exp(-0.5f * (t * t));
      sum += pdf[i];
    }
    for (int i = 0; i < k; i++) {
      pdf[i] /= sum;
    }
    return pdf;
  }

  /**
   * Per pixel, {@code sqrt(sum over channels of (x − blur(x))²)} with x = value / 255 and the
   * Gaussian blur of {@link #gaussianKernel1d} over torch reflect padding; row-major, the image's size.
   */
  public static float[] highPassMagnitude(RgbImage image, int blurKernel) {
    float[] k1 = gaussianKernel1d(blurKernel);
    int k = k1.length;
    int p = k / 2;
    int w = image.width();
    int h = image.height();
    if (w <= p || h <= p) {
      throw new ViCropException("a " + w + " x " + h + " image is too small for reflect padding of " + p);
    }
    float[] k2 = new float[k * k]; // torch.mm(k1[:, None], k1[None, :]) in float32
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        k2[i * k + j] = k1[i] * k1[j];
      }
    }
    float[][] x = new float[3][w * h];
    for (int y = 0; y < h; y++) {
      for (int xx = 0; xx < w; xx++) {
        for (int c = 0; c < 3; c++) {
          x[c][y * w + xx] = image.get(xx, y, c) / 255f;
        }
      }
    }
    float[] out = new float[w * h];
    for (int y = 0; y < h; y++) {
      for (int xx = 0; xx < w; xx++) {
        float sumSq = 0;
        for (int c = 0; c < 3; c++) {
          float[] ch = x[c];
          double blur = 0;
          for (int i = 0; i < k; i++) {
            int row = torchReflect(y + i - p, h) * w;
            for (int j = 0; j < k; j++) {
              blur += (double) k2[i * k + j] * ch[row + torchReflect(xx + j - p, w)];
            }
          }
          float d = ch[y * w + xx] - (float) blur;
          sumSq += d * d; // float32, channels in order, like numpy's sum(axis=0)
        }
        out[y * w + xx] = (float) Math.sqrt(sumSq);
      }
    }
    return out;
  }

  /**
   * scipy's {@code ndimage.median_filter(values, size=size, mode='reflect')} on a row-major {@code h}
   * x {@code w} array: the median of the {@code size x size} window centred on each pixel, the
   * outside mirrored with the edge sample repeated ({@code d c b a | a b c d}). Odd size only, at
   * most the array's sides.
   */
  public static float[] medianFilter(float[] values, int h, int w, int size) {
    checkKernel("median", size);
    if (values.length != (long) h * w) {
      throw new ViCropException("median filter: " + values.length + " values do not make a " + h + " x " + w + " array");
    }
    if (h < size || w < size) {
      throw new ViCropException("median filter: a " + h + " x " + w + " array is smaller than the " + size + " x " + size + " window");
    }
    int r = size / 2;
    int[] xs = new int[w + 2 * r];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = scipyReflect(i - r, w);
    }
    float[] out = new float[values.length];
    float[] window = new float[size * size];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int n = 0;
        for (int dy = -r; dy <= r; dy++) {
          int row = scipyReflect(y + dy, h) * w;
          for (int dx = 0; dx < size; dx++) {
            window[n++] = values[row + xs[x + dx]];
          }
        }
        Arrays.sort(window);
        out[y * w + x] = window[window.length / 2];
      }
    }
    return out;
  }

  /**
   * numpy's {@code np.median} of float32 values: the middle value, or {@code (a + b) / 2} in
   * float32 of the two middle values for an even count.
   */
  public static float median(float[] values) {
    if (values.length == 0) {
      throw new ViCropException("the median of no values is undefined");
    }
    float[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2f;
  }

  /**
   * scikit-image's {@code block_reduce(values, (block, block), func=np.mean)} for sides divisible by
   * {@code block}: the mean of each non-overlapping {@code block x block} block of a row-major
   * {@code h x w} array, giving {@code (h / block) x (w / block)} values (accumulated in double).
   *
   * @throws ViCropException when a side is not a multiple of {@code block}
   */
  public static float[] blockMean(float[] values, int h, int w, int block) {
    if (block <= 0) {
      throw new ViCropException("block size " + block + " must be positive");
    }
    if (h <= 0 || w <= 0 || values.length != (long) h * w) {
      throw new ViCropException("block mean: " + values.length + " values do not make a " + h + " x " + w + " array");
    }
    if (h % block != 0 || w % block != 0) {
      throw new ViCropException("block mean: a " + h + " x " + w + " array does not split into " + block + " x " + block + " blocks");
    }
    int bh = h / block;
    int bw = w / block;
    float[] out = new float[bh * bw];
    double n = (double) block * block;
    for (int by = 0; by < bh; by++) {
      for (int bx = 0; bx < bw; bx++) {
        double s = 0;
        for (int y = by * block; y < (by + 1) * block; y++) {
          for (int x = bx * block; x < (bx + 1) * block; x++) {
            s += values[y * w + x];
          }
        }
        out[by * bw + bx] = (float) (s / n);
      }
    }
    return out;
  }

  /**
   * Pure-grad's last steps: {@code ratio · mask} (the gradient-norm ratio N_q / N_g over the {@code
   * res x res} model input, masked), then the mean of each {@code block x block} block, as a
   * {@code (res / block)²} importance map (24 x 24 for LLaVA-1.5's 336 / 14).
   *
   * <p>As in the reference, a masked-out pixel is {@code ratio · 0}, so a NaN or infinite ratio
   * (from a zero denominator) stays NaN there; {@link BoxSelection} then rejects the map naming the
   * cell.
   */
  public static ImportanceMap pureGradMap(float[] ratio, boolean[] mask, int res, int block) {
    if (res <= 0 || ratio.length != (long) res * res || mask.length != (long) res * res) {
      throw new ViCropException("pure-grad: ratio (" + ratio.length + " values) and mask (" + mask.length + " flags) must both be "
          + res + " x " + res);
    }
    float[] masked = new float[ratio.length];
    for (int i = 0; i < masked.length; i++) {
      masked[i] = ratio[i] * (mask[i] ? 1f : 0f);
    }
    float[] pooled = blockMean(masked, res, res, block);
    return new ImportanceMap(res / block, res / block, pooled);
  }

  /** torch {@code F.pad(mode="reflect")}: index −1 maps to 1 (the edge is not repeated). */
  private static int torchReflect(int i, int n) {
    if (i < 0) {
      return -i;
    }
    return i >= n ? 2 * n - 2 - i : i;
  }

  /** scipy.ndimage {@code mode="reflect"}: index −1 maps to 0 (the edge is repeated). */
  private static int scipyReflect(int i, int n) {
    if (i < 0) {
      return -i - 1;
    }
    return i >= n ? 2 * n - 1 - i : i;
  }

  private static void checkKernel(String what, int k) {
    if (k <= 0 || k % 2 == 0) {
      throw new ViCropException(what + " kernel size " + k + " must be odd and positive");
    }
  }
}
