package dev.fovea.methods.contrastive;

import dev.fovea.llm.generate.LogitsCombiner;
import java.util.List;

/**
 * Sees every contrastive step: the branches' newest logits and the contrasted logits the sampler
 * draws from ({@code -inf} outside the plausible set). For inspection and tests; it must not
 * modify the arrays.
 */
@FunctionalInterface
public interface StepListener {
  StepListener NONE = (branches, contrasted) -> {};

  void onStep(List<float[]> branches, float[] contrasted);

  /** {@code combiner} with this listener told of each of its results. */
  default LogitsCombiner observing(LogitsCombiner combiner) {
    if (this == NONE) {
      return combiner;
    }
    return l -> {
      float[] d = combiner.combine(l);
      onStep(l, d);
      return d;
    };
  }
}
