package dev.fovea.tensor;

import dev.fovea.tensor.autograd.GradMode;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Gradient check against central finite differences in double precision (the oracle for every
 * backward, STYLE point 11): the function is evaluated in float32 by our ops but each probe's
 * difference quotient is formed in double, and the function is reduced to a scalar by a fixed
 * random weighting so every output element contributes.
 */
public final class GradCheck {
  private GradCheck() {}

  /** Analytic and numeric gradients of one input, flattened. */
  public record Result(int input, double[] analytic, double[] numeric, double maxAbsError, int worstIndex) {}

  /**
   * Checks d(sum(f(inputs) * w))/d(inputs[i]) for every input i that requires grad. Fails with a
   * message naming the op, the input and the worst element when |analytic - numeric| exceeds
   * {@code atol + rtol * |numeric|}.
   */
  public static void check(String op, Function<List<Tensor>, Tensor> f, List<Tensor> inputs, double eps, double atol, double rtol) {
    for (Result r : compute(f, inputs, eps)) {
      for (int j = 0; j < r.analytic().length; j++) {
        double a = r.analytic()[j];
        double n = r.numeric()[j];
        if (!(Math.abs(a - n) <= atol + rtol * Math.abs(n))) {
          throw new AssertionError(
              op + ": backward input " + r.input() + " element " + j + ": analytic " + a + " vs numeric " + n
                  + " (shape " + Arrays.toString(inputs.get(r.input()).shape()) + ", max |err| " + r.maxAbsError() + ")");
        }
      }
    }
  }

  public static List<Result> compute(Function<List<Tensor>, Tensor> f, List<Tensor> inputs, double eps) {
    Tensor probe;
    try (var g = GradMode.disable()) {
      probe = f.apply(detached(inputs, -1, 0, 0));
    }
    // fixed weighting so that the scalar depends on every output element
    float[] w = new float[(int) probe.numel()];
    java.util.Random rng = new java.util.Random(12345);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rng.nextDouble() * 2 - 1);
    }
    Tensor weights = Tensor.of(w, probe.shape());
    List<Tensor> leaves = detached(inputs, -1, 0, 0);
    for (int i = 0; i < leaves.size(); i++) {
      if (inputs.get(i).requiresGrad()) {
        leaves.get(i).requiresGrad(true);
      }
    }
    try (var g = GradMode.enable()) {
      Tensor out = f.apply(leaves);
      Ops.sumAll(Ops.mul(out, weights)).backward();
    }
    List<Result> results = new java.util.ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      if (!inputs.get(i).requiresGrad()) {
        continue;
      }
      Tensor gradT = leaves.get(i).grad();
      int n = (int) inputs.get(i).numel();
      double[] analytic = new double[n];
      float[] ga = gradT == null ? new float[n] : gradT.toFloatArray();
      for (int j = 0; j < n; j++) {
        analytic[j] = ga[j];
      }
      double[] numeric = new double[n];
      float[] x0 = inputs.get(i).toFloatArray();
      for (int j = 0; j < n; j++) {
        float[] plus = outputs(f, detached(inputs, i, j, eps));
        float[] minus = outputs(f, detached(inputs, i, j, -eps));
        // Differences are taken per output element before weighting, so one huge output cannot
        // swamp the small changes of the others; and the quotient uses the step actually taken
        // (x +- eps rounds to float).
        double diff = 0;
        for (int o = 0; o < w.length; o++) {
          diff += ((double) plus[o] - minus[o]) * w[o];
        }
        double step = (double) (float) (x0[j] + eps) - (double) (float) (x0[j] - eps);
        numeric[j] = diff / step;
      }
      double worst = 0;
      int at = -1;
      for (int j = 0; j < n; j++) {
        double e = Math.abs(analytic[j] - numeric[j]);
        if (e > worst || at < 0) {
          worst = e;
          at = j;
        }
      }
      results.add(new Result(i, analytic, numeric, worst, at));
    }
    return results;
  }

  private static float[] outputs(Function<List<Tensor>, Tensor> f, List<Tensor> in) {
    try (var g = GradMode.disable()) {
      return f.apply(in).toFloatArray();
    }
  }

  /** Fresh contiguous F32 copies of the inputs (same shapes); element {@code j} of input {@code which} is shifted by {@code delta}. */
  private static List<Tensor> detached(List<Tensor> inputs, int which, int j, double delta) {
    List<Tensor> out = new java.util.ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      Tensor t = inputs.get(i);
      if (!t.dtype().isFloatingPoint()) {
        out.add(t);
        continue;
      }
      float[] v = t.toFloatArray();
      if (i == which) {
        v[j] = (float) (v[j] + delta);
      }
      out.add(Tensor.of(v, t.shape()));
    }
    return out;
  }
}
