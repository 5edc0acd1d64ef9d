package dev.fovea.llm.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Device;
import dev.fovea.tensor.testing.TestBackend;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The GPU check's model cases (bench/gpu-check.sh runs them on cuda:0) pass on the test device,
 * which gives the CPU's numbers bit for bit: the harness moves every model and compares every
 * output; and its comparison fails where outputs differ.
 */
class ModelsDeviceCheckTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 9);
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize(); // surefire runs in llm/

  @Test
  void everyTinyModelOnTheTestDevicePasses() {
    assertTrue(ModelsDeviceCheck.instructBlip(ROOT.resolve("llm/src/test/resources/instructblip-reference/tiny"), DEVICE));
    assertTrue(ModelsDeviceCheck.blip(ROOT.resolve("vit/src/test/resources/blip-reference/tiny"), DEVICE));
    assertTrue(ModelsDeviceCheck.dino(ROOT.resolve("vit/src/test/resources/dino-reference"), DEVICE));
    assertTrue(ModelsDeviceCheck.clip(ROOT.resolve("vit/src/test/resources/clip-reference"), DEVICE));
  }

  @Test
  void theComparisonFailsOnADifference() {
    assertEquals(0.5, Compare.rel(new float[] {1, 3}, new float[] {1, 2}), 1e-12);
    assertEquals(Double.POSITIVE_INFINITY, Compare.rel(new float[] {Float.NaN}, new float[] {1}));
    assertEquals(Double.POSITIVE_INFINITY, Compare.rel(new float[] {1}, new float[] {1, 2}));
    assertFalse(Compare.report("x", 2e-4, ModelsDeviceCheck.TOL));
  }
}
