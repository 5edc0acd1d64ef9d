package dev.fovea.llm.tokenizer;

import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The protobuf wire format, as much as reading {@code sentencepiece_model.proto} needs: tags,
 * varints, fixed32/fixed64 and length-delimited fields, and skipping fields we do not use. Every
 * error names the file and the byte offset.
 */
final class ProtoReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int FIXED32 = 5;

  private final Path file;
  private final byte[] buf;
  private int pos;
  private final int limit;

  ProtoReader(Path file, byte[] buf, int from, int limit) {
    this.file = file;
    this.buf = buf;
    this.pos = from;
    this.limit = limit;
  }

  boolean hasMore() {
    return pos < limit;
  }

  /** The next tag ({@code field << 3 | wire type}). */
  int readTag() {
    long tag = readVarint();
    if (tag <= 0 || tag > Integer.MAX_VALUE || (tag >>> 3) == 0) {
      throw corrupt("invalid field tag " + tag);
    }
    return (int) tag;
  }

  long readVarint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw corrupt("truncated varint");
      }
      byte b = buf[pos++];
      result |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw corrupt("varint longer than 10 bytes");
  }

  float readFloat() {
    return Float.intBitsToFloat(readFixed32());
  }

  int readFixed32() {
    need(4);
    int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
    pos += 4;
    return v;
  }

  /** A length-delimited field's body as a reader over it. */
  ProtoReader readMessage() {
    int len = readLength();
    ProtoReader sub = new ProtoReader(file, buf, pos, pos + len);
    pos += len;
    return sub;
  }

  String readString() {
    int len = readLength();
    String s = new String(buf, pos, len, StandardCharsets.UTF_8);
    pos += len;
    return s;
  }

  byte[] readBytes() {
    int len = readLength();
    byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + len);
    pos += len;
    return out;
  }

  private int readLength() {
    long len = readVarint();
    if (len < 0 || len > limit - pos) {
      throw corrupt("length " + len + " runs past the end of its message (" + (limit - pos) + " bytes left)");
    }
    return (int) len;
  }

  /** Skips the value of a field we do not read. */
  void skip(int tag) {
    switch (tag & 7) {
      case VARINT -> readVarint();
      case FIXED64 -> {
        need(8);
        pos += 8;
      }
      case LENGTH_DELIMITED -> {
        int len = readLength(); // not "pos += readLength()": that would add to pos before the length's bytes
        pos += len;
      }
      case FIXED32 -> {
        need(4);
        pos += 4;
      }
      default -> throw corrupt("unsupported wire type " + (tag & 7) + " (field " + (tag >>> 3) + ")");
    }
  }

  /** Checks a field has the wire type we expect. */
  void expect(int tag, int wireType, String what) {
    if ((tag & 7) != wireType) {
      throw corrupt(what + " (field " + (tag >>> 3) + ") has wire type " + (tag & 7) + ", expected " + wireType);
    }
  }

  private void need(int n) {
    if (limit - pos < n) {
      throw corrupt("truncated: need " + n + " bytes, " + (limit - pos) + " left");
    }
  }

  TokenizerFileException corrupt(String what) {
    return new TokenizerFileException(file, "not a valid SentencePiece model protobuf at byte " + pos + ": " + what);
  }
}
