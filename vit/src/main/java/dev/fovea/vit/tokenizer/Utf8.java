package dev.fovea.vit.tokenizer;

/**
 * UTF-8 decoding with the Unicode "maximal subpart" replacement rule (each maximal ill-formed
 * subpart becomes one U+FFFD, as Python's {@code errors="replace"} does), and the test the
 * {@link StreamingDecoder} uses to hold back an incomplete character at the end of a buffer.
 * Written out (instead of {@code new String(bytes, UTF_8)}) so that whole and streaming decoding
 * agree by construction.
 */
public final class Utf8 {
  private Utf8() {}

  /** Decodes {@code b[off, off+len)}; an incomplete sequence at the end becomes one U+FFFD. */
  public static String decode(byte[] b, int off, int len) {
    StringBuilder sb = new StringBuilder(len);
    int i = off;
    int end = off + len;
    while (i < end) {
      int b0 = b[i] & 0xFF;
      if (b0 < 0x80) {
        sb.append((char) b0);
        i++;
        continue;
      }
      int n = sequenceLength(b0);
      if (n == 0) {
        sb.append('\uFFFD');
        i++;
        continue;
      }
      int cp = b0 & (0xFF >> (n + 1));
      int j = 1;
      while (j < n && i + j < end && isValidContinuation(b0, j, b[i + j] & 0xFF)) {
        cp = (cp << 6) | (b[i + j] & 0x3F);
        j++;
      }
      if (j == n) {
        sb.appendCodePoint(cp);
      } else {
        sb.append('\uFFFD'); // the maximal subpart b[i, i+j) is ill-formed
      }
      i += j;
    }
    return sb.toString();
  }

  /** Length of the sequence a lead byte starts: 2..4, or 0 for a byte that cannot start one. */
  static int sequenceLength(int b0) {
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      return 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      return 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      return 4;
    }
    return 0;
  }

  /** Whether byte {@code b} may stand at position {@code j} (1..3) of a sequence led by b0. */
  static boolean isValidContinuation(int b0, int j, int b) {
    if (j == 1) {
      // the second byte's range excludes overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4)
      return switch (b0) {
        case 0xE0 -> b >= 0xA0 && b <= 0xBF;
        case 0xED -> b >= 0x80 && b <= 0x9F;
        case 0xF0 -> b >= 0x90 && b <= 0xBF;
        case 0xF4 -> b >= 0x80 && b <= 0x8F;
        default -> b >= 0x80 && b <= 0xBF;
      };
    }
    return b >= 0x80 && b <= 0xBF;
  }

  /**
   * The length of the prefix of {@code b[0, len)} that can be decoded now: everything except a
   * trailing sequence that is well-formed so far but incomplete (more bytes may complete it).
   */
  static int completePrefix(byte[] b, int len) {
    for (int start = len - 1; start >= Math.max(0, len - 3); start--) {
      int b0 = b[start] & 0xFF;
      if (b0 >= 0x80 && b0 <= 0xBF) {
        continue; // a continuation byte: look further back for its lead
      }
      int n = sequenceLength(b0);
      if (n == 0 || len - start >= n) {
        return len;
      }
      for (int j = 1; start + j < len; j++) {
        if (!isValidContinuation(b0, j, b[start + j] & 0xFF)) {
          return len;
        }
      }
      return start;
    }
    return len;
  }
}
