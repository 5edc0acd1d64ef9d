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
 * Bilinear and bicubic resizing (torch semantics, align_corners both ways), up and down, over
 * random views of [..., H, W]. The naive kernel is written per output pixel as ATen does, so this
 * also checks the separable-matrix formulation. Forward tolerance |err| &lt;= 1e-5 + 1e-5 |want|.
 */
class InterpolateTest {

  @Tag("kernel")
  @Test
  void interpolateMatchesNaive() {
    qt(0.5).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int rank = 2 + rng.nextInt(3);
        int[] shape = new int[rank];
        for (int d = 0; d < rank - 2; d++) {
          shape[d] = 1 + rng.nextInt(3);
        }
        shape[rank - 2] = 1 + rng.nextInt(9);
        shape[rank - 1] = 1 + rng.nextInt(20);
        int oh = 1 + rng.nextInt(12);
        int ow = 1 + rng.nextInt(24);
        Gens.View x = Gens.view(rng, shape, true);
        for (Interpolate.Mode mode : Interpolate.Mode.values()) {
          for (boolean align : new boolean[] {false, true}) {
            Tensor y = Ops.interpolate(x.t(), oh, ow, mode, align);
            Naive.Arr want = Naive.interpolate(x.a(), oh, ow, mode == Interpolate.Mode.BICUBIC, align);
            Check.close(mode + " alignCorners=" + align + " of " + x + " to " + oh + "x" + ow, y, want, 1e-5, 1e-5);
          }
        }
      }
    });
  }

  /** Linear in x: eps = 1e-2 is exact up to rounding; |err| &lt;= 1e-3 + 1e-3 |numeric|. */
  @Test
  void interpolateBackward() {
    qt(0.1).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        Tensor x = Tensor.randn(rng, 2, 1 + rng.nextInt(4), 1 + rng.nextInt(4)).requiresGrad(true);
        int oh = 1 + rng.nextInt(6);
        int ow = 1 + rng.nextInt(6);
        for (Interpolate.Mode mode : Interpolate.Mode.values()) {
          boolean align = rng.nextBoolean();
          GradCheck.check(mode + " alignCorners=" + align, in -> Ops.interpolate(in.get(0), oh, ow, mode, align), List.of(x), 1e-2, 1e-3, 1e-3);
        }
      }
    });
  }
}
