package dev.fovea.vit.tokenizer;

/**
 * GPT-2/CLIP {@code bytes_to_unicode}: a reversible map from the 256 byte values to printable
 * characters, so byte-level BPE can work on strings. Bytes 33–126, 161–172 and 174–255 map to the
 * same code point; the other 68 (0–32, 127–160, 173) map, in increasing byte order, to U+0100,
 * U+0101, … (so space 0x20 becomes 'Ġ' U+0120).
 *
 * <p>Reference: openai/CLIP {@code clip/simple_tokenizer.py} {@code bytes_to_unicode}.
 */
public final class ByteLevel {
  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[512];

  static {
    java.util.Arrays.fill(CHAR_TO_BYTE, -1);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      char c = printable ? (char) b : (char) (256 + n++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevel() {}

  /** The character standing for byte {@code b} (0..255). */
  public static char charOf(int b) {
    return BYTE_TO_CHAR[b & 0xFF];
  }

  /** The byte a byte-level character stands for, or -1 if {@code c} is not one. */
  public static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /** The 256 byte characters in byte order ("!" … ), CLIP's first 256 vocabulary entries. */
  public static String[] byteSymbolsInOrder() {
    // CLIP orders the vocabulary by bytes_to_unicode's *list* order: the printable bytes first,
    // then the 68 remapped ones, i.e. by the character, not by the byte.
    String[] out = new String[256];
    int k = 0;
    for (int b = 0; b < 256; b++) {
      if (BYTE_TO_CHAR[b] == b) {
        out[k++] = String.valueOf(BYTE_TO_CHAR[b]);
      }
    }
    for (int b = 0; b < 256; b++) {
      if (BYTE_TO_CHAR[b] != b) {
        out[k++] = String.valueOf(BYTE_TO_CHAR[b]);
      }
    }
    return out;
  }

  /** Encodes a string's UTF-8 bytes as byte-level characters. */
  public static String encode(byte[] utf8) {
    char[] cs = new char[utf8.length];
    for (int i = 0; i < utf8.length; i++) {
      cs[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
    }
    return new String(cs);
  }
}
