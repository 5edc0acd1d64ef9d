package dev.fovea.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** clip_grad_norm_'s rule on hand-checked numbers (torch's own agreement is in AdamWTest and TrainerTest). */
class GradClipTest {

  @Test
  void scalesToMaxNormAndReturnsTheNormBefore() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.of(new float[] {3, 0}, 2);
      Tensor b = Tensor.of(new float[] {0, 0, 4}, 3, 1);
      double norm = GradClip.clipGradNorm(List.of(a, b), 1.0);
      assertEquals(5.0, norm, 0);
      float coef = (1f / (5f + 1e-6f)) * 1f;
      assertArrayEquals(new float[] {3 * coef, 0}, a.toFloatArray());
      assertArrayEquals(new float[] {0, 0, 4 * coef}, b.toFloatArray());
      assertEquals(1.0, GradClip.totalNorm(List.of(a, b)), 1e-6);
    }
  }

  @Test
  void leavesSmallGradientsAlone() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.of(new float[] {0.3f, -0.4f}, 2);
      assertEquals(0.5, GradClip.clipGradNorm(List.of(a), 1.0), 1e-7);
      assertArrayEquals(new float[] {0.3f, -0.4f}, a.toFloatArray());
      assertThrows(TrainException.class, () -> GradClip.clipGradNorm(List.of(a), 0));
      assertThrows(TrainException.class, () -> GradClip.clipGradNorm(List.of(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).mT()), 1));
    }
  }
}
