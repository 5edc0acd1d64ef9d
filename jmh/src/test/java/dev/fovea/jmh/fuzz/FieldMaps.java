package dev.fovea.jmh.fuzz;

import dev.fovea.tensor.io.Mutations;
import dev.fovea.tensor.io.Mutations.Field;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Format walkers for the files the tensor module's {@link Mutations} does not know: where the integer
 * fields of a PNG, a JPEG (with its EXIF block), a llama2.c {@code tokenizer.bin} and a protobuf
 * lie, so that a hostile value lands on a length, a count, a dimension or an offset rather than on
 * pixel data. Each walk stops quietly where a seed stops making sense.
 */
final class FieldMaps {
  private FieldMaps() {}

  // ---------------------------------------------------------------- PNG

  /** Chunk lengths, IHDR's width, height, depth, colour type, compression, filter and interlace (big-endian). */
  static List<Field> png(byte[] b) {
    List<Field> out = new ArrayList<>();
    for (int[] c : pngChunks(b)) {
      int at = c[0];
      out.add(new Field(at, 4, true, "chunk length"));
      if (c[2] == 0x49484452 && at + 8 + 13 <= b.length) { // IHDR
        String[] n = {"width", "height"};
        out.add(new Field(at + 8, 4, true, n[0]));
        out.add(new Field(at + 12, 4, true, n[1]));
        String[] one = {"bit depth", "colour type", "compression", "filter", "interlace"};
        for (int i = 0; i < one.length; i++) {
          out.add(new Field(at + 16 + i, 1, true, one[i]));
        }
      }
    }
    return out;
  }

  /** Each chunk of a PNG as {offset of its length, data length, type}. */
  static List<int[]> pngChunks(byte[] b) {
    List<int[]> out = new ArrayList<>();
    ByteBuffer bb = ByteBuffer.wrap(b);
    int p = 8;
    while (p + 12 <= b.length) {
      int len = bb.getInt(p);
      out.add(new int[] {p, len, bb.getInt(p + 4)});
      if (len < 0 || len > b.length - p - 12) {
        break;
      }
      p += 12 + len;
    }
    return out;
  }

  /** Recomputes every chunk's CRC, so a change gets past a reader that checks them. */
  static byte[] fixPngCrcs(byte[] b) {
    byte[] out = b.clone();
    ByteBuffer bb = ByteBuffer.wrap(out);
    for (int[] c : pngChunks(out)) {
      if (c[1] >= 0 && c[0] + 12L + c[1] <= out.length) {
        CRC32 crc = new CRC32();
        crc.update(out, c[0] + 4, 4 + c[1]);
        bb.putInt(c[0] + 8 + c[1], (int) crc.getValue());
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- JPEG

  /**
   * Segment lengths; SOF precision, height, width, component count and each component's sampling
   * and table; DHT classes and code counts; DQT precision; SOS components and spectral selection;
   * DRI's interval; and in an APP1 Exif block the TIFF IFD offset, entry count and each entry's type,
   * count and value (in the TIFF's own byte order).
   */
  static List<Field> jpeg(byte[] b) {
    List<Field> out = new ArrayList<>();
    for (int[] s : jpegSegments(b)) {
      int p = s[0];
      int marker = s[1];
      int seg = p + 4;
      int end = Math.min(b.length, p + 2 + s[2]);
      out.add(new Field(p + 2, 2, true, String.format("%02X length", marker)));
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) { // SOFn
        add(out, seg, 1, true, "SOF precision", end);
        add(out, seg + 1, 2, true, "SOF height", end);
        add(out, seg + 3, 2, true, "SOF width", end);
        add(out, seg + 5, 1, true, "SOF components", end);
        for (int q = seg + 6; q + 3 <= end; q += 3) {
          add(out, q, 1, true, "component id", end);
          add(out, q + 1, 1, true, "sampling", end);
          add(out, q + 2, 1, true, "quant table", end);
        }
      } else if (marker == 0xC4) { // DHT: class/id, 16 counts, values
        for (int q = seg; q + 17 <= end; ) {
          add(out, q, 1, true, "DHT class", end);
          int n = 0;
          for (int i = 1; i <= 16; i++) {
            add(out, q + i, 1, true, "DHT count", end);
            n += b[q + i] & 0xFF;
          }
          q += 17 + n;
        }
      } else if (marker == 0xDB) {
        add(out, seg, 1, true, "DQT precision", end);
      } else if (marker == 0xDA) {
        add(out, seg, 1, true, "SOS components", end);
        for (int q = seg + 1; q + 1 < end; q++) {
          add(out, q, 1, true, "SOS byte", end);
        }
      } else if (marker == 0xDD) {
        add(out, seg, 2, true, "DRI interval", end);
      } else if (marker == 0xE1 && seg + 14 <= end && b[seg] == 'E' && b[seg + 1] == 'x' && b[seg + 2] == 'i' && b[seg + 3] == 'f') {
        exif(b, seg + 6, end, out);
      }
    }
    return out;
  }

  private static void add(List<Field> out, int at, int width, boolean bigEndian, String name, int end) {
    if (at + width <= end) {
      out.add(new Field(at, width, bigEndian, name));
    }
  }

  private static void exif(byte[] b, int tiff, int end, List<Field> out) {
    boolean big = b[tiff] == 'M';
    ByteBuffer bb = ByteBuffer.wrap(b).order(big ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    add(out, tiff + 4, 4, big, "IFD0 offset", end);
    if (tiff + 8 > end) {
      return;
    }
    int ifd = tiff + bb.getInt(tiff + 4);
    if (ifd < tiff || ifd + 2 > end) {
      return;
    }
    add(out, ifd, 2, big, "IFD entry count", end);
    int n = bb.getShort(ifd) & 0xFFFF;
    for (int i = 0; i < n && ifd + 2 + 12 * (i + 1) <= end; i++) {
      int e = ifd + 2 + 12 * i;
      add(out, e, 2, big, "IFD tag", end);
      add(out, e + 2, 2, big, "IFD type", end);
      add(out, e + 4, 4, big, "IFD count", end);
      add(out, e + 8, 4, big, "IFD value", end);
      add(out, e + 8, 2, big, "IFD short value", end);
    }
  }

  /**
   * The marker segments of a JPEG as {offset of the marker, marker, length}: SOI's successors up to
   * each SOS, then past the entropy-coded data to the next marker (progressive files have several scans).
   */
  static List<int[]> jpegSegments(byte[] b) {
    List<int[]> out = new ArrayList<>();
    int p = 2;
    while (p + 4 <= b.length) {
      if ((b[p] & 0xFF) != 0xFF) {
        break;
      }
      int marker = b[p + 1] & 0xFF;
      if (marker == 0xFF) {
        p++;
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        p += 2;
        continue;
      }
      if (marker == 0xD9) {
        break;
      }
      int len = ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
      out.add(new int[] {p, marker, len});
      p += 2 + len;
      if (marker == 0xDA) { // entropy-coded data: to the next marker that is not a stuffed 0 or a restart
        while (p + 1 < b.length && !((b[p] & 0xFF) == 0xFF && b[p + 1] != 0 && ((b[p + 1] & 0xFF) < 0xD0 || (b[p + 1] & 0xFF) > 0xD7))) {
          p++;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- llama2.c tokenizer.bin

  /** The max token length, then each token's score and byte length (little-endian). */
  static List<Field> llama2c(byte[] b) {
    List<Field> out = new ArrayList<>();
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    out.add(new Field(0, 4, false, "max token length"));
    int p = 4;
    while (p + 8 <= b.length) {
      out.add(new Field(p, 4, false, "score"));
      out.add(new Field(p + 4, 4, false, "token length"));
      int len = bb.getInt(p + 4);
      if (len < 0 || len > b.length - p - 8) {
        break;
      }
      p += 8 + len;
    }
    return out;
  }

  // ---------------------------------------------------------------- protobuf

  /** A varint of a protobuf message: where it starts, how many bytes it takes, and what it is. */
  record Varint(int offset, int length, String name) {}

  /** Every tag, length and varint value of a SentencePiece ModelProto and of its pieces, trainer and normalizer messages. */
  static List<Varint> protoVarints(byte[] b) {
    List<Varint> out = new ArrayList<>();
    try {
      walk(b, 0, b.length, 0, out);
    } catch (RuntimeException e) {
      // a damaged seed: the varints found so far
    }
    return out;
  }

  private static void walk(byte[] b, int from, int to, int depth, List<Varint> out) {
    int p = from;
    while (p < to) {
      int start = p;
      long[] tag = readVarint(b, p);
      p = (int) tag[1];
      out.add(new Varint(start, p - start, "tag"));
      int field = (int) (tag[0] >>> 3);
      switch ((int) (tag[0] & 7)) {
        case 0 -> {
          long[] v = readVarint(b, p);
          out.add(new Varint(p, (int) v[1] - p, "value of field " + field));
          p = (int) v[1];
        }
        case 1 -> p += 8;
        case 5 -> p += 4;
        case 2 -> {
          long[] len = readVarint(b, p);
          out.add(new Varint(p, (int) len[1] - p, "length of field " + field));
          p = (int) len[1];
          if (depth == 0 && field >= 1 && field <= 3) {
            walk(b, p, Math.toIntExact(p + len[0]), 1, out);
          }
          p = Math.toIntExact(p + len[0]);
        }
        default -> throw new IllegalStateException("wire type " + (tag[0] & 7));
      }
    }
  }

  /** {value, position after it}. */
  private static long[] readVarint(byte[] b, int p) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte x = b[p++];
      v |= (long) (x & 0x7F) << shift;
      if (x >= 0) {
        return new long[] {v, p};
      }
    }
    throw new IllegalStateException("long varint");
  }

  /** {@code b} with the varint {@code v} re-encoded as {@code value} (the file grows or shrinks with it). */
  static byte[] rewriteVarint(byte[] b, Varint v, long value) {
    ByteArrayOutputStream enc = new ByteArrayOutputStream();
    Seeds.varint(enc, value);
    return Mutations.concat(Arrays.copyOf(b, v.offset()), enc.toByteArray(), Arrays.copyOfRange(b, v.offset() + v.length(), b.length));
  }
}
