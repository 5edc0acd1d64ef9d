package dev.fovea.methods.scenes;

import java.util.Locale;

/**
 * The shapes a scene holds. Each fills its box: a circle touches all four sides, a square is the box,
 * a triangle has the box's bottom side as base and its apex at the top middle, a five-pointed star
 * (point up) and a plus-shaped cross (arms a third of the box wide) are scaled to the box.
 */
public enum ShapeKind {
  CIRCLE("circles"),
  SQUARE("squares"),
  TRIANGLE("triangles"),
  STAR("stars"),
  CROSS("crosses");

  private final String plural;

  ShapeKind(String plural) {
    this.plural = plural;
  }

  /** The noun: circle, square, triangle, star, cross. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** circles, squares, triangles, stars, crosses. */
  public String plural() {
    return plural;
  }
}
