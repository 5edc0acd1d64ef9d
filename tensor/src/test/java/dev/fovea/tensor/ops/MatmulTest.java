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
 * matmul (torch.matmul semantics: 1-d promotion, broadcast batch dims) and linear, over random
 * views (transposed operands included). Forward tolerance: |err| &lt;= 1e-6 + 1e-5 (|A| |B|)_ij,
 * the sum of the absolute values of the products (float accumulation over k &lt;= 40 terms).
 */
class MatmulTest {

  @Tag("kernel")
  @Test
  void matmulMatchesNaive() {
    qt(1).forAll(Gens.size(), Gens.size(), Gens.size(), Gens.seeds()).checkAssert((m, k, n, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        // batch shapes that broadcast against each other, ranks 0-2 each; 1-d operands sometimes
        int[] batch = {1 + rng.nextInt(3), 1 + rng.nextInt(3)};
        int[] ba = ElementwiseTest.broadcastable(batch, rng);
        int[] bb = ElementwiseTest.broadcastable(batch, rng);
        int kind = rng.nextInt(6);
        int[] sa = kind == 0 ? new int[] {k} : concat(ba, m, k);
        int[] sb = kind == 1 ? new int[] {k} : concat(bb, k, n);
        Gens.View a = Gens.view(rng, sa, true);
        Gens.View b = Gens.view(rng, sb, true);
        Tensor y = Ops.matmul(a.t(), b.t());
        Check.close("matmul " + a + " @ " + b, y, Naive.matmul(a.a(), b.a()), Naive.matmul(a.a().abs(), b.a().abs()), 1e-6, 0, 1e-5);
      }
    });
  }

  @Tag("kernel")
  @Test
  void linearMatchesNaive() {
    qt(1).forAll(Gens.shape(1, 3), Gens.size(), Gens.seeds()).checkAssert((xs, out, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int in = xs[xs.length - 1];
        Gens.View x = Gens.view(rng, xs, true);
        Gens.View w = Gens.view(rng, new int[] {out, in}, false);
        Gens.View b = rng.nextBoolean() ? Gens.view(rng, new int[] {out}, true) : null;
        Tensor y = Ops.linear(x.t(), w.t(), b == null ? null : b.t());
        Naive.Arr want = Naive.linear(x.a(), w.a(), b == null ? null : b.a());
        Naive.Arr cond = Naive.linear(x.a().abs(), w.a().abs(), b == null ? null : b.a().abs());
        Check.close("linear x " + x + " w " + w + " b " + b, y, want, cond, 1e-6, 0, 1e-5);
      }
    });
  }

  /**
   * linearShared (several weights sharing x) equals one linear per weight bit for bit: one row (the
   * fused GEMV pass), several rows and a strided x (one product each), F32 and BF16 weights, and
   * mixed dtypes (separate products); with grad on, gradients flow to x and the weights as through
   * separate linears.
   */
  @Test
  void linearSharedEqualsSeparateLinears() {
    qt(0.5).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int in = 1 + rng.nextInt(300);
        int rows = rng.nextBoolean() ? 1 : 1 + rng.nextInt(5);
        Tensor x = rng.nextBoolean() ? Tensor.randn(rng, rows, in) : Tensor.randn(rng, in, rows).transpose(0, 1);
        dev.fovea.tensor.DType t = rng.nextBoolean() ? dev.fovea.tensor.DType.F32 : dev.fovea.tensor.DType.BF16;
        Tensor[] ws = new Tensor[2 + rng.nextInt(2)];
        for (int i = 0; i < ws.length; i++) {
          dev.fovea.tensor.DType ti = i == 2 && rng.nextBoolean() ? dev.fovea.tensor.DType.F16 : t;
          ws[i] = Tensor.randn(rng, 1 + rng.nextInt(700), in).to(ti);
        }
        Tensor[] got = Ops.linearShared(x.unsqueeze(0), ws);
        for (int i = 0; i < ws.length; i++) {
          Tensor want = Ops.linear(x.unsqueeze(0), ws[i], null);
          Check.close("linearShared weight " + i + " " + ws[i].dtype() + " rows " + rows, got[i], Naive.Arr.of(want), 0, 0);
        }
      }
    });
    try (var s = Scope.open()) {
      Random rng = new Random(3);
      Tensor x = Tensor.randn(rng, 1, 5);
      Tensor w0 = Tensor.randn(rng, 3, 5);
      Tensor w1 = Tensor.randn(rng, 4, 5);
      GradCheck.check("linearShared", in -> {
        Tensor[] y = Ops.linearShared(in.get(0), in.get(1), in.get(2));
        return Ops.add(Ops.sum(y[0], -1, false), Ops.sum(y[1], -1, false));
      }, List.of(x.requiresGrad(true), w0.requiresGrad(true), w1.requiresGrad(true)), 1e-2, 1e-3, 1e-3);
    }
  }

  /**
   * A linear of 2 to 4 rows (contrastive decoding's branches stepped as one batch) gives each row,
   * bit for bit, the linear of that row alone, for every weight dtype, with x contiguous and
   * transposed; so does linearShared of those rows (one pass over two weights).
   */
  @Tag("kernel")
  @Test
  void linearRowsEqualOneRowLinearsBitForBit() {
    Random rng = new Random(29);
    for (dev.fovea.tensor.DType t : new dev.fovea.tensor.DType[] {dev.fovea.tensor.DType.F32, dev.fovea.tensor.DType.BF16,
        dev.fovea.tensor.DType.F16, dev.fovea.tensor.DType.Q8_0, dev.fovea.tensor.DType.Q4_0}) {
      for (int m = 2; m <= 4; m++) {
        try (var s = Scope.open()) {
          int in = t.isQuantized() ? 32 * (1 + rng.nextInt(40)) : 1 + rng.nextInt(600);
          Tensor x = rng.nextBoolean() ? Tensor.randn(rng, m, in) : Tensor.randn(rng, in, m).transpose(0, 1);
          Tensor w0 = Tensor.randn(rng, 1 + rng.nextInt(300), in).to(t);
          Tensor w1 = Tensor.randn(rng, 1 + rng.nextInt(300), in).to(t);
          Tensor y = Ops.linear(x, w0, null);
          Tensor[] shared = Ops.linearShared(x, w0, w1);
          for (int r = 0; r < m; r++) {
            Tensor row = x.narrow(0, r, 1);
            String what = t + " m=" + m + " in=" + in + " row " + r;
            Naive.Arr want0 = Naive.Arr.of(Ops.linear(row, w0, null));
            Check.close("linear " + what, y.narrow(0, r, 1), want0, 0, 0);
            Check.close("linearShared weight 0 " + what, shared[0].narrow(0, r, 1), want0, 0, 0);
            Check.close("linearShared weight 1 " + what, shared[1].narrow(0, r, 1), Naive.Arr.of(Ops.linear(row, w1, null)), 0, 0);
          }
        }
      }
    }
  }

  static int[] concat(int[] a, int... b) {
    int[] o = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, o, a.length, b.length);
    return o;
  }

  /**
   * Backward: matmul with broadcast batch dims (the gradient of the broadcast operand is summed),
   * 1-d operands, a transposed leaf, and linear with bias. matmul is bilinear, so central
   * differences are exact up to float rounding: eps = 1e-2, |err| &lt;= 1e-3 + 1e-3 |numeric|.
   */
  @Test
  void matmulBackward() {
    qt(0.3).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int m = 1 + rng.nextInt(4);
        int k = 1 + rng.nextInt(5);
        int n = 1 + rng.nextInt(4);
        int[] batch = {1 + rng.nextInt(2), 1 + rng.nextInt(3)};
        int[] sa = concat(ElementwiseTest.broadcastable(batch, rng), m, k);
        int[] sb = concat(ElementwiseTest.broadcastable(batch, rng), n, k);
        Tensor a = Tensor.randn(rng, sa).requiresGrad(true);
        Tensor b = Tensor.randn(rng, sb).requiresGrad(true);
        GradCheck.check("matmul " + Arrays.toString(sa) + " @ transpose of " + Arrays.toString(sb),
            in -> Ops.matmul(in.get(0), in.get(1).mT()), List.of(a, b), 1e-2, 1e-3, 1e-3);
        Tensor v = Tensor.randn(rng, k).requiresGrad(true);
        Tensor mat = Tensor.randn(rng, k, n).requiresGrad(true);
        GradCheck.check("matmul vector @ matrix", in -> Ops.matmul(in.get(0), in.get(1)), List.of(v, mat), 1e-2, 1e-3, 1e-3);
        GradCheck.check("matmul matrix @ vector", in -> Ops.matmul(in.get(1).mT(), in.get(0)), List.of(v, mat), 1e-2, 1e-3, 1e-3);
        Tensor x = Tensor.randn(rng, 2, m, k).requiresGrad(true);
        Tensor w = Tensor.randn(rng, n, k).requiresGrad(true);
        Tensor bias = Tensor.randn(rng, n).requiresGrad(true);
        GradCheck.check("linear", in -> Ops.linear(in.get(0), in.get(1), in.get(2)), List.of(x, w, bias), 1e-2, 1e-3, 1e-3);
      }
    });
  }
}
