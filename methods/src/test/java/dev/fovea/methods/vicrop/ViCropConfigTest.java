package dev.fovea.methods.vicrop;

import static dev.fovea.methods.vicrop.BoxSelectionTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * {@link ViCropConfig} refuses the values the command line refuses, so a library caller is held to
 * the same ranges (the old config took a high-res threshold of 1 px: 30,000 tiles for a 200 x 150
 * image, and a base size of 1 px).
 */
class ViCropConfigTest {
  @Test
  void rangesNameTheSettingAndTheValue() {
    ViCropConfig d = ViCropConfig.defaults();
    assertMessage("high-res threshold must be within [64, 100000] px, got 1", () -> d.withHighResThreshold(1));
    assertMessage("high-res threshold must be within [64, 100000] px, got 0", () -> d.withHighResThreshold(0));
    assertMessage("high-res threshold must be within [64, 100000] px, got 100001", () -> d.withHighResThreshold(100_001));
    assertMessage("base size must be 0 (the vision tower's input size) or within [64, 100000] px, got 1", () -> d.withBaseSize(1));
    assertMessage("base size must be 0 (the vision tower's input size) or within [64, 100000] px, got -1", () -> d.withBaseSize(-1));
    assertMessage("base size must be 0 (the vision tower's input size) or within [64, 100000] px, got 200000", () -> d.withBaseSize(200_000));
    assertMessage("max new tokens must be at least 1, got 0", () -> d.withMaxNewTokens(0));
    assertMessage("layer must be >= 0, got -1", () -> d.withLayer(-1));
  }

  @Test
  void theBoundsThemselvesAndTheDefaultsAreAccepted() {
    ViCropConfig d = ViCropConfig.defaults();
    assertEquals(0, d.baseSize());
    assertEquals(1024, d.highResThreshold());
    assertEquals(64, d.withBaseSize(64).baseSize());
    assertEquals(100_000, d.withBaseSize(100_000).baseSize());
    assertEquals(64, d.withHighResThreshold(64).highResThreshold());
    assertEquals(100_000, d.withHighResThreshold(100_000).highResThreshold());
    assertEquals(Integer.MAX_VALUE, d.withMaxNewTokens(Integer.MAX_VALUE).maxNewTokens()); // the context bounds it at run time
  }
}
