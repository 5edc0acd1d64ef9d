package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;

import dev.fovea.tensor.Check;
import dev.fovea.tensor.DType;
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
 * reshape, permute, transpose, slice, select, squeeze/unsqueeze, expand, contiguous and to(dtype)
 * over random views: exact (data movement), except to(F16/BF16), which must equal the input rounded
 * to the type (checked through Float.float16ToFloat / bf16 rounding); and their gradients.
 */
class ViewsTest {

  @Tag("kernel")
  @Test
  void viewsMatchNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        Gens.View x = Gens.view(rng, shape, true);
        int r = shape.length;
        // reshape to a random regrouping of the same elements
        int n = Naive.numel(shape);
        int f = 1;
        for (int c = 2; c <= n; c++) {
          if (n % c == 0 && rng.nextBoolean()) {
            f = c;
            break;
          }
        }
        Naive.Arr flat = new Naive.Arr(new int[] {n}, x.a().v());
        Check.close("reshape of " + x, Ops.reshape(x.t(), f, -1), new Naive.Arr(new int[] {f, n / f}, x.a().v()), 0, 0);
        Check.close("reshape to 1-d of " + x, Ops.reshape(x.t(), n), flat, 0, 0);
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) {
          perm[i] = i;
        }
        for (int i = r - 1; i > 0; i--) {
          int j = rng.nextInt(i + 1);
          int t = perm[i];
          perm[i] = perm[j];
          perm[j] = t;
        }
        Naive.Arr permuted = Naive.permute(x.a(), perm);
        Check.close("permute of " + x, Ops.permute(x.t(), perm), permuted, 0, 0);
        Check.close("contiguous of permuted " + x, Ops.contiguous(Ops.permute(x.t(), perm)), permuted, 0, 0);
        Check.close("reshape of permuted " + x, Ops.reshape(Ops.permute(x.t(), perm), n), new Naive.Arr(new int[] {n}, permuted.v()), 0, 0);
        int d = rng.nextInt(r);
        int start = rng.nextInt(shape[d] + 1);
        int end = start + rng.nextInt(shape[d] - start + 1);
        int step = 1 + rng.nextInt(3);
        Check.close("slice " + start + ":" + end + ":" + step + " of " + x, Ops.slice(x.t(), d, start, end, step), Naive.slice(x.a(), d, start, end, step), 0, 0);
        int i = rng.nextInt(shape[d]);
        Naive.Arr sel = Naive.slice(x.a(), d, i, i + 1, 1);
        int[] selShape = new int[r - 1];
        for (int k = 0, j = 0; k < r; k++) {
          if (k != d) {
            selShape[j++] = shape[k];
          }
        }
        Check.close("select of " + x, Ops.select(x.t(), d, i), new Naive.Arr(selShape, sel.v()), 0, 0);
        int u = rng.nextInt(r + 1);
        int[] us = new int[r + 1];
        for (int k = 0, j = 0; k <= r; k++) {
          us[k] = k == u ? 1 : shape[j++];
        }
        Check.close("unsqueeze of " + x, Ops.unsqueeze(x.t(), u), new Naive.Arr(us, x.a().v()), 0, 0);
        Check.close("squeeze(unsqueeze) of " + x, Ops.squeeze(Ops.unsqueeze(x.t(), u), u), x.a(), 0, 0);
        int[] big = new int[r + 1];
        big[0] = 1 + rng.nextInt(3);
        System.arraycopy(shape, 0, big, 1, r);
        Check.close("expand of " + x, Ops.expand(x.t(), big), Naive.expand(x.a(), big), 0, 0);
        Check.close("to(F16) of " + x, Ops.to(x.t(), DType.F16), x.a().map(v -> Float.float16ToFloat(Float.floatToFloat16((float) v))), 0, 0);
        Check.close("to(BF16) of " + x, Ops.to(x.t(), DType.BF16), x.a().map(ViewsTest::bf16), 0, 0);
      }
    });
  }

  /** Round to nearest even at bf16's 8 mantissa bits (finite values). */
  static double bf16(double v) {
    int bits = Float.floatToIntBits((float) v);
    int lsb = (bits >>> 16) & 1;
    return Float.intBitsToFloat((bits + 0x7FFF + lsb) & 0xFFFF0000);
  }

  /**
   * Gradients through chains of views and to(dtype): linear maps, exact up to rounding at eps = 1e-2
   * (|err| &lt;= 1e-3 + 1e-3 |numeric|). For to(F16/BF16) the forward rounds to the type, so the
   * difference quotient carries up to ulp/(2 eps) of error: eps = 0.25 makes that 1.6e-2 for bf16
   * values of O(1) (ulp 2^-7), and the tolerance 3e-2 covers it; the gradient itself is exactly 1.
   */
  @Test
  void viewsBackward() {
    qt(0.2).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        Tensor x = Tensor.randn(rng, 2, 3, 4).requiresGrad(true);
        GradCheck.check("permute+reshape", in -> Ops.reshape(Ops.permute(in.get(0), 2, 0, 1), 4, 6), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("slice with step", in -> Ops.slice(in.get(0), 2, 1, 4, 2), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("select+unsqueeze", in -> Ops.unsqueeze(Ops.select(in.get(0), 1, 2), 0), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("expand (sums over the broadcast)", in -> Ops.expand(Ops.slice(in.get(0), 1, 0, 1, 1), 5, 2, 3, 4), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("contiguous of transpose", in -> Ops.contiguous(in.get(0).transpose(0, 2)), List.of(x), 1e-2, 1e-3, 1e-3);
        GradCheck.check("to(F16)", in -> Ops.mul(Ops.to(in.get(0), DType.F16), in.get(0)), List.of(x), 0.25, 3e-2, 3e-2);
        GradCheck.check("to(BF16)", in -> Ops.to(in.get(0), DType.BF16), List.of(x), 0.25, 3e-2, 3e-2);
      }
    });
  }
}
