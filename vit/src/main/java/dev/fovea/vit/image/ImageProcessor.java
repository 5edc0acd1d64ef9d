package dev.fovea.vit.image;

import dev.fovea.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;

/**
 * HF's slow (PIL) image processors, written out step by step (spec 1.8, 2.5, 4.6, 5.6; transformers
 * {@code image_processing_clip.py}, {@code image_processing_blip.py}, {@code image_transforms.py}):
 *
 * <ol>
 *   <li>(LLaVA-1.5 "pad" only) {@code expand2square} with the mean colour {@code int(255 · mean)};
 *   <li>resize with PIL's filter ({@link Resample}): shortest edge to S with the long side {@code
 *       int(S · long / short)} (truncation), or straight to h x w;
 *   <li>centre crop, offset {@code (in − crop) // 2} (HF) or round-half-even (torchvision); a crop
 *       larger than the image pads with black, as HF's {@code center_crop} does;
 *   <li>rescale {@code uint8 · rescale_factor} in double, then float32;
 *   <li>normalise {@code (x − mean) / std} in float32, channel order R, G, B, layout CHW.
 * </ol>
 *
 * Steps 1–3 work on 8-bit images ({@link #prepare}); the uint8 result determines the float output
 * exactly. No EXIF orientation is applied.
 */
public final class ImageProcessor {
  private final PreprocessorConfig config;
  private final float[] mean; // float32, as numpy's np.array(mean, dtype=float32)
  private final float[] std;

  public ImageProcessor(PreprocessorConfig config) {
    this.config = config;
    double[] m = config.imageMean();
    double[] s = config.imageStd();
    this.mean = new float[] {(float) m[0], (float) m[1], (float) m[2]};
    this.std = new float[] {(float) s[0], (float) s[1], (float) s[2]};
  }

  /** A processor configured by {@code preprocessor_config.json}. */
  public static ImageProcessor fromConfig(Path preprocessorConfigJson) {
    return new ImageProcessor(PreprocessorConfig.read(preprocessorConfigJson));
  }

  public PreprocessorConfig config() {
    return config;
  }

  /**
   * Where each step puts the image, for an input of {@code width x height}: the square canvas and the
   * paste offset (pad), the resize size, and the crop box in resized coordinates (it may reach outside
   * the resized image when the crop is larger; that part is black). Useful to map boxes back to the
   * original image.
   */
  public record Plan(
      int padSide, int padX, int padY, int resizeWidth, int resizeHeight, int cropX0, int cropY0, int cropX1, int cropY1) {
    public int outputWidth() {
      return cropX1 - cropX0;
    }

    public int outputHeight() {
      return cropY1 - cropY0;
    }
  }

  public Plan plan(int width, int height) {
    int padSide = 0;
    int padX = 0;
    int padY = 0;
    if (config.padToSquare() && width != height) {
      padSide = Math.max(width, height);
      padX = (padSide - width) / 2;
      padY = (padSide - height) / 2;
      width = padSide;
      height = padSide;
    }
    int rw = width;
    int rh = height;
    if (config.doResize()) {
      switch (config.size()) {
        case PreprocessorConfig.ShortestEdge se -> {
          int[] wh = shortestEdgeSize(width, height, se.shortestEdge());
          rw = wh[0];
          rh = wh[1];
        }
        case PreprocessorConfig.Exact ex -> {
          rw = ex.width();
          rh = ex.height();
        }
      }
    }
    int x0 = 0;
    int y0 = 0;
    int x1 = rw;
    int y1 = rh;
    if (config.doCenterCrop()) {
      x0 = cropOffset(rw, config.cropWidth(), config.cropRounding());
      y0 = cropOffset(rh, config.cropHeight(), config.cropRounding());
      x1 = x0 + config.cropWidth();
      y1 = y0 + config.cropHeight();
    }
    return new Plan(padSide, padX, padY, rw, rh, x0, y0, x1, y1);
  }

  /**
   * transformers {@code get_resize_output_image_size(default_to_square=False)}: the short side becomes
   * {@code s} and the long side {@code int(s · long / short)}, truncated (Python's true division of two
   * ints is the correctly rounded double, as here). Returns {width, height}.
   */
  public static int[] shortestEdgeSize(int width, int height, int s) {
    int shortSide = Math.min(width, height);
    int longSide = Math.max(width, height);
    int newLong = (int) ((double) ((long) s * longSide) / shortSide);
    return width <= height ? new int[] {s, newLong} : new int[] {newLong, s};
  }

  /**
   * The offset of a centred crop of {@code crop} out of {@code in}. HF: {@code (in − crop) // 2} (floor,
   * negative when padding; HF then pads {@code ceil((crop − in) / 2)} before, which lands on the same
   * box). torchvision: {@code int(round((in − crop) / 2))}, half to even; when padding it pads {@code
   * (crop − in) // 2} before.
   */
  static int cropOffset(int in, int crop, PreprocessorConfig.CropRounding rounding) {
    int d = in - crop;
    return switch (rounding) {
      case FLOOR -> Math.floorDiv(d, 2);
      case ROUND_HALF_EVEN -> d >= 0 ? (int) Math.rint(d / 2.0) : -((-d) / 2);
    };
  }

  /** Steps 1–3: the 8-bit image the model sees, before rescaling and normalisation. */
  public RgbImage prepare(RgbImage image) {
    Plan p = plan(image.width(), image.height());
    RgbImage cur = image;
    if (p.padSide() > 0) {
      int[] fill = config.padColour();
      cur = cur.pasteOnto(p.padSide(), p.padSide(), fill[0], fill[1], fill[2], p.padX(), p.padY());
    }
    if (config.doResize()) {
      cur = Resample.resize(cur, p.resizeWidth(), p.resizeHeight(), config.resample());
    }
    if (config.doCenterCrop()
        && (p.cropX0() != 0 || p.cropY0() != 0 || p.cropX1() != cur.width() || p.cropY1() != cur.height())) {
      cur = cur.crop(p.cropX0(), p.cropY0(), p.cropX1(), p.cropY1());
    }
    return cur;
  }

  /** Steps 4–5 on a prepared image: float32 CHW values, {@code 3 · H · W} of them. */
  public float[] normalize(RgbImage prepared) {
    int w = prepared.width();
    int h = prepared.height();
    int plane = w * h;
    byte[] px = prepared.raw();
    float[] out = new float[3 * plane];
    // the 256 possible values per channel, computed the way numpy does
    float[][] lut = new float[3][256];
    for (int c = 0; c < 3; c++) {
      for (int v = 0; v < 256; v++) {
        // rescale: float64 multiply, then one rounding to float32
        float x = config.doRescale() ? (float) (v * config.rescaleFactor()) : (float) v;
        // normalize: float32 subtract, float32 divide (an obvious x * (1 / std) would differ by an ulp)
        lut[c][v] = config.doNormalize() ? (x - mean[c]) / std[c] : x;
      }
    }
    for (int i = 0; i < plane; i++) {
      out[i] = lut[0][px[3 * i] & 0xFF];
      out[plane + i] = lut[1][px[3 * i + 1] & 0xFF];
      out[2 * plane + i] = lut[2][px[3 * i + 2] & 0xFF];
    }
    return out;
  }

  /** The model input {@code [3, H, W]} (float32, in the current {@link dev.fovea.tensor.Scope}). */
  public Tensor process(RgbImage image) {
    RgbImage p = prepare(image);
    return Tensor.of(normalize(p), 3, p.height(), p.width());
  }

  /** Decodes and processes an image file. */
  public Tensor process(Path imageFile) {
    return process(ImageDecoder.read(imageFile));
  }

  /** A batch {@code [B, 3, H, W]}; every image must come out the same size (true whenever a crop or exact size is set). */
  public Tensor processBatch(List<RgbImage> images) {
    if (images.isEmpty()) {
      throw new IllegalArgumentException("processBatch: no images");
    }
    float[][] parts = new float[images.size()][];
    int h = -1;
    int w = -1;
    for (int b = 0; b < images.size(); b++) {
      RgbImage p = prepare(images.get(b));
      if (b == 0) {
        h = p.height();
        w = p.width();
      } else if (p.height() != h || p.width() != w) {
        throw new IllegalArgumentException("processBatch: image " + b + " comes out " + p.width() + "x" + p.height()
            + " but image 0 came out " + w + "x" + h + "; configure a centre crop or an exact size");
      }
      parts[b] = normalize(p);
    }
    int per = 3 * h * w;
    float[] all = new float[Math.multiplyExact(per, images.size())];
    for (int b = 0; b < parts.length; b++) {
      System.arraycopy(parts[b], 0, all, b * per, per);
    }
    return Tensor.of(all, images.size(), 3, h, w);
  }
}
