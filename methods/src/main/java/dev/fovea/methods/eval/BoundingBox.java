package dev.fovea.methods.eval;

import java.util.Locale;

/**
 * An answer box in image pixels, corners {@code (x1, y1)} (top left) and {@code (x2, y2)} (bottom
 * right), as continuous coordinates: the box of pixel columns 0..9 is {@code x1 = 0, x2 = 10}, and its
 * width is {@code x2 - x1}. Coordinates may be fractional. A box always has a positive width and height
 * and finite coordinates; whether it lies inside its image is checked by {@link #inside(ImageSize)}.
 */
public record BoundingBox(double x1, double y1, double x2, double y2) {
  /** How four numbers in a data file describe a box. */
  public enum Format {
    /** {@code [x1, y1, x2, y2]}: two corners. Our default. */
    XYXY,
    /** {@code [x, y, w, h]}: top-left corner, width, height (COCO's convention). */
    XYWH;

    /** The lowercase name used in files and options: xyxy, xywh. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The format named {@code xyxy} or {@code xywh} (any case). */
    public static Format parse(String label) {
      for (Format f : values()) {
        if (f.label().equalsIgnoreCase(label)) {
          return f;
        }
      }
      throw new IllegalArgumentException("unknown box format '" + label + "': expected xyxy or xywh");
    }
  }

  public BoundingBox {
    if (!(Double.isFinite(x1) && Double.isFinite(y1) && Double.isFinite(x2) && Double.isFinite(y2))) {
      throw new IllegalArgumentException("box " + show(x1, y1, x2, y2) + " has a coordinate that is not a finite number");
    }
    if (!(x2 > x1 && y2 > y1)) {
      throw new IllegalArgumentException("box " + show(x1, y1, x2, y2) + " is degenerate: x2 must exceed x1 and y2 must exceed y1");
    }
  }

  /** The box described by four numbers in {@code format}. */
  public static BoundingBox of(double a, double b, double c, double d, Format format) {
    return switch (format) {
      case XYXY -> new BoundingBox(a, b, c, d);
      case XYWH -> {
        if (!(c > 0 && d > 0)) {
          throw new IllegalArgumentException("box [x, y, w, h] = " + show(a, b, c, d) + " is degenerate: w and h must be positive");
        }
        yield new BoundingBox(a, b, a + c, b + d);
      }
    };
  }

  public double width() {
    return x2 - x1;
  }

  public double height() {
    return y2 - y1;
  }

  public double area() {
    return width() * height();
  }

  /** Whether the box lies inside an image of that size: {@code 0 <= x1, 0 <= y1, x2 <= width, y2 <= height}. */
  public boolean inside(ImageSize size) {
    return x1 >= 0 && y1 >= 0 && x2 <= size.width() && y2 <= size.height();
  }

  /** {@code [x1, y1, x2, y2]}, the way results files write it. */
  public double[] toArray() {
    return new double[] {x1, y1, x2, y2};
  }

  @Override
  public String toString() {
    return show(x1, y1, x2, y2);
  }

  private static String show(double a, double b, double c, double d) {
    return "[" + num(a) + ", " + num(b) + ", " + num(c) + ", " + num(d) + "]";
  }

  private static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
