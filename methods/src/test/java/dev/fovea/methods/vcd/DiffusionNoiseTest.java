package dev.fovea.methods.vcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fovea.methods.contrastive.ContrastiveException;
import dev.fovea.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** VCD's forward-diffusion schedule against the spec's coefficients (3.1) and the noise's determinism. */
class DiffusionNoiseTest {
  @Test
  void theScheduleGivesTheSpecsCoefficients() {
    double[] c500 = DiffusionNoise.coefficients(500);
    assertEquals(0.8630, c500[0], 5e-5);
    assertEquals(0.5052, c500[1], 5e-5);
    double[] c999 = DiffusionNoise.coefficients(999);
    assertEquals(0.2850, c999[0], 5e-5);
    assertEquals(0.9585, c999[1], 5e-5);
    // step 0: one factor 1 - beta_0, beta_0 = sigmoid(-6) (5e-3 - 1e-5) + 1e-5
    double beta0 = 1 / (1 + Math.exp(6)) * (5e-3 - 1e-5) + 1e-5;
    assertEquals(Math.sqrt(1 - beta0), DiffusionNoise.coefficients(0)[0], 1e-15);
  }

  @Test
  void distortionIsTheWeightedSumAndTheNoiseRepeatsPerSeed() {
    Tensor x = Tensor.of(new float[] {1f, -2f, 0.5f, 0f}, 1, 1, 2, 2);
    Tensor eps = Tensor.of(new float[] {0f, 1f, -1f, 2f}, 1, 1, 2, 2);
    double[] c = DiffusionNoise.coefficients(500);
    float a = (float) c[0];
    float b = (float) c[1];
    assertArrayEquals(new float[] {a * 1f, a * -2f + b, a * 0.5f - b, 2 * b}, DiffusionNoise.distort(x, eps, 500).toFloatArray(), 1e-7f);
    assertArrayEquals(DiffusionNoise.gaussian(5, 3, 4).toFloatArray(), DiffusionNoise.gaussian(5, 3, 4).toFloatArray(), 0f);
    assertThrows(ContrastiveException.class, () -> DiffusionNoise.coefficients(1000));
    assertThrows(ContrastiveException.class, () -> DiffusionNoise.distort(x, Tensor.zeros(1, 1, 2, 3), 500));
  }
}
