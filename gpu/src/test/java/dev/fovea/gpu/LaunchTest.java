package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.fovea.tensor.TensorException;
import org.junit.jupiter.api.Test;

/** Grid and block sizes, from the rules in Launch's comment. */
class LaunchTest {
  @Test
  void elementwiseCoversNWithAtMost32BlocksPerMultiprocessor() {
    assertEquals(new Launch(1, 1, 1, 256, 0), Launch.elementwise(1, 132));
    assertEquals(new Launch(1, 1, 1, 256, 0), Launch.elementwise(256, 132));
    assertEquals(new Launch(2, 1, 1, 256, 0), Launch.elementwise(257, 132));
    assertEquals(32 * 132, Launch.elementwise(1L << 40, 132).gridX());
    assertEquals(1, Launch.elementwise(0, 132).gridX());
  }

  @Test
  void rowKernelsUseTheRowLengthRoundedToAWarp() {
    assertEquals(32, Launch.rows(5, 1).blockX());
    assertEquals(64, Launch.rows(5, 33).blockX());
    assertEquals(1024, Launch.rows(5, 5632).blockX());
    assertEquals(5, Launch.rows(5, 10).gridX());
    assertEquals(65535, Launch.rows(1 << 20, 10).gridX());
  }

  @Test
  void gemvGivesEachWeightRowAWarp() {
    assertEquals(256, Launch.gemv(2048, 132).blockX());
    assertEquals(256, Launch.gemv(2048, 132).gridX()); // 2048 rows / 8 warps per block
    assertEquals(64 * 132, Launch.gemv(32000L * 100, 132).gridX());
  }

  @Test
  void attentionGridIsQueriesHeadsBatch() {
    Launch l = Launch.attention(577, 16, 1);
    assertEquals(577, l.gridX());
    assertEquals(16, l.gridY());
    assertEquals(1, l.gridZ());
    assertThrows(TensorException.class, () -> Launch.attention(1, 70000, 1));
    assertThrows(IllegalArgumentException.class, () -> new Launch(1, 1, 1, 2048, 0));
  }
}
