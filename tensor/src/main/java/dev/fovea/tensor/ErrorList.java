package dev.fovea.tensor;

import java.util.List;

/**
 * Keeps error messages short when they list problems: the first {@link #SHOWN} items, then "... and N
 * more". A hostile config or checkpoint can produce millions of problems (10 000 missing layers made an
 * 8.7 MB one-line message); the exception object may still carry the whole list for code to read.
 */
public final class ErrorList {
  /** Items listed in a message before the rest are counted. */
  public static final int SHOWN = 10;

  /** Characters of one item (a name, a JSON value) kept in a message. */
  public static final int ITEM_CHARS = 240;

  private ErrorList() {}

  /**
   * The items as message text: one item as {@code ": item"} (so a single problem stays one line),
   * several as indented lines, the first {@link #SHOWN} of them and a count of the rest.
   */
  public static String lines(List<?> items) {
    if (items.size() == 1) {
      return ": " + abbreviate(String.valueOf(items.get(0)), ITEM_CHARS);
    }
    StringBuilder sb = new StringBuilder(":");
    int shown = Math.min(items.size(), SHOWN);
    for (int i = 0; i < shown; i++) {
      sb.append("\n  ").append(abbreviate(String.valueOf(items.get(i)), ITEM_CHARS));
    }
    if (items.size() > shown) {
      sb.append("\n  ... and ").append(items.size() - shown).append(" more");
    }
    return sb.toString();
  }

  /** {@code s} cut to {@code max} characters (the cut marked with "..."), on one line. */
  public static String abbreviate(String s, int max) {
    String one = s.replace('\n', ' ').replace('\r', ' ');
    return one.length() <= max ? one : one.substring(0, Math.max(0, max - 3)) + "...";
  }
}
