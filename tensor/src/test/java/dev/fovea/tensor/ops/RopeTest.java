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
 * Rotary embeddings, half-rotation and interleaved, over random views of x [..., T, D] with the
 * tables from {@link Rope#tables}. Forward tolerance |err| &lt;= 1e-6 + 1e-6 (|a cos| + |b sin|)
 * (two products and a sum).
 */
class RopeTest {

  @Tag("kernel")
  @Test
  void ropeMatchesNaive() {
    qt(1).forAll(Gens.shape(2, 4), Gens.seeds()).checkAssert((shape0, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int[] shape = shape0.clone();
        shape[shape.length - 1] = 2 * Math.max(1, shape[shape.length - 1] / 2);
        int t = shape[shape.length - 2];
        int d = shape[shape.length - 1];
        Tensor[] cs = Rope.tables(rng.nextInt(100), t, d, 10000);
        Gens.View x = Gens.view(rng, shape, true);
        for (boolean inter : new boolean[] {false, true}) {
          Naive.Arr want = Naive.rope(x.a(), Naive.Arr.of(cs[0]), Naive.Arr.of(cs[1]), inter);
          Naive.Arr cond = Naive.rope(x.a().abs(), Naive.Arr.of(cs[0]).abs(), Naive.Arr.of(cs[1]).abs().map(v -> -v), inter).abs();
          Check.close("rope interleaved=" + inter + " of " + x, Ops.rope(x.t(), cs[0], cs[1], inter), want, cond, 1e-6, 0, 1e-6);
        }
      }
    });
  }

  /**
   * Without autograd rope runs one fused pass; with it, the composed ops. Both do the same float
   * operations per pair, so they agree bit for bit, here with per-sequence tables [B, 1, T, D/2]
   * broadcast over the heads of x [B, H, T, D] (a transposed view, as attention's q and k).
   */
  @Tag("kernel")
  @Test
  void fusedEqualsComposedWithPerSequenceTables() {
    qt(0.5).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int b = 1 + rng.nextInt(3);
        int h = 1 + rng.nextInt(4);
        int t = 1 + rng.nextInt(5);
        int d = 2 * (1 + rng.nextInt(8));
        Tensor x = Tensor.randn(rng, b, t, h, d).transpose(1, 2);
        Tensor cos = Tensor.randn(rng, b, 1, t, d / 2);
        Tensor sin = Tensor.randn(rng, b, 1, t, d / 2);
        for (boolean inter : new boolean[] {false, true}) {
          Tensor fused = Ops.rope(x, cos, sin, inter);
          Tensor composed = Ops.rope(x.detach().requiresGrad(true), cos, sin, inter).detach();
          Check.close("fused vs composed rope interleaved=" + inter, fused, Naive.Arr.of(composed), 0, 0);
        }
      }
    });
  }

  /** rope is linear in x and bilinear in (x, cos/sin): eps = 1e-2 is exact up to rounding; |err| &lt;= 1e-3 + 1e-3 |numeric|. */
  @Test
  void ropeBackward() {
    qt(0.2).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int t = 1 + rng.nextInt(4);
        int d = 2 * (1 + rng.nextInt(3));
        Tensor x = Tensor.randn(rng, 2, d, t).requiresGrad(true);
        Tensor cos = Tensor.randn(rng, t, d / 2).requiresGrad(true);
        Tensor sin = Tensor.randn(rng, t, d / 2).requiresGrad(true);
        for (boolean inter : new boolean[] {false, true}) {
          GradCheck.check("rope interleaved=" + inter + " of a transposed x", in -> Ops.rope(in.get(0).mT(), in.get(1), in.get(2), inter),
              List.of(x, cos, sin), 1e-2, 1e-3, 1e-3);
        }
      }
    });
  }
}
