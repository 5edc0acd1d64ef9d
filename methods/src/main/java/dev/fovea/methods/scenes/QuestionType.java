package dev.fovea.methods.scenes;

import java.util.Locale;

/** What a scene question asks; written as {@code type} in the questions file so evaluations can split by it. */
public enum QuestionType {
  /** "What colour is the triangle?": a colour name; the box is the shape. */
  COLOUR,
  /** "What letter is in the box?", "What digit is written in red?": one character; the box is the glyph. */
  GLYPH,
  /** "How many squares are there?": a number; the box holds every one of them. */
  COUNT,
  /** "Is there a red circle?": yes (the box holds every red circle) or no (no box). */
  EXISTS;

  /** colour, glyph, count, exists. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The type named by {@link #label()} (any case). */
  public static QuestionType parse(String label) {
    for (QuestionType t : values()) {
      if (t.label().equalsIgnoreCase(label)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown question type '" + label + "': expected colour, glyph, count or exists");
  }
}
