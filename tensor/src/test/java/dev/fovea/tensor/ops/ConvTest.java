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
 * conv2d with stride and padding (general path) and the patch-embedding case (stride = kernel,
 * no padding; one GEMM), over random views. Forward tolerance |err| &lt;= 1e-6 + 1e-5 conv(|x|, |w|) + |b|.
 */
class ConvTest {

  @Tag("kernel")
  @Test
  void conv2dMatchesNaive() {
    qt(0.5).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int b = 1 + rng.nextInt(2);
        int c = 1 + rng.nextInt(4);
        int o = 1 + rng.nextInt(20);
        int kh = 1 + rng.nextInt(4);
        int kw = rng.nextBoolean() ? kh : 1 + rng.nextInt(4);
        boolean patch = rng.nextInt(3) == 0 && kh == kw;
        int stride = patch ? kh : 1 + rng.nextInt(3);
        int pad = patch ? 0 : rng.nextInt(3);
        int h = Math.max(1, kh - 2 * pad) + rng.nextInt(10);
        int w = Math.max(1, kw - 2 * pad) + rng.nextInt(10);
        Gens.View x = Gens.view(rng, new int[] {b, c, h, w}, true);
        Gens.View wt = Gens.view(rng, new int[] {o, c, kh, kw}, true);
        Gens.View bias = rng.nextBoolean() ? Gens.view(rng, new int[] {o}, true) : null;
        Tensor y = Ops.conv2d(x.t(), wt.t(), bias == null ? null : bias.t(), stride, pad);
        Naive.Arr want = Naive.conv2d(x.a(), wt.a(), bias == null ? null : bias.a(), stride, pad);
        Naive.Arr cond = Naive.conv2d(x.a().abs(), wt.a().abs(), bias == null ? null : bias.a().abs(), stride, pad);
        Check.close("conv2d x " + x + " w " + wt + " stride " + stride + " pad " + pad, y, want, cond, 1e-6, 0, 1e-5);
      }
    });
  }

  /** Bilinear in (x, w), linear in b: eps = 1e-2 exact up to rounding; |err| &lt;= 1e-3 + 1e-3 |numeric|. */
  @Test
  void conv2dBackward() {
    qt(0.1).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int k = 1 + rng.nextInt(3);
        boolean patch = rng.nextBoolean();
        int stride = patch ? k : 1 + rng.nextInt(2);
        int pad = patch ? 0 : rng.nextInt(2);
        Tensor x = Tensor.randn(rng, 1, 2, k + rng.nextInt(3), k + rng.nextInt(3)).requiresGrad(true);
        Tensor w = Tensor.randn(rng, 2, 2, k, k).requiresGrad(true);
        Tensor b = Tensor.randn(rng, 2).requiresGrad(true);
        GradCheck.check("conv2d k " + k + " stride " + stride + " pad " + pad, in -> Ops.conv2d(in.get(0), in.get(1), in.get(2), stride, pad),
            List.of(x, w, b), 1e-2, 1e-3, 1e-3);
      }
    });
  }
}
