package dev.fovea.methods.scenes;

import java.util.Locale;

/**
 * The palette of shapes and coloured glyphs: six saturated colours far apart in hue, each with one
 * unambiguous English name (the answer to "What colour is the triangle?"). The scene background and
 * its clutter are grey, so no palette colour appears by accident.
 */
public enum Colour {
  RED(220, 40, 40),
  GREEN(40, 170, 60),
  BLUE(40, 80, 220),
  YELLOW(245, 215, 40),
  PURPLE(150, 60, 190),
  ORANGE(245, 140, 30);

  private final int rgb;

  Colour(int r, int g, int b) {
    this.rgb = r << 16 | g << 8 | b;
  }

  /** {@code 0xRRGGBB}. */
  public int rgb() {
    return rgb;
  }

  /** The answer word: red, green, blue, yellow, purple, orange. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
