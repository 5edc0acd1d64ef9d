package dev.fovea.methods.scenes;

/**
 * fovea's own 5 x 7 bitmap font of the capital letters and digits, so a glyph's pixels never depend on
 * the platform's fonts (java.awt's text rendering differs between JDKs and systems). Drawn after the
 * classic 5 x 7 dot-matrix character sets; {@code #} is ink.
 */
public final class GlyphFont {
  /** Columns of a glyph. */
  public static final int COLUMNS = 5;

  /** Rows of a glyph. */
  public static final int ROWS = 7;

  /** Every character the font draws. */
  public static final String CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private static final String[][] ROWS_OF = {
    {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}, // A
    {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}, // B
    {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}, // C
    {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}, // D
    {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}, // E
    {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}, // F
    {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}, // G
    {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}, // H
    {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}, // I
    {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}, // J
    {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}, // K
    {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}, // L
    {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}, // M
    {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}, // N
    {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}, // O
    {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}, // P
    {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}, // Q
    {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}, // R
    {".####", "#....", "#....", ".###.", "....#", "....#", "####."}, // S
    {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}, // T
    {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}, // U
    {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}, // V
    {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}, // W
    {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}, // X
    {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."}, // Y
    {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}, // Z
    {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}, // 0
    {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}, // 1
    {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}, // 2
    {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}, // 3
    {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}, // 4
    {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}, // 5
    {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}, // 6
    {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}, // 7
    {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}, // 8
    {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}, // 9
  };

  /** Bit {@code row * COLUMNS + col} of entry i is set where glyph {@code CHARS.charAt(i)} has ink. */
  private static final long[] BITS = new long[CHARS.length()];

  static {
    if (ROWS_OF.length != CHARS.length()) {
      throw new AssertionError(ROWS_OF.length + " glyphs for " + CHARS.length() + " characters");
    }
    for (int i = 0; i < ROWS_OF.length; i++) {
      if (ROWS_OF[i].length != ROWS) {
        throw new AssertionError("glyph " + CHARS.charAt(i) + " has " + ROWS_OF[i].length + " rows");
      }
      for (int r = 0; r < ROWS; r++) {
        String row = ROWS_OF[i][r];
        if (row.length() != COLUMNS || !row.matches("[#.]+")) {
          throw new AssertionError("glyph " + CHARS.charAt(i) + " row " + r + " is \"" + row + "\"");
        }
        for (int c = 0; c < COLUMNS; c++) {
          if (row.charAt(c) == '#') {
            BITS[i] |= 1L << (r * COLUMNS + c);
          }
        }
      }
    }
  }

  private GlyphFont() {}

  /** Whether the font draws {@code ch}. */
  public static boolean has(char ch) {
    return CHARS.indexOf(ch) >= 0;
  }

  /** Whether cell ({@code row}, {@code col}) of {@code ch} is ink; row 0 is the top. */
  public static boolean ink(char ch, int row, int col) {
    int i = CHARS.indexOf(ch);
    if (i < 0) {
      throw new IllegalArgumentException("no glyph for '" + ch + "'; the font has " + CHARS);
    }
    if (row < 0 || row >= ROWS || col < 0 || col >= COLUMNS) {
      throw new IndexOutOfBoundsException("cell (" + row + ", " + col + ") of a " + ROWS + " x " + COLUMNS + " glyph");
    }
    return (BITS[i] >>> (row * COLUMNS + col) & 1) != 0;
  }
}
