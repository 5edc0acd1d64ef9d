package dev.fovea.methods.eval;

import java.util.Locale;

/**
 * A yes/no label or a parsed answer. Labels are {@link #YES} or {@link #NO}; {@link #OTHER} is an
 * answer a parser could not read as either (MME's parser, spec 4.4: it counts as wrong).
 */
public enum YesNo {
  YES,
  NO,
  OTHER;

  /** "yes", "no" or "other", as written in results files. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * A label as datasets write it: {@code yes} or {@code no} in any case, surrounding blanks ignored
   * (POPE writes {@code yes}/{@code no}, MME {@code Yes}/{@code No}).
   *
   * @throws IllegalArgumentException for anything else
   */
  public static YesNo parseLabel(String s) {
    return switch (s.strip().toLowerCase(Locale.ROOT)) {
      case "yes" -> YES;
      case "no" -> NO;
      default -> throw new IllegalArgumentException("unknown label \"" + dev.fovea.tensor.ErrorList.abbreviate(s, 60) + "\"; a label is yes or no");
    };
  }

  /** "yes", "no" or "other" (as {@link #label()} writes them). */
  public static YesNo parse(String s) {
    for (YesNo v : values()) {
      if (v.label().equals(s)) {
        return v;
      }
    }
    throw new IllegalArgumentException("\"" + s + "\" is not yes, no or other");
  }
}
