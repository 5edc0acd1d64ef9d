package dev.fovea.methods.agla;

import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.vit.blip.BlipForImageTextRetrieval;
import dev.fovea.vit.blip.BlipText;
import dev.fovea.vit.image.GaussianBlur;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.Resample;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.image.SplineZoom;
import java.util.Arrays;

/**
 * AGLA's Image-Prompt Matching (spec methods-abs-agla.md B.4-B.6; LAVIS {@code compute_gradcam} and
 * {@code getAttMap}, Lackel/AGLA eval/augmentation.py): which pixels the prompt is about, by BLIP ITM
 * GradCAM, and the image with the rest painted black. Shapes: S the BLIP image size (384), G = S/16
 * the patch grid (24), H text heads (12), T text tokens, n = T - 2 word tokens.
 *
 * <pre>
 * s   = itm_logits[1] of (image, [ENC] words [SEP])                   the raw match logit
 * P   = cross-attention probabilities of text layer L [H, T, 1 + G*G], with G' = ds/dP
 * R   = 1/(H n) sum_h sum_{i=1..n} P[h, i, 1:] max(0, G'[h, i, 1:])   [G, G]  (CLS key dropped)
 * A   = min-max(R); U = spline A to S x S; B = blur(U, 0.02 S); B = min-max(B)   float64
 * sim = ITC cosine ([CLS] words [SEP], text mode); rho = min(1 - sim/2, 1 - 1e-5)
 * theta = (B sorted descending)[floor(S*S rho)];  keep the pixels with B &gt;= theta
 * aug = bicubic S x S image * keep, through float32 [0, 1] and back to 8 bits by truncation
 * </pre>
 *
 * Only the layers from L on and the ITM head carry gradient: the probabilities are made a leaf of the
 * graph by a replacing attention hook; the vision tower runs without grad.
 *
 * <p>A constant map (a uniform image gives the same relevance to every patch) keeps every pixel:
 * both min-max steps leave an all-zero map as it is. The released code divides 0 by 0 in the
 * second one, its threshold becomes NaN and the whole image is painted black; fovea does not
 * reproduce that.
 */
public final class ImagePromptMatching {
  private final BlipForImageTextRetrieval blip;
  private final BlipText text;
  private final ImageProcessor processor;
  private final AglaConfig config;

  /** With BLIP's own processor: S x S bicubic, no crop, CLIP mean/std (spec B.3). */
  public ImagePromptMatching(BlipForImageTextRetrieval blip, BlipText text, AglaConfig config) {
    this(blip, text, new ImageProcessor(PreprocessorConfig.blip(blip.config.vision().imageSize())), config);
  }

  public ImagePromptMatching(BlipForImageTextRetrieval blip, BlipText text, ImageProcessor processor, AglaConfig config) {
    int layers = blip.config.text().numHiddenLayers();
    if (config.layer() >= layers) {
      throw new AglaException("the GradCAM layer " + config.layer() + " is not a text layer of this BLIP (it has " + layers + ": 0 to " + (layers - 1) + ")");
    }
    this.blip = blip;
    this.text = text;
    this.processor = processor;
    this.config = config;
  }

  /**
   * Everything the matching computed.
   *
   * @param relevance R [G * G] row-major (float64 of the float32 GradCAM)
   * @param normalized B [S * S] after blur and min-max
   * @param keep the mask [S * S], true where the pixel is kept
   * @param augmented the masked S x S image
   * @param nanos BLIP forward + backward + the map and mask
   */
  public record Result(int grid, int size, double matchLogit, double itc, double[] relevance, double[] normalized, double keepRatio,
      double threshold, boolean[] keep, int kept, RgbImage augmented, long nanos) {}

  public Result match(RgbImage image, String prompt) {
    long t0 = System.nanoTime();
    int s = blip.config.vision().imageSize();
    int g = blip.config.vision().gridSize();
    double[] r;
    double matchLogit;
    double itc;
    try (Scope scope = Scope.open()) {
      Tensor pixels = processor.process(image).unsqueeze(0);
      Tensor v;
      try (var ng = GradMode.disable()) {
        v = blip.imageEmbeds(pixels); // constants for the backward
      }
      int[][] itmIds = {text.itmIds(prompt, config.convention())};
      if (itmIds[0].length < 3) {
        throw new AglaException("the prompt \"" + prompt + "\" has no words left after BLIP's cleaning; AGLA's map averages over the prompt's words");
      }
      int[][] itcIds = {text.itcIds(prompt)};
      Tensor[] leaf = new Tensor[1];
      String path = "text_encoder.encoder.layer." + config.layer() + ".crossattention";
      try (var gm = GradMode.enable(); HookHandle h = blip.addAttentionHook(path, AttentionHook.replacing((ctx, p) -> {
        leaf[0] = p.detach().requiresGrad(true);
        return leaf[0];
      }))) {
        Tensor logits = blip.itmLogits(itmIds, null, v); // [1, 2]
        Tensor match = logits.select(0, 0).select(0, 1);
        matchLogit = match.item();
        match.backward();
      }
      r = gradcam(leaf[0].contiguous().toFloatArray(), leaf[0].grad().contiguous().toFloatArray(), leaf[0].shape(), g);
      try (var ng = GradMode.disable()) {
        itc = blip.itcCosine(itcIds, null, v).item();
      }
    }
    double[] b = relevanceMap(r, g, s);
    double rho = Math.min(1 - itc / 2, 1 - 1e-5);
    double theta = threshold(b, rho);
    boolean[] keep = new boolean[b.length];
    int kept = 0;
    for (int i = 0; i < b.length; i++) {
      keep[i] = b[i] >= theta;
      kept += keep[i] ? 1 : 0;
    }
    RgbImage aug = mask(Resample.resize(image, s, s, Resample.Filter.BICUBIC), keep);
    return new Result(g, s, matchLogit, itc, r, b, rho, theta, keep, kept, aug, System.nanoTime() - t0);
  }

  /**
   * R [G * G] from the probabilities and their gradient [1, H, T, 1 + G*G]: the head mean of P
   * max(0, dP) over the word tokens 1..T-2, CLS key dropped (LAVIS sums the words and divides by n).
   */
  static double[] gradcam(float[] p, float[] grad, int[] shape, int g) {
    int heads = shape[1];
    int t = shape[2];
    int k = shape[3];
    if (shape[0] != 1 || k != g * g + 1 || t < 3) {
      throw new AglaException("GradCAM: cross-attention probabilities " + Arrays.toString(shape) + " must be [1, H, T >= 3, " + (g * g + 1) + "]");
    }
    int n = t - 2;
    double[] r = new double[g * g];
    for (int i = 1; i <= n; i++) {
      double[] tokenMean = new double[g * g]; // the head mean first, as LAVIS (float32 there; float64 here)
      for (int h = 0; h < heads; h++) {
        int row = (h * t + i) * k;
        for (int j = 0; j < g * g; j++) {
          float gr = grad[row + 1 + j];
          tokenMean[j] += (double) p[row + 1 + j] * (gr > 0 ? gr : 0);
        }
      }
      for (int j = 0; j < g * g; j++) {
        r[j] += tokenMean[j] / heads;
      }
    }
    for (int j = 0; j < g * g; j++) {
      r[j] /= n;
    }
    return r;
  }

  /** B [S * S]: min-max, cubic spline G -&gt; S, blur sigma 0.02 S, min-max (LAVIS getAttMap, blur on, no overlay). */
  public static double[] relevanceMap(double[] r, int g, int s) {
    double[] a = minMax(r);
    double[] u = SplineZoom.resize(a, g, g, s, s);
    double[] bl = GaussianBlur.blur(u, s, s, 0.02 * s);
    return minMax(bl);
  }

  /** x - min, then / max when that is positive (a constant map stays all zero; see the class comment). */
  static double[] minMax(double[] x) {
    double lo = Double.POSITIVE_INFINITY;
    for (double v : x) {
      lo = Math.min(lo, v);
    }
    double hi = Double.NEGATIVE_INFINITY;
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] - lo;
      hi = Math.max(hi, out[i]);
    }
    if (hi > 0) {
      for (int i = 0; i < out.length; i++) {
        out[i] /= hi;
      }
    }
    return out;
  }

  /** The value at index floor(N rho) of B sorted in descending order. */
  public static double threshold(double[] b, double rho) {
    double[] sorted = b.clone();
    Arrays.sort(sorted);
    int idx = (int) Math.floor(b.length * rho); // descending index
    return sorted[b.length - 1 - idx];
  }

  /** The image with the pixels outside {@code keep} black: x/255 in float32, times 0 or 1, times 255, truncated (ToTensor / ToPILImage). */
  public static RgbImage mask(RgbImage image, boolean[] keep) {
    byte[] px = image.toByteArray();
    for (int i = 0; i < keep.length; i++) {
      for (int c = 0; c < 3; c++) {
        float x = (px[3 * i + c] & 0xFF) / 255f;
        float y = keep[i] ? x * 1f : x * 0f;
        px[3 * i + c] = (byte) (int) (y * 255f);
      }
    }
    return RgbImage.of(image.width(), image.height(), px);
  }
}
