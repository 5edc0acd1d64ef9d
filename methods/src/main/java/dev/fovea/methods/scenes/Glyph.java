package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;
import java.util.Objects;
import java.util.Optional;

/**
 * One character of {@link GlyphFont}, drawn by us (no platform font), filling {@code box}: the font's 5 x
 * 7 cells scaled to it, each cell's pixels weighted by the exact area it covers.
 *
 * @param ch a character of {@link GlyphFont#CHARS}
 * @param box the cells' extent in image pixels; the answer box of a question about it
 * @param ink the glyph's palette colour, drawn straight on the background; empty for a framed glyph:
 *     black on a white card with a dark border (the box of "What letter is in the box?"), whose frame
 *     extends {@link #framePad()} pixels beyond {@code box}
 */
public record Glyph(char ch, BoundingBox box, Optional<Colour> ink) {
  public Glyph {
    Objects.requireNonNull(box, "box");
    Objects.requireNonNull(ink, "ink");
    if (!GlyphFont.has(ch)) {
      throw new IllegalArgumentException("no glyph for '" + ch + "'; the font has " + GlyphFont.CHARS);
    }
  }

  /** A glyph in a frame. */
  public static Glyph framed(char ch, BoundingBox box) {
    return new Glyph(ch, box, Optional.empty());
  }

  /** A glyph in a palette colour, without a frame. */
  public static Glyph inked(char ch, BoundingBox box, Colour ink) {
    return new Glyph(ch, box, Optional.of(ink));
  }

  public boolean isFramed() {
    return ink.isEmpty();
  }

  /** Whether the character is a digit (asked as "What digit ...") rather than a letter. */
  public boolean isDigit() {
    return ch >= '0' && ch <= '9';
  }

  /** The white margin between the glyph and its frame's border: a third of the glyph's height, at least 2 px. */
  public int framePad() {
    return framePad(box.height());
  }

  /** {@link #framePad()} of a glyph {@code height} px tall. */
  public static int framePad(double height) {
    return Math.max(2, (int) Math.round(height / 3.0));
  }

  /** The width of the frame's border: a tenth of the glyph's height, at least 1 px. */
  public int frameStroke() {
    return Math.max(1, (int) Math.round(box.height() / 10.0));
  }

  /** What the glyph occupies: the frame's outer edge, or the box without a frame. */
  public BoundingBox footprint() {
    if (!isFramed()) {
      return box;
    }
    int p = framePad();
    return new BoundingBox(box.x1() - p, box.y1() - p, box.x2() + p, box.y2() + p);
  }
}
