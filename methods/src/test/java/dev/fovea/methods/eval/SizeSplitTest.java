package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SizeSplitTest {
  private static VqaItem boxed(double x1, double y1, double x2, double y2, int w, int h) {
    return VqaItem.of("q", "i.jpg", "?", List.of("a")).withBox(new BoundingBox(x1, y1, x2, y2), new ImageSize(w, h));
  }

  @Test
  void thresholdsAreHalfOpen() {
    SizeSplit.Thresholds t = SizeSplit.Thresholds.VICROP;
    assertEquals(SizeSplit.SMALL, t.classify(0.0));
    assertEquals(SizeSplit.SMALL, t.classify(0.004999));
    assertEquals(SizeSplit.MEDIUM, t.classify(0.005));
    assertEquals(SizeSplit.MEDIUM, t.classify(0.049999));
    assertEquals(SizeSplit.LARGE, t.classify(0.05));
    assertEquals(SizeSplit.LARGE, t.classify(1.0));
    assertThrows(IllegalArgumentException.class, () -> t.classify(1.5));
    assertThrows(IllegalArgumentException.class, () -> t.classify(Double.NaN));
  }

  @Test
  void itemsBySizeOfTheirBox() {
    // 100 x 100 image = 10,000 px: a 7 x 7 box is 49 px (S = 0.0049), 10 x 5 is 50 (0.005), 50 x 10 is
    // 500 (0.05)
    assertEquals(SizeSplit.SMALL, SizeSplit.of(boxed(0, 0, 7, 7, 100, 100)));
    assertEquals(SizeSplit.MEDIUM, SizeSplit.of(boxed(90, 95, 100, 100, 100, 100)));
    assertEquals(SizeSplit.LARGE, SizeSplit.of(boxed(10, 10, 60, 20, 100, 100)));
    assertEquals(0.0049, SizeSplit.relativeSize(boxed(0, 0, 7, 7, 100, 100)).getAsDouble(), 1e-15);
    assertEquals(SizeSplit.UNSPLIT, SizeSplit.of(VqaItem.of("q", "i.jpg", "?", List.of("a"))));
    assertTrue(SizeSplit.relativeSize(VqaItem.of("q", "i.jpg", "?", List.of("a"))).isEmpty());
  }

  @Test
  void customThresholds() {
    SizeSplit.Thresholds t = new SizeSplit.Thresholds(0.01, 0.1);
    assertEquals(SizeSplit.SMALL, t.classify(boxed(90, 95, 100, 100, 100, 100))); // 0.005 < 0.01
    assertEquals(SizeSplit.MEDIUM, t.classify(boxed(10, 10, 60, 20, 100, 100))); // 0.05 < 0.1
    assertThrows(IllegalArgumentException.class, () -> new SizeSplit.Thresholds(0.1, 0.01));
    assertThrows(IllegalArgumentException.class, () -> new SizeSplit.Thresholds(0, 0.01));
  }

  @Test
  void labels() {
    assertEquals("medium", SizeSplit.MEDIUM.label());
    assertEquals(SizeSplit.UNSPLIT, SizeSplit.parse("Unsplit"));
    assertThrows(IllegalArgumentException.class, () -> SizeSplit.parse("tiny"));
  }

  @Test
  void boxes() {
    BoundingBox b = BoundingBox.of(10, 20, 30, 40, BoundingBox.Format.XYWH);
    assertEquals(new BoundingBox(10, 20, 40, 60), b);
    assertEquals(1200.0, b.area());
    assertTrue(b.inside(new ImageSize(40, 60)));
    assertFalse(b.inside(new ImageSize(39, 60)));
    assertFalse(new BoundingBox(-1, 0, 5, 5).inside(new ImageSize(10, 10)));
    assertThrows(IllegalArgumentException.class, () -> new BoundingBox(5, 0, 5, 10));
    assertThrows(IllegalArgumentException.class, () -> new BoundingBox(0, 10, 5, 2));
    assertThrows(IllegalArgumentException.class, () -> BoundingBox.of(0, 0, 0, 10, BoundingBox.Format.XYWH));
    assertThrows(IllegalArgumentException.class, () -> new BoundingBox(0, 0, Double.NaN, 1));
    assertEquals("[10, 20, 40, 60]", b.toString());
    // an item refuses a box outside its image
    assertThrows(IllegalArgumentException.class, () -> boxed(0, 0, 101, 10, 100, 100));
  }
}
