package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;
import java.util.Objects;

/**
 * A filled shape of one palette colour.
 *
 * @param kind what it is; it fills {@code box} as {@link ShapeKind} describes
 * @param colour its fill
 * @param box where it is, in image pixels; also the answer box of a question about it
 */
public record Shape(ShapeKind kind, Colour colour, BoundingBox box) {
  public Shape {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(colour, "colour");
    Objects.requireNonNull(box, "box");
  }
}
