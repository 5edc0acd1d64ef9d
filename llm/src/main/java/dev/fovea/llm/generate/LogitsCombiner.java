package dev.fovea.llm.generate;

import java.util.List;

/**
 * Merges the next-token logits of several branches stepping in lockstep (one {@code float[V]} per
 * branch, in branch order) into the logits the sampler sees. This is the hook of contrastive
 * decoding (VCD, AVC) and AGLA: each branch is its own decoding state over its own input.
 */
@FunctionalInterface
public interface LogitsCombiner {
  float[] combine(List<float[]> logits);

  /** The first branch's logits unchanged (plain decoding). */
  static LogitsCombiner first() {
    return l -> l.get(0);
  }

  /**
   * VCD / AVC (methods spec 2.5, 3.2): d = (1 + alpha) z - alpha z' with z the first branch and z'
   * the second, then the adaptive plausibility cut: d_j = -inf where z_j &lt; log(beta) + max z
   * (tokens whose probability under the first branch is below beta times the top one). Where z'
   * has a NaN the step falls back to z (as the AvisC code does).
   */
  static LogitsCombiner contrastive(float alpha, float beta) {
    if (!(beta > 0 && beta <= 1)) {
      throw new IllegalArgumentException("contrastive: beta must be within (0, 1], got " + beta);
    }
    return l -> {
      if (l.size() != 2) {
        throw new IllegalArgumentException("contrastive: needs exactly 2 branches, got " + l.size());
      }
      float[] z = l.get(0);
      float[] zc = l.get(1);
      float max = Float.NEGATIVE_INFINITY;
      boolean nan = false;
      for (int j = 0; j < z.length; j++) {
        max = Math.max(max, z[j]);
        nan |= Float.isNaN(zc[j]);
      }
      float cut = (float) Math.log(beta) + max;
      float[] d = new float[z.length];
      for (int j = 0; j < z.length; j++) {
        float v = nan ? z[j] : (1 + alpha) * z[j] - alpha * zc[j];
        d[j] = z[j] < cut ? Float.NEGATIVE_INFINITY : v;
      }
      return d;
    };
  }
}
