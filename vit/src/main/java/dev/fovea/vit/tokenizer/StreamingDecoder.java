package dev.fovea.vit.tokenizer;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * Decodes ids one at a time, for printing generated text as it comes. Each id is turned into its
 * bytes; bytes of a character split across ids (SentencePiece byte pieces {@code <0xE2><0x82>
 * <0xAC>}, byte-level BPE pieces) are held back until the character is complete. The concatenation
 * of everything {@link #push} and {@link #finish} return equals the tokenizer's whole decode.
 */
public final class StreamingDecoder {
  private final IntFunction<byte[]> tokenBytes;
  private final boolean stripLeadingSpace;
  private byte[] pending = new byte[16];
  private int pendingLength;
  private boolean started;

  /**
   * @param tokenBytes the bytes one id contributes (empty for skipped tokens)
   * @param stripLeadingSpace drop one 0x20 at the very start of the output (SentencePiece's dummy
   *     prefix, WordPiece's joining space)
   */
  public StreamingDecoder(IntFunction<byte[]> tokenBytes, boolean stripLeadingSpace) {
    this.tokenBytes = tokenBytes;
    this.stripLeadingSpace = stripLeadingSpace;
  }

  /** Whole-sequence decoding with the same rules. */
  public static String decodeAll(IntFunction<byte[]> tokenBytes, boolean stripLeadingSpace, int[] ids) {
    StreamingDecoder d = new StreamingDecoder(tokenBytes, stripLeadingSpace);
    for (int id : ids) {
      d.append(tokenBytes.apply(id));
    }
    return d.finish();
  }

  /** Adds one id; returns the text that became complete (possibly empty). */
  public String push(int id) {
    append(tokenBytes.apply(id));
    int cut = Utf8.completePrefix(pending, pendingLength);
    if (cut == 0) {
      return "";
    }
    String text = Utf8.decode(pending, 0, cut);
    System.arraycopy(pending, cut, pending, 0, pendingLength - cut);
    pendingLength -= cut;
    return text;
  }

  /** Ends the stream: returns what is left (an incomplete character becomes U+FFFD). */
  public String finish() {
    String text = Utf8.decode(pending, 0, pendingLength);
    pendingLength = 0;
    return text;
  }

  private void append(byte[] bytes) {
    int from = 0;
    if (!started && bytes.length > 0) {
      started = true;
      if (stripLeadingSpace && bytes[0] == ' ') {
        from = 1;
      }
    }
    int n = bytes.length - from;
    if (pendingLength + n > pending.length) {
      pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + n));
    }
    System.arraycopy(bytes, from, pending, pendingLength, n);
    pendingLength += n;
  }
}
