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
 * layer_norm and rms_norm over the last dimension of random views, with and without weight/bias,
 * inputs of scale 1e-2..1e2 and a mean offset (the two-pass variance must not cancel).
 *
 * <p>Forward tolerance: |err| &lt;= 1e-5 ((|x - mean| + |x|) rstd |w| + |b|) + 1e-6: the
 * normalized value carries a relative error of a few float ulps times sqrt(n), and the float mean's
 * own rounding (|x| ulp) is amplified by rstd (large for near-constant rows).
 */
class NormsTest {

  @Tag("kernel")
  @Test
  void normsMatchNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int n = shape[shape.length - 1];
        double scale = new double[] {1e-2, 1, 1e2}[rng.nextInt(3)];
        double offset = rng.nextBoolean() ? 3 * scale : 0;
        double[] v = Gens.normal(rng, Naive.numel(shape), scale);
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (v[i] + offset);
        }
        Gens.View x = Gens.view(rng, shape, v, true);
        Gens.View w = rng.nextBoolean() ? Gens.view(rng, new int[] {n}, true) : null;
        Gens.View b = rng.nextBoolean() ? Gens.view(rng, new int[] {n}, true) : null;
        float eps = 1e-5f;
        String what = " of " + x + " scale " + scale + " offset " + offset + " weight " + w + " bias " + b;
        Naive.Arr want = Naive.layerNorm(x.a(), w == null ? null : w.a(), b == null ? null : b.a(), eps);
        Naive.Arr cond = layerNormCondition(x.a(), w == null ? null : w.a(), b == null ? null : b.a(), eps);
        Check.close("layerNorm" + what, Ops.layerNorm(x.t(), w == null ? null : w.t(), b == null ? null : b.t(), eps), want, cond, 1e-6, 0, 1e-5);
        Naive.Arr rms = Naive.rmsNorm(x.a(), w == null ? null : w.a(), eps);
        Check.close("rmsNorm" + what, Ops.rmsNorm(x.t(), w == null ? null : w.t(), eps), rms, rms.abs(), 1e-6, 0, 1e-5);
      }
    });
  }

  /**
   * Backward w.r.t. input, weight and bias, through a sliced (strided) input. eps = 1e-2 on
   * well-spread inputs with eps_norm = 1e-5: the map is smooth with O(1) curvature; |err| &lt;= 2e-3 + 1e-2 |numeric|.
   */
  @Test
  void normsBackward() {
    qt(0.3).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int rows = 1 + rng.nextInt(3);
        int n = 2 + rng.nextInt(6);
        // distinct values 0.5 apart, none near 0: the variance and the mean square stay away from
        // 0, where rstd's curvature (and the finite-difference error) blows up
        double[] v = new double[rows * 2 * n];
        for (int i = 0; i < v.length; i++) {
          v[i] = (i - v.length / 2) * 0.5 + 0.25;
        }
        ReductionsTest.shuffle(v, rng);
        Tensor x = new Naive.Arr(new int[] {rows, 2 * n}, v).tensor().requiresGrad(true);
        Tensor w = Tensor.randn(rng, n).requiresGrad(true);
        Tensor b = Tensor.randn(rng, n).requiresGrad(true);
        GradCheck.check("layerNorm through a strided slice", in -> Ops.layerNorm(in.get(0).slice(1, 0, 2 * n, 2), in.get(1), in.get(2), 1e-5f),
            List.of(x, w, b), 1e-2, 2e-3, 1e-2);
        GradCheck.check("layerNorm without affine", in -> Ops.layerNorm(in.get(0), null, null, 1e-5f), List.of(x), 1e-2, 2e-3, 1e-2);
        GradCheck.check("rmsNorm through a strided slice", in -> Ops.rmsNorm(in.get(0).slice(1, 1, 2 * n, 2), in.get(1), 1e-5f),
            List.of(x, w), 1e-2, 2e-3, 1e-2);
      }
    });
  }

  /** (|x - mean| + |x|) * rstd * |w| + |b| per element: the magnitudes that layer norm's rounding errors scale with. */
  static Naive.Arr layerNormCondition(Naive.Arr x, Naive.Arr w, Naive.Arr b, double eps) {
    int n = x.size(-1);
    double[] c = new double[x.v().length];
    for (int r = 0; r < c.length / n; r++) {
      double mean = 0;
      for (int i = 0; i < n; i++) {
        mean += x.v()[r * n + i] / n;
      }
      double var = 0;
      for (int i = 0; i < n; i++) {
        var += Math.pow(x.v()[r * n + i] - mean, 2) / n;
      }
      double rstd = 1 / Math.sqrt(var + eps);
      for (int i = 0; i < n; i++) {
        double xi = x.v()[r * n + i];
        c[r * n + i] = (Math.abs(xi - mean) + Math.abs(xi)) * rstd * (w == null ? 1 : Math.abs(w.v()[i])) + (b == null ? 0 : Math.abs(b.v()[i]));
      }
    }
    return new Naive.Arr(x.shape(), c);
  }
}
