package dev.fovea.methods.scenes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.methods.eval.BoundingBox;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Scenes written by hand: the pixels inside each answer box have the colour the answer names (the
 * palette values are stated here, not read from {@link Colour}), glyphs are the font's cells, and
 * everything else is grey.
 */
class SceneRendererTest {
  static final int RED = 0xDC2828; // (220, 40, 40)
  static final int GREEN = 0x28AA3C; // (40, 170, 60)
  static final int BLUE = 0x2850DC; // (40, 80, 220)
  static final int YELLOW = 0xF5D728; // (245, 215, 40)
  static final int PURPLE = 0x963CBE; // (150, 60, 190)
  static final int ORANGE = 0xF58C1E; // (245, 140, 30)

  static BoundingBox box(int x1, int y1, int x2, int y2) {
    return new BoundingBox(x1, y1, x2, y2);
  }

  /** A red triangle, a blue circle, a green square, a yellow star, a purple cross, an orange 'L' and a framed 'H'. */
  static Scene handMade() {
    return new Scene(200, 160, 99, List.of(
        new Shape(ShapeKind.TRIANGLE, Colour.RED, box(10, 10, 50, 50)),
        new Shape(ShapeKind.CIRCLE, Colour.BLUE, box(60, 10, 100, 50)),
        new Shape(ShapeKind.SQUARE, Colour.GREEN, box(110, 10, 130, 30)),
        new Shape(ShapeKind.STAR, Colour.YELLOW, box(10, 70, 50, 108)),
        new Shape(ShapeKind.CROSS, Colour.PURPLE, box(60, 70, 90, 100))),
        List.of(Glyph.inked('L', box(100, 100, 110, 114), Colour.ORANGE), Glyph.framed('H', box(150, 80, 160, 94))));
  }

  static int at(int[] px, int width, int x, int y) {
    return px[y * width + x];
  }

  static boolean grey(int rgb) {
    int r = rgb >>> 16 & 255;
    int g = rgb >>> 8 & 255;
    int b = rgb & 255;
    return r == g && g == b;
  }

  @Test
  void thePaletteIsTheOneStatedHere() {
    assertEquals(List.of(RED, GREEN, BLUE, YELLOW, PURPLE, ORANGE), Arrays.stream(Colour.values()).map(Colour::rgb).toList());
    assertEquals(List.of("red", "green", "blue", "yellow", "purple", "orange"), Arrays.stream(Colour.values()).map(Colour::label).toList());
  }

  @Test
  void eachShapeIsItsColourAtTheCentreOfItsBox() {
    int[] px = SceneRenderer.render(handMade());
    assertEquals(RED, at(px, 200, 30, 30), "triangle");
    assertEquals(BLUE, at(px, 200, 80, 30), "circle");
    assertEquals(GREEN, at(px, 200, 120, 20), "square");
    assertEquals(YELLOW, at(px, 200, 30, 89), "star");
    assertEquals(PURPLE, at(px, 200, 75, 85), "cross");
    // a square on whole pixels covers exactly its box: 20 x 20 green pixels and no green outside
    int green = 0;
    for (int y = 0; y < 160; y++) {
      for (int x = 0; x < 200; x++) {
        if (at(px, 200, x, y) == GREEN) {
          green++;
          assertTrue(x >= 110 && x < 130 && y >= 10 && y < 30, "green at " + x + ", " + y);
        }
      }
    }
    assertEquals(400, green);
    // shapes fill their boxes: the triangle's apex is at the top middle, its base along the bottom;
    // the circle touches its box's sides at mid-height and leaves its corners; the cross leaves its corners
    assertEquals(RED, at(px, 200, 30, 12));
    assertEquals(RED, at(px, 200, 11, 49));
    assertEquals(RED, at(px, 200, 48, 49));
    assertTrue(grey(at(px, 200, 12, 12)), "triangle's top left corner is background");
    assertEquals(BLUE, at(px, 200, 61, 30));
    assertTrue(grey(at(px, 200, 61, 11)), "circle's corner is background");
    assertEquals(PURPLE, at(px, 200, 61, 85));
    assertEquals(PURPLE, at(px, 200, 75, 71));
    assertTrue(grey(at(px, 200, 64, 74)), "cross's corner is background");
  }

  @Test
  void aGlyphIsItsFontCellsAndNothingElse() {
    int[] px = SceneRenderer.render(handMade());
    // 'L' in a 10 x 14 box: 2 x 2 px per cell; ink is the left column (x 100-101) and the bottom row (y 112-113)
    for (int y = 100; y < 114; y++) {
      for (int x = 100; x < 110; x++) {
        boolean ink = x < 102 || y >= 112;
        int v = at(px, 200, x, y);
        if (ink) {
          assertEquals(ORANGE, v, "ink at " + x + ", " + y);
        } else {
          assertTrue(grey(v), "background at " + x + ", " + y + ": " + Integer.toHexString(v));
        }
      }
    }
  }

  @Test
  void aFramedGlyphIsBlackOnAWhiteCardWithABorder() {
    Scene s = handMade();
    Glyph h = s.glyphs().get(1);
    assertEquals(5, h.framePad(), "a third of 14 px, rounded");
    assertEquals(1, h.frameStroke(), "a tenth of 14 px, rounded");
    assertEquals(box(145, 75, 165, 99), h.footprint());
    int[] px = SceneRenderer.render(s);
    assertEquals(0x282828, at(px, 200, 145, 75), "border");
    assertEquals(0x282828, at(px, 200, 164, 98), "border");
    assertEquals(0xF5F5F5, at(px, 200, 147, 77), "card");
    // 'H': left and right columns, and the middle row (row 3: y 86-87)
    assertEquals(0x141414, at(px, 200, 150, 80), "ink");
    assertEquals(0x141414, at(px, 200, 159, 93), "ink");
    assertEquals(0x141414, at(px, 200, 155, 86), "ink");
    assertEquals(0xF5F5F5, at(px, 200, 155, 82), "card between the strokes");
  }

  @Test
  void everythingOutsideTheObjectsIsGrey() {
    Scene s = handMade();
    int[] px = SceneRenderer.render(s);
    List<BoundingBox> footprints = new java.util.ArrayList<>(s.shapes().stream().map(Shape::box).toList());
    s.glyphs().forEach(g -> footprints.add(g.footprint()));
    int outside = 0;
    for (int y = 0; y < 160; y++) {
      for (int x = 0; x < 200; x++) {
        int fx = x;
        int fy = y;
        if (footprints.stream().noneMatch(b -> fx + 1 > b.x1() && fx < b.x2() && fy + 1 > b.y1() && fy < b.y2())) {
          outside++;
          assertTrue(grey(at(px, 200, x, y)), "colour at " + x + ", " + y);
        }
      }
    }
    assertTrue(outside > 20000, "most of the canvas is background: " + outside);
  }

  @Test
  void theClutterSeedChangesTheBackgroundOnly() {
    Scene a = handMade();
    Scene b = new Scene(200, 160, 100, a.shapes(), a.glyphs());
    int[] pa = SceneRenderer.render(a);
    int[] pb = SceneRenderer.render(b);
    assertFalse(Arrays.equals(pa, pb));
    assertEquals(at(pa, 200, 120, 20), at(pb, 200, 120, 20));
    assertTrue(Arrays.equals(pa, SceneRenderer.render(a)), "the same scene renders the same pixels");
  }

  @Test
  void objectsOutsideTheCanvasAreRefused() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new Scene(100, 100, 1, List.of(new Shape(ShapeKind.SQUARE, Colour.RED, box(90, 90, 101, 99))), List.of()));
    assertTrue(e.getMessage().contains("square at [90, 90, 101, 99] lies outside the 100 x 100 scene"), e.getMessage());
    // a framed glyph's frame counts
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new Scene(100, 100, 1, List.of(), List.of(Glyph.framed('A', box(1, 1, 11, 15)))));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new Glyph('a', box(0, 0, 5, 7), Optional.empty()));
  }
}
