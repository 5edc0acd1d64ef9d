package dev.fovea.methods.abs;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.clip.ClipModel;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import java.nio.charset.StandardCharsets;

/**
 * One zero-shot method of ABS's harness, image in, class scores out: a baseline (cosine of the
 * global embedding with one vector per class, spec A.10) or ABS (summed soft-matching scores, A.8).
 * ABS's random draws are seeded per image from the run's seed and the image's key, so an image gets
 * the same crops whatever the order of the run and when a run is resumed.
 */
public final class ZeroShotScorer {
  private final Baselines.Method method;
  private final ClipModel clip;
  private final ImageProcessor clipProcessor;
  private final Tensor classVectors; // [C, E] for baselines
  private final Abs abs;
  private final DescriptionBank bank;
  private final long seed;
  private Abs.Result lastAbs;

  private ZeroShotScorer(Baselines.Method method, ClipModel clip, ImageProcessor clipProcessor, Tensor classVectors, Abs abs,
      DescriptionBank bank, long seed) {
    this.method = method;
    this.clip = clip;
    this.clipProcessor = clipProcessor;
    this.classVectors = classVectors;
    this.abs = abs;
    this.bank = bank;
    this.seed = seed;
  }

  /** A baseline over {@code classVectors} [C, E]; the CLIP view uses torchvision's crop rounding, as ABS's script does. */
  public static ZeroShotScorer baseline(Baselines.Method method, ClipModel clip, ImageProcessor clipProcessor, Tensor classVectors) {
    ImageProcessor tv = new ImageProcessor(clipProcessor.config().withCropRounding(PreprocessorConfig.CropRounding.ROUND_HALF_EVEN));
    return new ZeroShotScorer(method, clip, tv, classVectors, null, null, 0);
  }

  public static ZeroShotScorer abs(ClipModel clip, Abs abs, DescriptionBank bank, long seed) {
    return new ZeroShotScorer(Baselines.Method.ABS, clip, abs.clipProcessor(), null, abs, bank, seed);
  }

  public Baselines.Method method() {
    return method;
  }

  /** ABS's full result of the last {@link #scores} call (null for baselines). */
  public Abs.Result lastAbs() {
    return lastAbs;
  }

  /** Class scores [C]: cosines for the baselines, summed soft-matching scores for ABS. */
  public float[] scores(RgbImage image, String key) {
    if (method == Baselines.Method.ABS) {
      lastAbs = abs.run(image, bank, Draws.seeded(imageSeed(seed, key)));
      return lastAbs.logits();
    }
    try (Scope s = Scope.open()) {
      Tensor img = clip.encodeImage(clipProcessor.process(image).unsqueeze(0)); // [1, E]
      return Ops.matmul(img, classVectors.transpose(0, 1)).contiguous().toFloatArray();
    }
  }

  /** Probabilities for a baseline's cosines: softmax(exp(logit_scale) * cos), as CLIP. */
  public float[] probabilities(float[] cosines) {
    float t;
    try (Scope s = Scope.open()) {
      t = clip.temperature().item();
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float c : cosines) {
      max = Math.max(max, t * c);
    }
    double sum = 0;
    double[] e = new double[cosines.length];
    for (int i = 0; i < e.length; i++) {
      e[i] = Math.exp(t * cosines[i] - max);
      sum += e[i];
    }
    float[] out = new float[e.length];
    for (int i = 0; i < e.length; i++) {
      out[i] = (float) (e[i] / sum);
    }
    return out;
  }

  /** The seed of one image's draws: the run's seed mixed with the image key's FNV-1a hash. */
  public static long imageSeed(long seed, String key) {
    long h = 0xcbf29ce484222325L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return seed * 0x9E3779B97F4A7C15L ^ h;
  }
}
