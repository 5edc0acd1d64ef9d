package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.WeightSource;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link BoxSelection}: the spec's worked examples, the reference fixtures and bad input. */
class BoxSelectionTest {
  static ImportanceMap ones(int rows, int cols) {
    float[] v = new float[rows * cols];
    Arrays.fill(v, 1f);
    return new ImportanceMap(rows, cols, v);
  }

  static ImportanceMap with(ImportanceMap m, int row, int col, float value) {
    float[] v = m.values();
    v[row * m.cols() + col] = value;
    return new ImportanceMap(m.rows(), m.cols(), v);
  }

  @Test
  void specExampleOneHotCellInA1024x768Image() {
    BoxSelection.Selection s = BoxSelection.select(with(ones(24, 24), 5, 18, 10f), 1024, 768, 336);
    assertEquals(new Box(493, 0, 829, 336), s.box(), s.describe());
    // the spec's trace: r = 1 gives a 7 x 10 window at x 12, y 0, score 79, neighbours 70 / 79 / 79
    BoxSelection.Trial t = s.trials().get(0);
    assertEquals(7, t.nx());
    assertEquals(10, t.ny());
    assertEquals(12, t.bestX());
    assertEquals(0, t.bestY());
    assertEquals(79.0, t.bestScore());
    assertEquals((70.0 + 79 + 79) / 3, t.neighbourMean());
    assertEquals((79 - (70.0 + 79 + 79) / 3) / 70, t.sharpness());
    assertEquals(9, s.trials().get(1).nx());
    assertEquals(12, s.trials().get(1).ny());
    assertEquals(3.0 / 108, s.trials().get(1).sharpness(), 1e-15);
    assertEquals(1.0, s.ratio());
    assertEquals(0, s.ratioIndex());
    assertFalse(s.fullImage());
    assertEquals(6, s.trials().size());
  }

  @Test
  void specExampleTwoHotBlockInA640x480Image() {
    ImportanceMap m = ones(24, 24);
    for (int r = 10; r <= 12; r++) {
      for (int c = 2; c <= 4; c++) {
        m = with(m, r, c, 5f);
      }
    }
    assertEquals(new Box(0, 0, 336, 336), BoxSelection.select(m, 640, 480, 336).box());
  }

  @Test
  void specExampleThreeSmallImageIsReturnedWhole() {
    float[] v = new float[576];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i * 7919) % 101;
    }
    BoxSelection.Selection s = BoxSelection.select(new ImportanceMap(24, 24, v), 300, 200, 336);
    assertEquals(new Box(0, 0, 300, 200), s.box());
    assertTrue(s.fullImage());
    assertTrue(s.trials().stream().allMatch(t -> t == null));
    assertTrue(s.describe().contains("full image"), s.describe());
  }

  @Test
  void halfSideIsTheFloorOfAFractionalWindow() {
    // ratio 1.2 alone: S* = 403.2, half = floor(201.6) = 201, side 402
    BoxSelection.Selection s = BoxSelection.select(with(ones(24, 24), 12, 12, 9f), 2000, 2000, 336, new double[] {1.2});
    assertEquals(402, s.box().width());
    assertEquals(402, s.box().height());
  }

  @Test
  void aCellWiderThanTheWindowIsWidenedToOneCell() {
    // 24 columns over 12000 px: one cell is 500 px, wider than 336: the reference's nx would be 0
    BoxSelection.Selection s = BoxSelection.select(with(ones(24, 24), 3, 20, 50f), 12000, 500, 336, new double[] {1.0});
    BoxSelection.Trial t = s.trials().get(0);
    assertEquals(1, t.nx());
    assertEquals(20, t.bestX());
    // centre trunc(20 * 500 + 250) = 10250, half 168
    assertEquals(new Box(10082, 0, 10418, 336), s.box(), s.describe());
  }

  @Test
  void laterRatiosWhoseWindowCoversTheMapAreSkipped() {
    // 640 x 480, 24 x 24: r = 1.8 gives 604.8 / 26.67 = 22 x 24, r = 2 gives 25 -> 24 x 24 (skipped)
    BoxSelection.Selection s = BoxSelection.select(with(ones(24, 24), 2, 2, 3f), 640, 480, 336);
    assertNotNull(s.trials().get(4));
    assertNull(s.trials().get(5));
    assertTrue(s.describe().contains("skipped"), s.describe());
  }

  @Test
  void anImageSideEqualToTheBaseSizeCanStillSlideAWindowAsTheReferenceDoes() {
    // 9 / (9 / 7) = 6.999... in doubles, so int() gives 6 columns of 7: the reference slides, and the
    // box side is 2 * floor(9 / 2) = 8, one pixel short of the image
    BoxSelection.Selection s = BoxSelection.select(with(ones(7, 7), 3, 3, 2f), 9, 9, 9, new double[] {1.0});
    assertFalse(s.fullImage());
    assertEquals(8, s.box().width());
  }

  @Test
  void matchesTheReferenceOnRandomMaps() {
    JsonNode cases = GeometryFixtures.json("boxes.json").get("cases");
    assertTrue(cases.size() >= 20, "fixture has " + cases.size() + " cases");
    int guarded = 0;
    int full = 0;
    int notFirst = 0;
    try (WeightSource maps = GeometryFixtures.arrays("boxes.safetensors")) {
      for (JsonNode c : cases) {
        String name = c.get("name").asText();
        ImportanceMap map = new ImportanceMap(c.get("rows").intValue(), c.get("cols").intValue(), maps.get(name).toFloatArray());
        double[] ratios = GeometryFixtures.doubles(c.get("ratios"));
        BoxSelection.Selection s = BoxSelection.select(map, c.get("width").intValue(), c.get("height").intValue(), c.get("base").intValue(), ratios);
        int[] box = GeometryFixtures.ints(c.get("box"));
        assertEquals(new Box(box[0], box[1], box[2], box[3]), s.box(), name + "\n" + s.describe());
        JsonNode chosen = c.get("chosen");
        assertEquals(chosen.isNull(), s.fullImage(), name);
        if (!chosen.isNull()) {
          assertEquals(chosen.intValue(), s.ratioIndex(), name);
          assertEquals(ratios[chosen.intValue()], s.ratio(), name);
          notFirst += chosen.intValue() > 0 ? 1 : 0;
        } else {
          full++;
        }
        guarded += c.get("zeroWindowGuard").booleanValue() ? 1 : 0;
        JsonNode trace = c.get("trace");
        for (int i = 0; i < ratios.length; i++) {
          JsonNode e = trace.get(i);
          BoxSelection.Trial t = s.trials().get(i);
          String where = name + " ratio " + ratios[i];
          if (e.isNull()) {
            assertNull(t, where);
            continue;
          }
          assertNotNull(t, where);
          assertEquals(e.get("nx").intValue(), t.nx(), where);
          assertEquals(e.get("ny").intValue(), t.ny(), where);
          assertEquals(e.get("bestX").intValue(), t.bestX(), where);
          assertEquals(e.get("bestY").intValue(), t.bestY(), where);
          // the maps' values make every sum exact in double: the numbers must agree to the bit
          assertEquals(e.get("bestScore").doubleValue(), t.bestScore(), 0.0, where);
          assertEquals(e.get("neighbourMean").doubleValue(), t.neighbourMean(), 0.0, where);
          assertEquals(e.get("sharpness").doubleValue(), t.sharpness(), 0.0, where);
        }
      }
    }
    assertTrue(guarded > 0 && full > 0 && notFirst > 0, "the fixture should cover the zero-window guard (" + guarded
        + "), full images (" + full + ") and a ratio other than the first (" + notFirst + ")");
  }

  @Test
  void nonFiniteMapValuesAreRejectedNamingTheCell() {
    ViCropException e = assertThrows(ViCropException.class, () -> BoxSelection.select(with(ones(24, 24), 3, 17, Float.NaN), 640, 480, 336));
    assertTrue(e.getMessage().contains("(row 3, col 17)") && e.getMessage().contains("NaN"), e.getMessage());
    e = assertThrows(ViCropException.class, () -> BoxSelection.select(with(ones(4, 4), 0, 1, Float.NEGATIVE_INFINITY), 640, 480, 336));
    assertTrue(e.getMessage().contains("(row 0, col 1)") && e.getMessage().contains("Infinity"), e.getMessage());
  }

  @Test
  void badSizesAndRatiosAreRejected() {
    ImportanceMap m = ones(24, 24);
    assertMessage("image size 0 x 480", () -> BoxSelection.select(m, 0, 480, 336));
    assertMessage("image size 640 x -1", () -> BoxSelection.select(m, 640, -1, 336));
    assertMessage("base size 0", () -> BoxSelection.select(m, 640, 480, 0));
    assertMessage("at least one window ratio", () -> BoxSelection.select(m, 640, 480, 336, new double[0]));
    assertMessage("at least one window ratio", () -> BoxSelection.select(m, 640, 480, 336, null));
    assertMessage("strictly ascending", () -> BoxSelection.select(m, 640, 480, 336, new double[] {1.0, 1.4, 1.2}));
    assertMessage("strictly ascending", () -> BoxSelection.select(m, 640, 480, 336, new double[] {1.0, 1.0}));
    assertMessage("must be positive and finite", () -> BoxSelection.select(m, 640, 480, 336, new double[] {-1.0}));
    assertMessage("must be positive and finite", () -> BoxSelection.select(m, 640, 480, 336, new double[] {1.0, Double.NaN}));
    assertMessage("must be positive and finite", () -> BoxSelection.select(m, 640, 480, 336, new double[] {1.0, Double.POSITIVE_INFINITY}));
    assertMessage("under 2 pixels", () -> BoxSelection.select(m, 640, 480, 1, new double[] {1.0}));
    assertMessage("too large", () -> BoxSelection.select(m, 640, 480, 336, new double[] {1.0, 1e10}));
    assertMessage("needs an importance map", () -> BoxSelection.select(null, 640, 480, 336));
  }

  @Test
  void defaultRatiosAreTheReferences() {
    assertArrayEquals(new double[] {1.0, 1.2, 1.4, 1.6, 1.8, 2.0}, BoxSelection.defaultRatios());
    BoxSelection.defaultRatios()[0] = 5; // a copy
    assertEquals(1.0, BoxSelection.defaultRatios()[0]);
  }

  static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
    ViCropException e = assertThrows(ViCropException.class, call);
    assertTrue(e.getMessage().contains(part), "expected \"" + part + "\" in: " + e.getMessage());
  }
}
