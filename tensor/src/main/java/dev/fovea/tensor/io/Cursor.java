package dev.fovea.tensor.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Little-endian reads from a segment with every length checked against what is left, so a hostile
 * header fails with a {@link FormatException} naming the field instead of an out-of-bounds error.
 */
final class Cursor {
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  final MemorySegment seg;
  final String file;
  long pos;

  Cursor(MemorySegment seg, String file, long pos) {
    this.seg = seg;
    this.file = file;
    this.pos = pos;
  }

  long remaining() {
    return seg.byteSize() - pos;
  }

  void need(long bytes, String field) {
    if (bytes < 0 || bytes > remaining()) {
      throw new FormatException(
          file, field, "truncated: needs " + bytes + " bytes at offset " + pos + ", only " + Math.max(0, remaining()) + " left");
    }
  }

  int u8(String field) {
    need(1, field);
    return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
  }

  int i16(String field) {
    need(2, field);
    short v = seg.get(I16, pos);
    pos += 2;
    return v;
  }

  int i32(String field) {
    need(4, field);
    int v = seg.get(I32, pos);
    pos += 4;
    return v;
  }

  long u32(String field) {
    return i32(field) & 0xFFFFFFFFL;
  }

  long i64(String field) {
    need(8, field);
    long v = seg.get(I64, pos);
    pos += 8;
    return v;
  }

  /** An unsigned 64-bit count or size that must fit in a non-negative long and in {@code max}. */
  long count(String field, long max) {
    long v = i64(field);
    if (v < 0 || v > max) {
      throw new FormatException(file, field, "value " + Long.toUnsignedString(v) + " exceeds the limit " + max);
    }
    return v;
  }

  byte[] bytes(long n, String field) {
    need(n, field);
    byte[] b = new byte[Math.toIntExact(n)];
    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, b.length);
    pos += n;
    return b;
  }

  /** UTF-8 text of {@code n} bytes, rejecting malformed sequences. */
  String utf8(long n, String field) {
    return decodeUtf8(bytes(n, field), file, field);
  }

  static String decodeUtf8(byte[] b, String file, String field) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new FormatException(file, field, "invalid UTF-8 (" + e.getMessage() + ")", e);
    }
  }
}
