package dev.fovea.methods.avc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** AVC's layer selection and blind-token rule on cases computed by hand (spec 2.2, 2.3, 5). */
class BlindTokensTest {
  /** Spec 5: sorted shares (0.5, 0.25, 0.125, 0.125), exact binary fractions. */
  @Test
  void topPOverLayersFollowsTheSpecsWorkedCases() {
    double[] p = {0.125, 0.5, 0.125, 0.25}; // layer 1 first, then 3, then 0 and 2 (lower index first on the tie)
    assertArrayEquals(new int[] {1}, BlindTokens.topP(p, 0.5)); // 0.5 is not < 0.5: k = 0 + 1
    assertArrayEquals(new int[] {1, 3}, BlindTokens.topP(p, 0.6));
    assertArrayEquals(new int[] {1, 3, 0}, BlindTokens.topP(p, 0.8));
    assertArrayEquals(new int[] {1, 3, 0, 2}, BlindTokens.topP(p, 0.9));
    assertArrayEquals(new int[] {1, 3, 0, 2}, BlindTokens.topP(p, 1.0)); // never more than every layer
  }

  /**
   * Three layers, four image positions. Sums s = (1, 2, 1) give shares (0.25, 0.5, 0.25); P = 0.6
   * selects layers 1 and then 0 (tie with 2: lower first). a = mean of layers 1 and 0 =
   * ((0.2+0.4)/2, (0.2+0.2)/2, (0.2+1.2)/2, (0.4+0.2)/2) = (0.3, 0.2, 0.7, 0.3); mean 0.375; deviations
   * (-0.075, -0.175, 0.325, -0.075), squares sum 0.0056250 + 0.030625 + 0.105625 + 0.005625 = 0.1475,
   * N - 1 std = sqrt(0.1475 / 3) = 0.221736...; tau (lambda 1) = 0.596736: only position 2 is blind.
   * With lambda = -0.5, tau = 0.375 - 0.110868 = 0.264132: positions 0, 2 and 3.
   */
  @Test
  void blindTokensByHand() {
    double[][] headMean = {
      {0.2, 0.2, 0.2, 0.4}, // s = 1
      {0.4, 0.2, 1.2, 0.2}, // s = 2
      {0.25, 0.25, 0.25, 0.25}, // s = 1
    };
    int[] positions = {40, 41, 42, 43};
    BlindTokens b = BlindTokens.of(headMean, 0.6, 1, positions);
    assertArrayEquals(new int[] {1, 0}, b.layers());
    assertArrayEquals(new double[] {0.25, 0.5, 0.25}, b.layerShares(), 1e-15);
    assertArrayEquals(new double[] {0.3, 0.2, 0.7, 0.3}, b.attention(), 1e-12);
    assertEquals(0.375 + Math.sqrt(0.1475 / 3), b.threshold(), 1e-12);
    assertArrayEquals(new int[] {2}, b.blind());
    assertArrayEquals(new int[] {42}, b.blindPositions());
    assertArrayEquals(new int[] {40, 41, 43}, b.nonBlindPositions());
    BlindTokens low = BlindTokens.of(headMean, 0.6, -0.5, positions);
    assertArrayEquals(new int[] {0, 2, 3}, low.blind());
  }
}
