package dev.fovea.methods.vicrop;

/**
 * A crop box in original-image pixels, PIL's {@code crop((x1, y1, x2, y2))} convention: x1, y1
 * inclusive, x2, y2 exclusive.
 */
public record Box(int x1, int y1, int x2, int y2) {
  public Box {
    if (x2 <= x1 || y2 <= y1) {
      throw new ViCropException("box (" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + ") is empty: x2 must exceed x1 and y2 must exceed y1");
    }
  }

  public int width() {
    return x2 - x1;
  }

  public int height() {
    return y2 - y1;
  }

  /** Whether the box lies inside a {@code width} x {@code height} image. */
  public boolean inside(int width, int height) {
    return x1 >= 0 && y1 >= 0 && x2 <= width && y2 <= height;
  }

  /** Throws a {@link ViCropException} naming the box and the image size when the box is not inside. */
  public Box requireInside(int width, int height) {
    if (!inside(width, height)) {
      throw new ViCropException("box " + this + " lies outside the " + width + " x " + height + " image");
    }
    return this;
  }

  @Override
  public String toString() {
    return "(" + x1 + ", " + y1 + ", " + x2 + ", " + y2 + ")";
  }
}
