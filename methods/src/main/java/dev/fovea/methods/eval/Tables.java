package dev.fovea.methods.eval;

import java.util.List;

/** Plain-text tables for summaries: the first column left-aligned, the others right-aligned (numbers). */
final class Tables {
  private Tables() {}

  /** The rows (the first one is the heading), each column as wide as its widest cell, two spaces apart. */
  static String align(List<String[]> rows) {
    return align(rows, false);
  }

  /** As {@link #align(List)}, with the last column left-aligned too when {@code textLast} (a note, not a number). */
  static String align(List<String[]> rows, boolean textLast) {
    int columns = rows.get(0).length;
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int c = 0; c < columns; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      for (int c = 0; c < columns; c++) {
        String pad = " ".repeat(width[c] - r[c].length());
        boolean left = c == 0 || (textLast && c == columns - 1);
        sb.append(c == 0 ? "" : "  ").append(left ? r[c] + (c == columns - 1 ? "" : pad) : pad + r[c]);
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
