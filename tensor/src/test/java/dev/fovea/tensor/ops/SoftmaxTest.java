package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;

import dev.fovea.tensor.Check;
import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Naive;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * softmax and log_softmax over any dimension of random views, with logits of scale up to 30 and
 * shifted by up to +-1000 (the shift must not cost accuracy: softmax is shift-invariant).
 *
 * <p>Forward tolerance: softmax |err| &lt;= 1e-6 + 1e-5 |want|; log_softmax |err| &lt;= 2e-6 + 1e-6
 * |want| + 1e-6 * (max - min of the line), the rounding of x - max in float.
 */
class SoftmaxTest {

  @Tag("kernel")
  @Test
  void softmaxMatchesNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int d = rng.nextInt(shape.length);
        double scale = new double[] {1, 5, 30}[rng.nextInt(3)];
        double shift = rng.nextInt(3) == 0 ? (rng.nextBoolean() ? 1000 : -1000) : 0;
        double[] v = Gens.normal(rng, Naive.numel(shape), scale);
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (v[i] + shift);
        }
        Gens.View x = Gens.view(rng, shape, v, true);
        String what = " over dim " + d + " of " + x + " scale " + scale + " shift " + shift;
        Check.close("softmax" + what, Ops.softmax(x.t(), d), Naive.softmax(x.a(), d, false), 1e-6, 1e-5);
        Naive.Arr range = Naive.max(x.a(), d, true);
        Naive.Arr cond = Naive.expand(Naive.binary((a, b) -> a + b, range, Naive.max(x.a().map(t -> -t), d, true)), shape);
        Check.close("logSoftmax" + what, Ops.logSoftmax(x.t(), d), Naive.softmax(x.a(), d, true), cond, 2e-6, 1e-6, 1e-6);
      }
    });
  }

  /** A line of all -inf (every key masked) gives zeros for softmax and -inf for log_softmax, never NaN. */
  @Test
  void fullyMaskedRow() {
    Tensor x = Tensor.of(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 1, 2}, 2, 2);
    Check.close("softmax masked", Ops.softmax(x, -1), Naive.softmax(Naive.Arr.of(x), 1, false), 1e-6, 1e-6);
    Check.close("logSoftmax masked", Ops.logSoftmax(x, -1), Naive.softmax(Naive.Arr.of(x), 1, true), 1e-6, 1e-6);
  }

  /**
   * Backward of softmax and log_softmax over each dim of a transposed leaf. Smooth with bounded
   * derivatives for O(1) logits: eps = 1e-2, truncation ~ 1e-5; |err| &lt;= 1e-3 + 1e-2 |numeric|.
   */
  @Test
  void softmaxBackward() {
    qt(0.3).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        Tensor x = Tensor.randn(rng, 1 + rng.nextInt(4), 1 + rng.nextInt(6)).requiresGrad(true);
        for (int d = 0; d < 2; d++) {
          int dim = d;
          GradCheck.check("softmax dim " + d, in -> Ops.softmax(in.get(0).mT(), dim), List.of(x), 1e-2, 1e-3, 1e-2);
          GradCheck.check("logSoftmax dim " + d, in -> Ops.logSoftmax(in.get(0).mT(), dim), List.of(x), 1e-2, 1e-3, 1e-2);
        }
      }
    });
  }
}
