package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.ImageSize;
import java.util.List;

/**
 * What a picture shows: the canvas size, the seed of its grey background clutter, and its shapes and
 * glyphs. The pixels are a pure function of this record ({@link SceneRenderer#render}), so a scene can
 * be written by hand (as the tests do) or planned by {@link SceneGenerator}.
 *
 * @param width canvas width in pixels
 * @param height canvas height in pixels
 * @param clutterSeed seeds the background: its grey level, smooth noise, speckles, faint lines and blobs
 * @param shapes drawn over the background, in order
 * @param glyphs drawn after the shapes, in order
 */
public record Scene(int width, int height, long clutterSeed, List<Shape> shapes, List<Glyph> glyphs) {
  public Scene {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("scene size " + width + " x " + height + " must be positive");
    }
    shapes = List.copyOf(shapes);
    glyphs = List.copyOf(glyphs);
    ImageSize size = new ImageSize(width, height);
    for (Shape s : shapes) {
      if (!s.box().inside(size)) {
        throw new IllegalArgumentException(s.kind().label() + " at " + s.box() + " lies outside the " + size + " scene");
      }
    }
    for (Glyph g : glyphs) {
      if (!g.footprint().inside(size)) {
        throw new IllegalArgumentException("glyph '" + g.ch() + "' at " + g.footprint() + " lies outside the " + size + " scene");
      }
    }
  }

  public ImageSize size() {
    return new ImageSize(width, height);
  }

  /** The shapes of one kind, in drawing order. */
  public List<Shape> shapesOf(ShapeKind kind) {
    return shapes.stream().filter(s -> s.kind() == kind).toList();
  }

  /** The shapes of one kind and colour, in drawing order. */
  public List<Shape> shapesOf(ShapeKind kind, Colour colour) {
    return shapes.stream().filter(s -> s.kind() == kind && s.colour() == colour).toList();
  }

  /** The smallest box holding all of {@code boxes} (at least one). */
  static BoundingBox union(List<BoundingBox> boxes) {
    if (boxes.isEmpty()) {
      throw new IllegalArgumentException("the union of no boxes");
    }
    double x1 = Double.POSITIVE_INFINITY;
    double y1 = Double.POSITIVE_INFINITY;
    double x2 = Double.NEGATIVE_INFINITY;
    double y2 = Double.NEGATIVE_INFINITY;
    for (BoundingBox b : boxes) {
      x1 = Math.min(x1, b.x1());
      y1 = Math.min(y1, b.y1());
      x2 = Math.max(x2, b.x2());
      y2 = Math.max(y2, b.y2());
    }
    return new BoundingBox(x1, y1, x2, y2);
  }
}
