package dev.fovea.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void matmulSoftmaxAndGradient() {
    Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    Tensor b = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
    Tensor c = Ops.matmul(a, b);
    assertArrayEquals(new float[] {4, 5, 10, 11}, c.toFloatArray());
    Tensor s = Ops.softmax(c, -1);
    float[] sv = s.toFloatArray();
    assertEquals(1.0, sv[0] + sv[1], 1e-6);
    Random rng = new Random(1);
    Tensor x = Tensor.randn(rng, 3, 4).requiresGrad(true);
    Tensor w = Tensor.randn(rng, 5, 4).requiresGrad(true);
    GradCheck.check("linear+softmax+layerNorm", in -> Ops.layerNorm(Ops.softmax(Ops.linear(in.get(0), in.get(1), null), -1), null, null, 1e-5f), List.of(x, w), 1e-2, 2e-3, 2e-2);
  }
}
