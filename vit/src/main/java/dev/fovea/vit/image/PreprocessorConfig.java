package dev.fovea.vit.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.io.JsonConfig;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The image preprocessing of one model, resolved from HF's {@code preprocessor_config.json} (keys in the
 * file's spelling: {@code do_resize}, {@code size}, {@code resample}, {@code do_center_crop}, {@code
 * crop_size}, {@code do_rescale}, {@code rescale_factor}, {@code do_normalize}, {@code image_mean},
 * {@code image_std}, {@code do_convert_rgb}, {@code do_pad}) or built by the factories {@link #clip},
 * {@link #llavaPad} and {@link #blip} (spec 1.8, 2.5, 4.6, 5.6).
 *
 * <p>Missing keys take the defaults of the processor class the file names in {@code
 * image_processor_type} (or {@code feature_extractor_type}): {@code CLIPImageProcessor} (shortest edge
 * 224, centre crop 224) unless the name contains "Blip" ({@code BlipImageProcessor}: 384 x 384, no crop)
 * or starts with "ViT" ({@code ViTImageProcessor}/{@code ViTFeatureExtractor}: 224 x 224 bilinear, no
 * crop, mean/std 0.5; an int {@code size} is a square).
 *
 * @param size the resize target; ignored when {@code doResize} is false
 * @param cropRounding how the centre-crop offset is rounded: HF floors, torchvision rounds half to even
 * @param imageMean per-channel mean (R, G, B) in [0, 1]; also the pad colour, as {@code int(255 · mean)}
 * @param doConvertRgb kept for fidelity only: {@link ImageDecoder} always converts to RGB
 * @param padToSquare LLaVA-1.5's {@code expand2square} with the mean colour before everything else
 *     ({@code image_aspect_ratio: "pad"} in LLaVA, {@code do_pad} in HF's LlavaImageProcessor)
 */
public record PreprocessorConfig(
    boolean doResize,
    Size size,
    Resample.Filter resample,
    boolean doCenterCrop,
    int cropHeight,
    int cropWidth,
    CropRounding cropRounding,
    boolean doRescale,
    double rescaleFactor,
    boolean doNormalize,
    double[] imageMean,
    double[] imageStd,
    boolean doConvertRgb,
    boolean padToSquare) {

  /**
   * The largest resize or crop side read from a file: published processors use 224 to 1024, and a
   * side of 2,000,000,000 would make the resize allocate without bound.
   */
  public static final int MAX_SIDE = 8192;

  /** OpenAI CLIP's normalisation, shared by LLaVA, BLIP and InstructBLIP. */
  public static final double[] CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};

  public static final double[] CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

  /** ImageNet's mean and std (HF {@code IMAGENET_DEFAULT_MEAN}/{@code _STD}; DINO's processor files). */
  public static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};

  public static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};

  /** HF {@code IMAGENET_STANDARD_MEAN}/{@code _STD}: ViTImageProcessor's class defaults. */
  public static final double[] HALF = {0.5, 0.5, 0.5};

  /** HF's default {@code rescale_factor}, Python's {@code 1 / 255}. */
  public static final double RESCALE_1_255 = 1.0 / 255;

  /** A resize target: shortest edge (aspect kept, long side truncated) or an exact size. */
  public sealed interface Size {}

  /** {@code {"shortest_edge": n}}: short side to n, long side to {@code int(n · long / short)}. */
  public record ShortestEdge(int shortestEdge) implements Size {}

  /** {@code {"height": h, "width": w}}: straight to h x w, aspect not kept (BLIP). */
  public record Exact(int height, int width) implements Size {}

  /** Rounding of the centre-crop offset {@code (in − crop) / 2}. */
  public enum CropRounding {
    /** transformers {@code center_crop}: {@code (in − crop) // 2}. */
    FLOOR,
    /** torchvision {@code center_crop}: {@code int(round((in − crop) / 2))}, half to even (OpenAI CLIP). */
    ROUND_HALF_EVEN
  }

  public PreprocessorConfig {
    if (imageMean.length != 3 || imageStd.length != 3) {
      throw new IllegalArgumentException("image_mean and image_std need 3 values (R, G, B), got "
          + Arrays.toString(imageMean) + " and " + Arrays.toString(imageStd));
    }
    for (double s : imageStd) {
      if (!(s > 0)) {
        throw new IllegalArgumentException("image_std must be positive, got " + Arrays.toString(imageStd));
      }
    }
    if (doCenterCrop && (cropHeight <= 0 || cropWidth <= 0)) {
      throw new IllegalArgumentException("crop_size must be positive, got " + cropHeight + "x" + cropWidth);
    }
    imageMean = imageMean.clone();
    imageStd = imageStd.clone();
  }

  /** HF CLIPImageProcessor (slow path) at S: shortest edge S, bicubic, centre crop S x S, CLIP mean/std. */
  public static PreprocessorConfig clip(int s) {
    return new PreprocessorConfig(true, new ShortestEdge(s), Resample.Filter.BICUBIC, true, s, s, CropRounding.FLOOR,
        true, RESCALE_1_255, true, CLIP_MEAN, CLIP_STD, true, false);
  }

  /** Original LLaVA-1.5 ({@code image_aspect_ratio: "pad"}): expand2square with the mean colour, then CLIP at S. */
  public static PreprocessorConfig llavaPad(int s) {
    return clip(s).withPadToSquare(true);
  }

  /** HF BlipImageProcessor at S: straight to S x S (bicubic), no crop, CLIP mean/std. */
  public static PreprocessorConfig blip(int s) {
    return new PreprocessorConfig(true, new Exact(s, s), Resample.Filter.BICUBIC, false, s, s, CropRounding.FLOOR,
        true, RESCALE_1_255, true, CLIP_MEAN, CLIP_STD, true, false);
  }

  /** HF ViTImageProcessor's class defaults at S: straight to S x S (bilinear), no crop, mean/std 0.5. */
  public static PreprocessorConfig vit(int s) {
    return new PreprocessorConfig(true, new Exact(s, s), Resample.Filter.BILINEAR, false, s, s, CropRounding.FLOOR,
        true, RESCALE_1_255, true, HALF, HALF, true, false);
  }

  /**
   * {@code facebook/dino-vitb16}'s processor (ViTFeatureExtractor, spec methods-abs-agla.md A.2): straight to
   * S x S with PIL bilinear, no crop, ImageNet mean/std. Used when a DINO folder has no preprocessor_config.json.
   */
  public static PreprocessorConfig dino(int s) {
    return new PreprocessorConfig(true, new Exact(s, s), Resample.Filter.BILINEAR, false, s, s, CropRounding.FLOOR,
        true, RESCALE_1_255, true, IMAGENET_MEAN, IMAGENET_STD, true, false);
  }

  public PreprocessorConfig withPadToSquare(boolean on) {
    return new PreprocessorConfig(doResize, size, resample, doCenterCrop, cropHeight, cropWidth, cropRounding,
        doRescale, rescaleFactor, doNormalize, imageMean, imageStd, doConvertRgb, on);
  }

  public PreprocessorConfig withCropRounding(CropRounding rounding) {
    return new PreprocessorConfig(doResize, size, resample, doCenterCrop, cropHeight, cropWidth, rounding,
        doRescale, rescaleFactor, doNormalize, imageMean, imageStd, doConvertRgb, padToSquare);
  }

  /** The pad colour of expand2square: {@code tuple(int(x * 255) for x in image_mean)}, (122, 116, 104) for CLIP. */
  public int[] padColour() {
    return new int[] {(int) (imageMean[0] * 255), (int) (imageMean[1] * 255), (int) (imageMean[2] * 255)};
  }

  /**
   * Reads {@code preprocessor_config.json}; a bad value names the key and the file. Text that is not
   * JSON is one line with the line and column ({@link JsonConfig}).
   */
  public static PreprocessorConfig read(Path file) {
    String source = file.toString();
    JsonNode root = JsonConfig.read(file, message -> new ImageException(source,
        "cannot read the preprocessor config: " + (message.startsWith(source + ": ") ? message.substring(source.length() + 2) : message)));
    return fromJson(root, source);
  }

  /** Resolves a parsed config; {@code source} names it in errors. */
  public static PreprocessorConfig fromJson(JsonNode root, String source) {
    String type = root.path("image_processor_type").asText(root.path("feature_extractor_type").asText(""));
    String lower = type.toLowerCase(java.util.Locale.ROOT);
    boolean blipDefaults = lower.contains("blip");
    boolean vitDefaults = !blipDefaults && lower.startsWith("vit"); // ViTImageProcessor, ViTFeatureExtractor
    PreprocessorConfig d = blipDefaults ? blip(384) : vitDefaults ? vit(224) : clip(224);
    // size: an int means shortest edge for CLIP (default_to_square=False) and a square for BLIP
    Size size = d.size();
    if (root.has("size")) {
      size = parseSize(root.get("size"), "size", source, blipDefaults || vitDefaults);
    }
    int cropH = d.cropHeight();
    int cropW = d.cropWidth();
    if (root.has("crop_size")) {
      Size crop = parseSize(root.get("crop_size"), "crop_size", source, true);
      if (!(crop instanceof Exact e)) {
        throw new ImageException(source, "crop_size must be an int or {\"height\", \"width\"}, got " + JsonConfig.show(root.get("crop_size")));
      }
      cropH = e.height();
      cropW = e.width();
    }
    int resample = root.has("resample") ? intKey(root, "resample", source) : d.resample().pilCode;
    Resample.Filter filter;
    try {
      filter = Resample.Filter.fromPil(resample);
    } catch (IllegalArgumentException e) {
      throw new ImageException(source, "resample: " + e.getMessage());
    }
    try {
      return new PreprocessorConfig(
          bool(root, "do_resize", d.doResize(), source),
          size,
          filter,
          bool(root, "do_center_crop", d.doCenterCrop(), source),
          cropH,
          cropW,
          CropRounding.FLOOR,
          bool(root, "do_rescale", d.doRescale(), source),
          root.has("rescale_factor") ? number(root.get("rescale_factor"), "rescale_factor", source) : d.rescaleFactor(),
          bool(root, "do_normalize", d.doNormalize(), source),
          root.has("image_mean") ? triple(root.get("image_mean"), "image_mean", source) : d.imageMean(),
          root.has("image_std") ? triple(root.get("image_std"), "image_std", source) : d.imageStd(),
          bool(root, "do_convert_rgb", d.doConvertRgb(), source),
          bool(root, "do_pad", false, source));
    } catch (IllegalArgumentException e) {
      throw new ImageException(source, e.getMessage(), e);
    }
  }

  private static Size parseSize(JsonNode n, String key, String source, boolean intIsSquare) {
    if (n.isInt()) {
      int v = positive(n.asInt(), key, source);
      return intIsSquare ? new Exact(v, v) : new ShortestEdge(v);
    }
    if (n.isObject()) {
      if (n.has("shortest_edge")) {
        if (n.has("longest_edge")) {
          throw new ImageException(source, key + ".longest_edge is not supported: " + JsonConfig.show(n));
        }
        return new ShortestEdge(positive(intKey(n, "shortest_edge", source), key + ".shortest_edge", source));
      }
      if (n.has("height") && n.has("width")) {
        return new Exact(positive(intKey(n, "height", source), key + ".height", source),
            positive(intKey(n, "width", source), key + ".width", source));
      }
    }
    throw new ImageException(source, key + " must be an int, {\"shortest_edge\": n} or {\"height\": h, \"width\": w}, got " + JsonConfig.show(n));
  }

  private static int positive(int v, String key, String source) {
    if (v <= 0) {
      throw new ImageException(source, key + " must be positive, got " + v);
    }
    if (v > MAX_SIDE) {
      throw new ImageException(source, key + " must be at most " + MAX_SIDE + " (fovea's limit), got " + v);
    }
    return v;
  }

  private static int intKey(JsonNode n, String key, String source) {
    JsonNode v = n.get(key);
    if (v == null || !v.isInt()) {
      throw new ImageException(source, key + " must be an int, got " + JsonConfig.show(v));
    }
    return v.asInt();
  }

  private static boolean bool(JsonNode root, String key, boolean dflt, String source) {
    JsonNode v = root.get(key);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isBoolean()) {
      throw new ImageException(source, key + " must be true or false, got " + JsonConfig.show(v));
    }
    return v.asBoolean();
  }

  private static double number(JsonNode v, String key, String source) {
    if (!v.isNumber()) {
      throw new ImageException(source, key + " must be a number, got " + JsonConfig.show(v));
    }
    return v.asDouble();
  }

  private static double[] triple(JsonNode v, String key, String source) {
    if (v.isNumber()) { // HF accepts one value for all channels
      double x = v.asDouble();
      return new double[] {x, x, x};
    }
    if (!v.isArray() || v.size() != 3) {
      throw new ImageException(source, key + " must be a list of 3 numbers, got " + JsonConfig.show(v));
    }
    return new double[] {number(v.get(0), key, source), number(v.get(1), key, source), number(v.get(2), key, source)};
  }

  @Override
  public double[] imageMean() {
    return imageMean.clone();
  }

  @Override
  public double[] imageStd() {
    return imageStd.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreprocessorConfig c && c.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public String toString() {
    return "PreprocessorConfig[doResize=" + doResize + ", size=" + size + ", resample=" + resample
        + ", doCenterCrop=" + doCenterCrop + ", crop=" + cropHeight + "x" + cropWidth + ", cropRounding=" + cropRounding
        + ", doRescale=" + doRescale + ", rescaleFactor=" + rescaleFactor + ", doNormalize=" + doNormalize
        + ", imageMean=" + Arrays.toString(imageMean) + ", imageStd=" + Arrays.toString(imageStd)
        + ", doConvertRgb=" + doConvertRgb + ", padToSquare=" + padToSquare + "]";
  }
}
