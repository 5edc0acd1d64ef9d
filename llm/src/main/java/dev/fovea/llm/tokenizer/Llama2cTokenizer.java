package dev.fovea.llm.tokenizer;

import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads llama2.c's {@code tokenizer.bin} ({@code tok512.bin}, {@code tokenizer.bin}), written by
 * karpathy/llama2.c {@code tokenizer.py export()}: int32 max token length, then per token float32
 * score, int32 byte length, UTF-8 bytes (little-endian). The export replaced "▁" by " " and wrote
 * BOS/EOS as "\n&lt;s&gt;\n" / "\n&lt;/s&gt;\n"; we undo both. The file carries no types or
 * settings: id 0 is {@code <unk>}, 1 and 2 are BOS/EOS, {@code <0xNN>} pieces are bytes, the rest
 * NORMAL; byte fallback and the dummy prefix are on (as llama2.c's {@code encode} does).
 */
final class Llama2cTokenizer {
  private Llama2cTokenizer() {}

  static SentencePieceModel read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new TokenizerFileException(file, "llama2.c tokenizer file not found");
    } catch (IOException e) {
      throw new TokenizerFileException(file, "cannot read llama2.c tokenizer", e);
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (b.remaining() < 4) {
      throw new TokenizerFileException(file, "too short for a llama2.c tokenizer (no max token length)");
    }
    int maxLen = b.getInt();
    if (maxLen <= 0 || maxLen > 1 << 16) {
      throw new TokenizerFileException(file, "max token length " + maxLen + " is implausible; not a llama2.c tokenizer.bin");
    }
    List<String> pieces = new ArrayList<>();
    List<Float> scores = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 8) {
        throw new TokenizerFileException(file, "truncated at token " + pieces.size() + " (byte " + b.position() + ")");
      }
      float score = b.getFloat();
      int len = b.getInt();
      if (len < 0 || len > maxLen || len > b.remaining()) {
        throw new TokenizerFileException(file, "token " + pieces.size() + " has length " + len
            + " (max " + maxLen + ", " + b.remaining() + " bytes left)");
      }
      String s = new String(bytes, b.position(), len, StandardCharsets.UTF_8);
      b.position(b.position() + len);
      pieces.add(s);
      scores.add(score);
    }
    if (pieces.size() < 3 + 256) {
      throw new TokenizerFileException(file, "only " + pieces.size() + " tokens; expected <unk>, <s>, </s> and 256 byte pieces at least");
    }
    int n = pieces.size();
    String[] p = new String[n];
    float[] s = new float[n];
    PieceType[] t = new PieceType[n];
    for (int i = 0; i < n; i++) {
      String piece = pieces.get(i);
      s[i] = scores.get(i);
      if (i == 0) {
        t[i] = PieceType.UNKNOWN;
      } else if (i == 1 || i == 2) {
        t[i] = PieceType.CONTROL;
        piece = piece.strip();
      } else if (SentencePieceTokenizer.parseBytePiece(piece) >= 0) {
        t[i] = PieceType.BYTE;
      } else {
        t[i] = PieceType.NORMAL;
        piece = piece.replace(" ", "\u2581");
      }
      p[i] = piece;
    }
    return new SentencePieceModel(p, s, t, SentencePieceModel.BPE, true, 0, 1, 2, -1, true, false, true, "identity");
  }
}
