package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;
import java.util.List;
import java.util.Optional;

/**
 * The questions one can ask about a {@link Scene}, each answered from the scene's contents alone. A
 * question whose answer the scene does not fix (two triangles for "What colour is the triangle?") is
 * refused with an {@link IllegalArgumentException} saying why.
 */
public final class Questions {
  private Questions() {}

  /** "What colour is the {kind}?": the one shape of that kind must exist. */
  public static Question colour(Scene scene, ShapeKind kind) {
    List<Shape> found = scene.shapesOf(kind);
    if (found.size() != 1) {
      throw new IllegalArgumentException("the scene has " + found.size() + " " + kind.plural() + "; asking the colour of the "
          + kind.label() + " needs exactly one");
    }
    Shape s = found.get(0);
    return new Question(QuestionType.COLOUR, "What colour is the " + kind.label() + "?", s.colour().label(), Optional.of(s.box()),
        Optional.empty());
  }

  /** "How many {kinds} are there?": a number; the box holds them all (none for 0). */
  public static Question count(Scene scene, ShapeKind kind) {
    List<Shape> found = scene.shapesOf(kind);
    return new Question(QuestionType.COUNT, "How many " + kind.plural() + " are there?", Integer.toString(found.size()),
        union(found), Optional.empty());
  }

  /** "Is there a {colour} {kind}?": yes with the box of every such shape, or no without a box. */
  public static Question exists(Scene scene, Colour colour, ShapeKind kind) {
    List<Shape> found = scene.shapesOf(kind, colour);
    return new Question(QuestionType.EXISTS, "Is there " + article(colour.label()) + " " + colour.label() + " " + kind.label() + "?", found.isEmpty() ? "no" : "yes",
        union(found), Optional.empty());
  }

  /** "What letter (digit) is in the box?": the one framed glyph must exist. */
  public static Question glyphInBox(Scene scene) {
    List<Glyph> found = scene.glyphs().stream().filter(Glyph::isFramed).toList();
    if (found.size() != 1) {
      throw new IllegalArgumentException("the scene has " + found.size() + " framed glyphs; asking what is in the box needs exactly one");
    }
    Glyph g = found.get(0);
    return glyph(g, "What " + noun(g) + " is in the box?");
  }

  /** "What letter (digit) is written in {colour}?": exactly one unframed glyph may have that ink. */
  public static Question glyphInk(Scene scene, Colour ink) {
    List<Glyph> found = scene.glyphs().stream().filter(g -> g.ink().equals(Optional.of(ink))).toList();
    if (found.size() != 1) {
      throw new IllegalArgumentException("the scene has " + found.size() + " glyphs in " + ink.label()
          + "; asking which one is written in it needs exactly one");
    }
    Glyph g = found.get(0);
    return glyph(g, "What " + noun(g) + " is written in " + ink.label() + "?");
  }

  private static Question glyph(Glyph g, String text) {
    return new Question(QuestionType.GLYPH, text, String.valueOf(g.ch()), Optional.of(g.box()), Optional.empty());
  }

  /** "an" before a vowel (an orange circle), else "a". */
  private static String article(String word) {
    return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
  }

  private static String noun(Glyph g) {
    return g.isDigit() ? "digit" : "letter";
  }

  private static Optional<BoundingBox> union(List<Shape> shapes) {
    return shapes.isEmpty() ? Optional.empty() : Optional.of(Scene.union(shapes.stream().map(Shape::box).toList()));
  }
}
