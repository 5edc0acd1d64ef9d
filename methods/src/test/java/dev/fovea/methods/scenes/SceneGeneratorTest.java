package dev.fovea.methods.scenes;

import static dev.fovea.methods.scenes.SceneRendererTest.box;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.SizeSplit;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SceneGeneratorTest {
  static final SceneGenerator GEN = new SceneGenerator(448);

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  static byte[] png(SceneGenerator.Generated g) {
    return Png.encodeRgb(g.scene().width(), g.scene().height(), SceneRenderer.render(g.scene()));
  }

  /**
   * Scene 0 of seed 42 at 448 px, pinned: these bytes must come out on every machine and JDK (no platform
   * font, zlib or {@code Math} function takes part). The questions were checked by eye on the picture:
   * a large red circle bottom left, four purple and red crosses, a small framed C.
   */
  @Test
  void aSeedGivesTheSameBytesEverywhere() throws Exception {
    SceneGenerator.Generated g = GEN.generate(42, 0);
    byte[] png = png(g);
    assertEquals("8c41a846c66841eb7af027e051879f4144beae42a5acd0481852b23a4663c296", sha256(png), "SHA-256 of the PNG, " + png.length + " bytes");
    assertEquals(List.of(
        "colour|What colour is the circle?|red|[85, 296, 224, 435]|",
        "glyph|What letter is in the box?|C|[342, 392, 350, 403]|",
        "count|How many crosses are there?|4|[198, 44, 442, 412]|",
        "exists|Is there a red square?|no|-|absent",
        "exists|Is there a red circle?|yes|[85, 296, 224, 435]|absent"),
        g.questions().stream().map(q -> q.type().label() + "|" + q.text() + "|" + q.answer() + "|" + q.box().map(Object::toString).orElse("-")
            + "|" + q.category().orElse("")).toList());
    assertEquals(sha256(png), sha256(png(GEN.generate(42, 0))), "again");
    assertEquals(sha256(png), sha256(png(new SceneGenerator(448).generate(42, 0))), "another generator");
    assertNotEquals(sha256(png), sha256(png(GEN.generate(43, 0))), "another seed");
    assertNotEquals(sha256(png), sha256(png(GEN.generate(42, 1))), "another scene");
  }

  @Test
  void answersAgreeWithThePictures() {
    for (int i = 0; i < 12; i++) {
      SceneGenerator.Generated g = GEN.generate(7, i);
      Scene s = g.scene();
      int[] px = SceneRenderer.render(s);
      Question colour = g.questions().get(0);
      assertEquals(QuestionType.COLOUR, colour.type());
      BoundingBox b = colour.box().orElseThrow();
      int centre = px[(int) ((b.y1() + b.y2()) / 2) * s.width() + (int) ((b.x1() + b.x2()) / 2)];
      assertEquals(Colour.valueOf(colour.answer().toUpperCase(java.util.Locale.ROOT)).rgb(), centre, "scene " + i + ": " + colour);
      // the count is the number of shapes whose name the question says, and its box holds them all
      Question count = g.questions().get(2);
      ShapeKind counted = java.util.Arrays.stream(ShapeKind.values()).filter(k -> count.text().equals("How many " + k.plural() + " are there?"))
          .findFirst().orElseThrow();
      assertEquals(Integer.toString(s.shapesOf(counted).size()), count.answer());
      for (Shape sh : s.shapesOf(counted)) {
        assertTrue(contains(count.box().orElseThrow(), sh.box()), sh + " outside " + count.box());
      }
      // the glyph answer is the character drawn in the box the question returns
      Question glyph = g.questions().get(1);
      assertTrue(s.glyphs().stream().anyMatch(gl -> gl.box().equals(glyph.box().orElseThrow()) && glyph.answer().equals(String.valueOf(gl.ch()))),
          glyph.toString());
    }
  }

  @Test
  void handPlacedContentGivesTheAnswersStatedHere() {
    Scene s = new Scene(300, 300, 3, List.of(
        new Shape(ShapeKind.SQUARE, Colour.RED, box(10, 10, 30, 30)),
        new Shape(ShapeKind.SQUARE, Colour.BLUE, box(100, 40, 120, 60)),
        new Shape(ShapeKind.SQUARE, Colour.RED, box(200, 250, 240, 290)),
        new Shape(ShapeKind.CIRCLE, Colour.GREEN, box(150, 150, 180, 180)),
        new Shape(ShapeKind.STAR, Colour.ORANGE, box(50, 200, 70, 219))),
        List.of(Glyph.framed('K', box(250, 20, 260, 34)), Glyph.inked('7', box(20, 100, 30, 114), Colour.PURPLE)));
    assertEquals(new Question(QuestionType.COUNT, "How many squares are there?", "3", Optional.of(box(10, 10, 240, 290)), Optional.empty()),
        Questions.count(s, ShapeKind.SQUARE));
    assertEquals("0", Questions.count(s, ShapeKind.TRIANGLE).answer());
    assertEquals(Optional.empty(), Questions.count(s, ShapeKind.TRIANGLE).box());
    assertEquals("green", Questions.colour(s, ShapeKind.CIRCLE).answer());
    assertEquals(Optional.of(box(150, 150, 180, 180)), Questions.colour(s, ShapeKind.CIRCLE).box());
    Question yes = Questions.exists(s, Colour.RED, ShapeKind.SQUARE);
    assertEquals("Is there a red square?", yes.text());
    assertEquals("yes", yes.answer());
    assertEquals(Optional.of(box(10, 10, 240, 290)), yes.box());
    Question no = Questions.exists(s, Colour.ORANGE, ShapeKind.CIRCLE);
    assertEquals("Is there an orange circle?", no.text());
    assertEquals("no", no.answer());
    assertEquals(Optional.empty(), no.box());
    assertEquals("What letter is in the box?", Questions.glyphInBox(s).text());
    assertEquals("K", Questions.glyphInBox(s).answer());
    assertEquals(Optional.of(box(250, 20, 260, 34)), Questions.glyphInBox(s).box());
    assertEquals("What digit is written in purple?", Questions.glyphInk(s, Colour.PURPLE).text());
    assertEquals("7", Questions.glyphInk(s, Colour.PURPLE).answer());
    // questions the scene does not answer are refused
    var e = assertThrows(IllegalArgumentException.class, () -> Questions.colour(s, ShapeKind.SQUARE));
    assertEquals("the scene has 3 squares; asking the colour of the square needs exactly one", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Questions.colour(s, ShapeKind.TRIANGLE));
    assertThrows(IllegalArgumentException.class, () -> Questions.glyphInk(s, Colour.RED));
  }

  /** 500 scenes, planned only (no pixels): 1,000 yes/no questions and 1,500 others. */
  @Test
  void yesAndNoAreBalancedAndEverySizeSplitIsPopulated() {
    int yes = 0;
    int no = 0;
    Map<String, Integer> categories = new HashMap<>();
    Map<SizeSplit, Integer> splits = new EnumMap<>(SizeSplit.class);
    Map<QuestionType, Map<SizeSplit, Integer>> byType = new EnumMap<>(QuestionType.class);
    int boxed = 0;
    for (int i = 0; i < 500; i++) {
      SceneGenerator.Generated g = GEN.generate(2024, i);
      Scene s = g.scene();
      assertEquals(5, g.questions().size());
      for (Question q : g.questions()) {
        q.box().ifPresent(b -> assertTrue(b.inside(s.size()), q + " outside the canvas"));
        SizeSplit split = q.split(s.size());
        splits.merge(split, 1, Integer::sum);
        byType.computeIfAbsent(q.type(), t -> new EnumMap<>(SizeSplit.class)).merge(split, 1, Integer::sum);
        boxed += q.box().isPresent() ? 1 : 0;
        if (q.isYesNo()) {
          categories.merge(q.category().orElseThrow(), 1, Integer::sum);
          // a "yes" names a colour and kind the scene has, a "no" one it lacks
          ShapeKind kind = ShapeKind.valueOf(q.text().substring(q.text().lastIndexOf(' ') + 1, q.text().length() - 1).toUpperCase(java.util.Locale.ROOT));
          Colour colour = java.util.Arrays.stream(Colour.values()).filter(c -> q.text().contains(" " + c.label() + " ")).findFirst().orElseThrow();
          assertEquals(q.answer().equals("yes"), !s.shapesOf(kind, colour).isEmpty(), q.toString());
          if (q.answer().equals("yes")) {
            yes++;
          } else {
            no++;
            assertEquals(q.category().get().equals(SceneGenerator.ABSENT), s.shapesOf(kind).isEmpty(), q.toString());
          }
        } else {
          assertTrue(q.category().isEmpty());
        }
      }
    }
    assertEquals(1000, yes + no);
    assertTrue(Math.abs(yes - 500) <= 20, "yes within 50% +- 2 points of 1,000: " + yes);
    // each POPE-style category holds at least 40% of the pairs
    assertTrue(categories.get(SceneGenerator.ABSENT) >= 400 && categories.get(SceneGenerator.SWAPPED) >= 400, categories.toString());
    // small, medium and large each hold at least 20% of the questions with a box
    for (SizeSplit s : List.of(SizeSplit.SMALL, SizeSplit.MEDIUM, SizeSplit.LARGE)) {
      assertTrue(splits.getOrDefault(s, 0) >= boxed / 5, s + ": " + splits + " of " + boxed);
    }
    // the colour and glyph questions, whose size is drawn, each have at least 25% in every split
    for (QuestionType t : List.of(QuestionType.COLOUR, QuestionType.GLYPH)) {
      for (SizeSplit s : List.of(SizeSplit.SMALL, SizeSplit.MEDIUM, SizeSplit.LARGE)) {
        assertTrue(byType.get(t).getOrDefault(s, 0) >= 125, t + " " + s + ": " + byType.get(t));
      }
    }
  }

  @Test
  void smallGlyphsAreGenuinelySmall() {
    int small = 0;
    for (int i = 0; i < 200; i++) {
      SceneGenerator.Generated g = GEN.generate(5, i);
      Question q = g.questions().get(1);
      if (q.split(g.scene().size()) == SizeSplit.SMALL) {
        small++;
        BoundingBox b = q.box().orElseThrow();
        // 10 to 16 px tall on 448 px, 5/7 as wide: a 112 px input shows it 2.5 to 4 px tall
        assertTrue(b.height() >= 10 && b.height() <= 16 && b.width() == Math.round(b.height() * 5 / 7.0), b.toString());
      }
    }
    assertTrue(small >= 40, "small glyph questions: " + small);
  }

  @Test
  void sizesOutsideTheRangeAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new SceneGenerator(127));
    assertThrows(IllegalArgumentException.class, () -> new SceneGenerator(2049));
    assertThrows(IllegalArgumentException.class, () -> GEN.generate(1, -1));
    // the smallest canvas still fits every plan
    SceneGenerator tiny = new SceneGenerator(SceneGenerator.MIN_SIZE);
    for (int i = 0; i < 50; i++) {
      assertFalse(tiny.generate(9, i).scene().shapes().isEmpty());
    }
  }

  private static boolean contains(BoundingBox outer, BoundingBox inner) {
    return outer.x1() <= inner.x1() && outer.y1() <= inner.y1() && outer.x2() >= inner.x2() && outer.y2() >= inner.y2();
  }
}
