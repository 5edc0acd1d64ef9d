package dev.fovea.methods.abs;

/**
 * ABS's settings, with the released code's defaults (spec A.9; BIT-DA/ABS main.py and
 * clip/model.py at 5ba77c6).
 *
 * @param topK patches kept from the DINO map before sampling centres (20; {@code --top_k}, and
 *     hard-coded 20 on the feature side)
 * @param centreTemperature temperature of the softmax over the top-k attention values (0.03, hard-coded)
 * @param numCrops crops per space (50 raw + 50 feature; {@code --num_crops})
 * @param cropMin smallest crop side as a fraction of the image side / of the grid (0.6; {@code --clip_crop_r1})
 * @param cropMax largest (0.9; {@code --clip_crop_r2})
 * @param descriptionsPerClass first M sentences of each class used by ABS (50, {@code texts[:50]})
 * @param tau soft-matching temperature (0.03, hard-coded)
 * @param dinoLayer DINO layer whose CLS attention is read; -1 = the last ({@code --layer1 11} of 12)
 * @param clipLayer CLIP vision layer that sees the feature crops; -1 = the last ({@code --layer2 11} of 12)
 * @param includeGlobal add the global view's scores to the logits (false: the released code sums the 100 views only, A.8)
 */
public record AbsConfig(int topK, double centreTemperature, int numCrops, double cropMin, double cropMax, int descriptionsPerClass,
    double tau, int dinoLayer, int clipLayer, boolean includeGlobal) {
  /** Upper bounds that keep one image's work bounded. */
  public static final int MAX_CROPS = 10_000;

  public static final int MAX_DESCRIPTIONS = 100_000;

  public AbsConfig {
    if (topK < 1) {
      throw new AbsException("ABS: top-k must be at least 1, got " + topK);
    }
    if (!(centreTemperature > 0) || !Double.isFinite(centreTemperature)) {
      throw new AbsException("ABS: the centre temperature must be positive, got " + centreTemperature);
    }
    if (numCrops < 0 || numCrops > MAX_CROPS) {
      throw new AbsException("ABS: crops per space must be within [0, " + MAX_CROPS + "], got " + numCrops);
    }
    if (!(cropMin > 0) || !(cropMax <= 1) || cropMin > cropMax) {
      throw new AbsException("ABS: crop sides must satisfy 0 < min <= max <= 1, got " + cropMin + " and " + cropMax);
    }
    if (descriptionsPerClass < 1 || descriptionsPerClass > MAX_DESCRIPTIONS) {
      throw new AbsException("ABS: descriptions per class must be within [1, " + MAX_DESCRIPTIONS + "], got " + descriptionsPerClass);
    }
    if (!(tau > 0) || !Double.isFinite(tau)) {
      throw new AbsException("ABS: tau must be positive, got " + tau);
    }
    if (dinoLayer < -1 || clipLayer < -1) {
      throw new AbsException("ABS: layers are indices >= 0, or -1 for the last, got DINO " + dinoLayer + " and CLIP " + clipLayer);
    }
  }

  public static AbsConfig defaults() {
    return new AbsConfig(20, 0.03, 50, 0.6, 0.9, 50, 0.03, -1, -1, false);
  }

  public AbsConfig withNumCrops(int n) {
    return new AbsConfig(topK, centreTemperature, n, cropMin, cropMax, descriptionsPerClass, tau, dinoLayer, clipLayer, includeGlobal);
  }

  public AbsConfig withDescriptionsPerClass(int m) {
    return new AbsConfig(topK, centreTemperature, numCrops, cropMin, cropMax, m, tau, dinoLayer, clipLayer, includeGlobal);
  }

  public AbsConfig withTopK(int k) {
    return new AbsConfig(k, centreTemperature, numCrops, cropMin, cropMax, descriptionsPerClass, tau, dinoLayer, clipLayer, includeGlobal);
  }
}
