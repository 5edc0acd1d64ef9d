package dev.fovea.methods.agla;

import dev.fovea.llm.generate.LogitsCombiner;
import java.util.List;

/**
 * AGLA's logit assembly (spec B.8; Lackel/AGLA eval/sample.py), the generator's combiner over the
 * branches [original, augmented]:
 *
 * <pre>
 * cut = log(beta) + max_v l_o[v]
 * l   = l_o + alpha l_a ;   l[v] = -inf where l_o[v] &lt; cut
 * </pre>
 *
 * then the usual warpers and the draw ({@link dev.fovea.llm.generate.Sampler}). Unlike VCD's
 * {@code (1 + alpha) l_o - alpha l_a}, the augmented branch is added.
 */
public final class Assembly {
  private Assembly() {}

  /** The assembled logits of one step. */
  public static float[] assemble(float[] lo, float[] la, float alpha, float beta) {
    if (lo.length != la.length) {
      throw new AglaException("the branches' logits have " + lo.length + " and " + la.length + " entries");
    }
    float max = Float.NEGATIVE_INFINITY;
    for (float v : lo) {
      max = Math.max(max, v);
    }
    float cut = (float) Math.log(beta) + max;
    float[] l = new float[lo.length];
    for (int j = 0; j < lo.length; j++) {
      l[j] = lo[j] < cut ? Float.NEGATIVE_INFINITY : lo[j] + alpha * la[j];
    }
    return l;
  }

  /** Two branches, independent caches. */
  public static LogitsCombiner combiner(float alpha, float beta) {
    return l -> {
      if (l.size() != 2) {
        throw new AglaException("AGLA assembles exactly 2 branches, got " + l.size());
      }
      return assemble(l.get(0), l.get(1), alpha, beta);
    };
  }

  /**
   * The released sampler's cache sharing ({@link AglaConfig#referenceCacheReuse}): the first step
   * assembles both branches, every later one the original branch with itself ({@code (1 + alpha)
   * l_o} with the cut).
   */
  public static LogitsCombiner firstStepOnly(float alpha, float beta) {
    boolean[] first = {true};
    return l -> {
      float[] lo = l.get(0);
      float[] la = first[0] ? l.get(1) : lo;
      first[0] = false;
      return assemble(lo, la, alpha, beta);
    };
  }

  static LogitsCombiner of(AglaConfig c) {
    return c.referenceCacheReuse() ? firstStepOnly(c.alpha(), c.beta()) : combiner(c.alpha(), c.beta());
  }

  /** The list form the generator passes, for tests. */
  static float[] combine(LogitsCombiner c, float[] lo, float[] la) {
    return c.combine(List.of(lo, la));
  }
}
