package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.GradMode;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Cross-entropy with ignore_index: the forward against a naive double log-softmax over random
 * (transposed) logits of scale up to 30 with a random share of ignored rows, |err| &lt;= 1e-6 +
 * 1e-6 |want|; the backward against central differences (eps 1e-2, |err| &lt;= 1e-3 + 1e-2
 * |numeric|); ignored rows get exactly zero gradient.
 */
class LossesTest {

  @Test
  void crossEntropyMatchesNaive() {
    qt(1).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int n = 1 + rng.nextInt(9);
        int v = 1 + rng.nextInt(40);
        double scale = new double[] {1, 5, 30}[rng.nextInt(3)];
        float[] x = new float[n * v];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (rng.nextGaussian() * scale);
        }
        long[] t = new long[n];
        for (int r = 0; r < n; r++) {
          t[r] = r > 0 && rng.nextInt(3) == 0 ? Losses.IGNORE_INDEX : rng.nextInt(v);
        }
        // stored transposed [V, N] and viewed back as [N, V]: a non-contiguous input
        Tensor logits = Tensor.of(transpose(x, n, v), v, n).mT();
        double sum = 0;
        int m = 0;
        for (int r = 0; r < n; r++) {
          if (t[r] == Losses.IGNORE_INDEX) {
            continue;
          }
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < v; j++) {
            max = Math.max(max, x[r * v + j]);
          }
          double z = 0;
          for (int j = 0; j < v; j++) {
            z += Math.exp(x[r * v + j] - max);
          }
          sum += max + Math.log(z) - x[r * v + (int) t[r]];
          m++;
        }
        Tensor targets = Tensor.ofLongs(t, n);
        double mean = Ops.crossEntropy(logits, targets).item();
        double total = Ops.crossEntropy(logits, targets, Losses.IGNORE_INDEX, Losses.Reduction.SUM).item();
        assertTrue(Math.abs(mean - sum / m) <= 1e-6 + 1e-6 * Math.abs(sum / m), "mean " + mean + " vs " + sum / m + " (N " + n + ", V " + v + ")");
        assertTrue(Math.abs(total - sum) <= 1e-6 + 1e-6 * Math.abs(sum), "sum " + total + " vs " + sum);
      }
    });
  }

  @Test
  void crossEntropyBackward() {
    qt(0.3).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int b = 1 + rng.nextInt(3);
        int n = 1 + rng.nextInt(4);
        int v = 2 + rng.nextInt(6);
        long[] t = new long[b * n];
        for (int r = 0; r < t.length; r++) {
          t[r] = r > 0 && rng.nextInt(3) == 0 ? Losses.IGNORE_INDEX : rng.nextInt(v);
        }
        Tensor targets = Tensor.ofLongs(t, b, n);
        Tensor x = Tensor.randn(rng, b, n, v).requiresGrad(true);
        GradCheck.check("crossEntropy mean", in -> Ops.crossEntropy(in.get(0), targets), List.of(x), 1e-2, 1e-3, 1e-2);
        GradCheck.check("crossEntropy sum", in -> Ops.crossEntropy(in.get(0), targets, Losses.IGNORE_INDEX, Losses.Reduction.SUM), List.of(x), 1e-2,
            1e-3, 1e-2);
      }
    });
  }

  /** Rows labelled -100 take no part: their gradient is exactly 0 and the mean divides by the other rows. */
  @Test
  void ignoredRowsGetNoGradient() {
    try (var s = Scope.open(); var g = GradMode.enable()) {
      Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).requiresGrad(true);
      Tensor loss = Ops.crossEntropy(x, Tensor.ofInts(new int[] {-100, 2}, 2));
      loss.backward();
      float[] gx = x.grad().toFloatArray();
      assertEquals(0f, gx[0]);
      assertEquals(0f, gx[1]);
      assertEquals(0f, gx[2]);
      double z = Math.exp(4) + Math.exp(5) + Math.exp(6);
      assertEquals(Math.log(z) - 6, loss.item(), 1e-6);
      assertEquals(Math.exp(4) / z, gx[3], 1e-6);
      assertEquals(Math.exp(6) / z - 1, gx[5], 1e-6);
    }
  }

  @Test
  void badTargetsAreRefused() {
    try (var s = Scope.open()) {
      Tensor x = Tensor.zeros(2, 3);
      TensorException e = assertThrows(TensorException.class, () -> Ops.crossEntropy(x, Tensor.ofInts(new int[] {0, 3}, 2)));
      assertTrue(e.getMessage().contains("target 3 at row 1"), e.getMessage());
      e = assertThrows(TensorException.class, () -> Ops.crossEntropy(x, Tensor.ofInts(new int[] {-100, -100}, 2)));
      assertTrue(e.getMessage().contains("all 2 targets are the ignore index"), e.getMessage());
      assertEquals(0f, Ops.crossEntropy(x, Tensor.ofInts(new int[] {-100, -100}, 2), -100, Losses.Reduction.SUM).item());
      assertThrows(TensorException.class, () -> Ops.crossEntropy(x, Tensor.ofInts(new int[] {0, 1, 2}, 3)));
    }
  }

  private static float[] transpose(float[] x, int n, int v) {
    float[] out = new float[x.length];
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < v; j++) {
        out[j * n + r] = x[r * v + j];
      }
    }
    return out;
  }
}
