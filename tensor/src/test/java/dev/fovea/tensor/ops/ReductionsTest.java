package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;

import dev.fovea.tensor.Check;
import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Naive;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * sum, mean, max, argmax, topk over a random dimension of random views.
 *
 * <p>Forward tolerances: sum and mean |err| &lt;= 1e-6 + 1e-6 sum|terms| (float accumulation of up
 * to a few hundred terms: n eps/2 ~ 1e-5 worst case, in practice far less); max, argmax and topk
 * exact (selection, no arithmetic); inputs for argmax/topk have distinct values.
 */
class ReductionsTest {

  @Tag("kernel")
  @Test
  void reductionsMatchNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int d = rng.nextInt(shape.length) - (rng.nextBoolean() ? shape.length : 0);
        int dd = d < 0 ? d + shape.length : d;
        boolean keep = rng.nextBoolean();
        Gens.View x = Gens.view(rng, shape, true);
        String what = " over dim " + d + " keepdim " + keep + " of " + x;
        Naive.Arr cond = Naive.sum(x.a().abs(), dd, keep);
        // float32 summation of n terms, in any order: |error| <= (n - 1) u sum|x| with u = 2^-24
        double ctol = Math.max(1e-6, shape[dd] * 0x1p-24);
        Check.close("sum" + what, Ops.sum(x.t(), d, keep), Naive.sum(x.a(), dd, keep), cond, 1e-6, 0, ctol);
        Naive.Arr condMean = cond.map(v -> v / shape[dd]);
        Check.close("mean" + what, Ops.mean(x.t(), d, keep), Naive.mean(x.a(), dd, keep), condMean, 1e-6, 0, ctol + 1e-6);
        Check.close("max" + what, Ops.max(x.t(), d, keep), Naive.max(x.a(), dd, keep), 0, 0);
        // distinct values (a random permutation) for a unique argmax / top-k order, with no expanded dims
        double[] distinct = new double[Naive.numel(shape)];
        for (int i = 0; i < distinct.length; i++) {
          distinct[i] = i * 0.25 - 3;
        }
        shuffle(distinct, rng);
        Gens.View u = Gens.view(rng, shape, distinct, false);
        Check.close("argmax" + what, Ops.argmax(u.t(), d, keep), Naive.argmax(u.a(), dd, keep), 0, 0);
        int k = rng.nextInt(shape[dd] + 1);
        boolean largest = rng.nextBoolean();
        var got = Ops.topk(u.t(), k, d, largest);
        Naive.Arr[] want = Naive.topk(u.a(), k, dd, largest);
        Check.close("topk values k=" + k + " largest=" + largest + what, got.values(), want[0], 0, 0);
        Check.close("topk indices k=" + k + " largest=" + largest + what, got.indices(), want[1], 0, 0);
        Check.close("sumAll of " + x, Ops.sumAll(x.t()), new Naive.Arr(new int[0], new double[] {Arrays.stream(x.a().v()).sum()}),
            new Naive.Arr(new int[0], new double[] {Arrays.stream(x.a().v()).map(Math::abs).sum()}), 1e-6, 0,
            Math.max(1e-6, Naive.numel(shape) * 0x1p-24));
      }
    });
  }

  static void shuffle(double[] v, Random rng) {
    for (int i = v.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      double t = v[i];
      v[i] = v[j];
      v[j] = t;
    }
  }

  /**
   * Backward of sum, mean, max and topk through a permuted leaf. Sum and mean are linear (any eps
   * is exact up to rounding); max and topk are linear near distinct inputs spaced 0.25 apart, so
   * eps = 1e-2 never reorders them. |err| &lt;= 1e-3 + 1e-3 |numeric|.
   */
  @Test
  void reductionsBackward() {
    qt(0.3).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int[] shape = {1 + rng.nextInt(3), 1 + rng.nextInt(4), 1 + rng.nextInt(5)};
        int d = rng.nextInt(3);
        boolean keep = rng.nextBoolean();
        double[] v = new double[Naive.numel(shape)];
        for (int i = 0; i < v.length; i++) {
          v[i] = i * 0.25 - 2;
        }
        shuffle(v, rng);
        Tensor x = new Naive.Arr(shape, v).tensor().requiresGrad(true);
        String what = " over dim " + d + " of " + Arrays.toString(shape) + " (permuted)";
        GradCheck.check("sum" + what, in -> Ops.sum(in.get(0).permute(2, 0, 1), d, keep), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("mean" + what, in -> Ops.mean(in.get(0).permute(2, 0, 1), d, keep), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("max" + what, in -> Ops.max(in.get(0).permute(2, 0, 1), d, keep), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("sumAll" + what, in -> Ops.sumAll(in.get(0).permute(2, 0, 1)), List.of(x), 1e-2, 1e-3, 1e-3);
        int n = x.permute(2, 0, 1).size(d);
        int k = 1 + rng.nextInt(n);
        GradCheck.check("topk k=" + k + what, in -> Ops.topk(in.get(0).permute(2, 0, 1), k, d, true).values(), List.of(x), 1e-2, 1e-3, 1e-3);
      }
    });
  }
}
