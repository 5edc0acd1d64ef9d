package dev.fovea.tensor.io;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.WeightSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Generators of damaged and hostile inputs, shared by the corruption properties ({@link
 * CorruptionTest}, a few hundred inputs per parser in the default build) and the fuzz campaign
 * ({@code bench/fuzz.sh}, 100,000 per parser). Every generator is a pure function of its seed, so a
 * failing input is reproduced from the seed alone.
 *
 * <ul>
 *   <li>{@link #generic}: format-blind damage to any file (truncation, bit and byte flips, length-like
 *       integers overwritten, splices from another file, duplicated, deleted and inserted chunks);
 *   <li>{@link Field} and {@link #setField}: an integer field found by a format walker ({@link
 *       #ggufFields}, {@link #zipFields}, {@link #pickleFields}) set to an {@linkplain #INTERESTING
 *       interesting} value (a huge length, a negative count, an offset past the end);
 *   <li>format-aware generators for the weight files: {@link #structuredSafetensors}, {@link
 *       #structuredGguf}, {@link #mutatePickle}, {@link #picklePrograms} and {@link #rezip};
 *   <li>{@link #readAll}: what a parser that accepted an input must then do without failing.
 * </ul>
 */
public final class Mutations {
  private Mutations() {}

  /** Values that break arithmetic: sign and width boundaries, and sizes far beyond any file. */
  public static final long[] INTERESTING = {
    -1L, 0L, 1L, 7L, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL, 1L << 32, 1_000_000_000_000L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 100_000_001L,
  };

  /** Strategies of {@link #generic}: 0-4 are the original five of the corruption properties, 5-9 came with the campaign. */
  public static final int GENERIC = 10;

  /** An interesting value, sometimes nudged by up to 32 either way, sometimes fully random. */
  public static long interesting(Random r) {
    return r.nextInt(4) == 0 ? r.nextLong() : INTERESTING[r.nextInt(INTERESTING.length)] + (r.nextBoolean() ? 0 : r.nextInt(64) - 32);
  }

  // ---------------------------------------------------------------- format-blind damage

  /**
   * One of {@link #GENERIC} kinds of damage to {@code orig}, whose first {@code headerEnd} bytes are
   * its header: 0 truncation, 1 bit flips in the header, 2 bytes set anywhere, 3 and 4 a length-like
   * 8- or 4-byte little-endian integer of the header overwritten, 5 a splice of {@code donor}'s bytes
   * (another valid file, or orig itself), 6 a chunk duplicated, 7 a chunk deleted, 8 random or
   * marker-like bytes inserted, 9 a 2- or 4-byte big-endian integer overwritten (PNG, JPEG, pickle
   * floats).
   */
  public static byte[] generic(int strategy, long seed, byte[] orig, int headerEnd, byte[] donor) {
    Random r = new Random(seed);
    byte[] b = orig.clone();
    int hdr = Math.max(1, Math.min(headerEnd, b.length));
    if (orig.length == 0) {
      return strategy == 8 ? randomBytes(r, 1 + r.nextInt(16)) : b;
    }
    switch (strategy) {
      case 0 -> b = Arrays.copyOf(orig, r.nextInt(orig.length));
      case 1 -> {
        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
          b[r.nextInt(hdr)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 2 -> {
        for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
      }
      case 3, 4 -> {
        // Overwrite a small little-endian integer of the header (a likely length, count, offset or
        // dimension) with an interesting value.
        int width = strategy == 3 ? 8 : 4;
        List<Integer> at = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(orig).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + width <= hdr; i++) {
          long v = width == 8 ? bb.getLong(i) : bb.getInt(i) & 0xFFFFFFFFL;
          if (v > 0 && v < (1 << 20)) {
            at.add(i);
          }
        }
        int pos = at.isEmpty() ? r.nextInt(Math.max(1, hdr - width)) : at.get(r.nextInt(at.size()));
        long v = interesting(r);
        ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (pos + width <= b.length) {
          if (width == 8) {
            w.putLong(pos, v);
          } else {
            w.putInt(pos, (int) v);
          }
        }
      }
      case 5 -> {
        byte[] d = donor == null || donor.length == 0 ? orig : donor;
        int from = r.nextInt(orig.length);
        int to = from + r.nextInt(orig.length - from + 1);
        int dFrom = r.nextInt(d.length);
        int dLen = r.nextInt(Math.min(d.length - dFrom, 4096) + 1);
        b = concat(Arrays.copyOf(orig, from), Arrays.copyOfRange(d, dFrom, dFrom + dLen), Arrays.copyOfRange(orig, to, orig.length));
      }
      case 6 -> {
        int from = r.nextInt(orig.length);
        int len = 1 + r.nextInt(Math.min(orig.length - from, 1024));
        int at = r.nextInt(orig.length + 1);
        byte[] chunk = Arrays.copyOfRange(orig, from, from + len);
        int times = r.nextInt(8) == 0 ? 2 + r.nextInt(30) : 1;
        byte[] rep = new byte[0];
        for (int i = 0; i < times; i++) {
          rep = concat(rep, chunk);
        }
        b = concat(Arrays.copyOf(orig, at), rep, Arrays.copyOfRange(orig, at, orig.length));
      }
      case 7 -> {
        int from = r.nextInt(orig.length);
        int len = 1 + r.nextInt(Math.min(orig.length - from, 256));
        b = concat(Arrays.copyOf(orig, from), Arrays.copyOfRange(orig, from + len, orig.length));
      }
      case 8 -> {
        int at = r.nextInt(orig.length + 1);
        byte[] ins = r.nextBoolean() ? randomBytes(r, 1 + r.nextInt(16)) : MARKERS[r.nextInt(MARKERS.length)].clone();
        b = concat(Arrays.copyOf(orig, at), ins, Arrays.copyOfRange(orig, at, orig.length));
      }
      case 9 -> {
        int width = r.nextBoolean() ? 2 : 4;
        if (orig.length >= width) {
          int pos = r.nextInt(Math.min(hdr, orig.length - width + 1));
          long v = interesting(r);
          ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
          if (width == 2) {
            w.putShort(pos, (short) v);
          } else {
            w.putInt(pos, (int) v);
          }
        }
      }
      default -> throw new IllegalArgumentException("strategy " + strategy);
    }
    return b;
  }

  /** {@link #generic(int, long, byte[], int, byte[])} splicing {@code orig} into itself. */
  public static byte[] generic(int strategy, long seed, byte[] orig, int headerEnd) {
    return generic(strategy, seed, orig, headerEnd, orig);
  }

  /** Byte runs that mean something to some parser: JSON punctuation, JPEG and zip markers, pickle STOP, CR LF, invalid UTF-8. */
  private static final byte[][] MARKERS = {
    "{".getBytes(StandardCharsets.UTF_8), "}".getBytes(StandardCharsets.UTF_8), "[".getBytes(StandardCharsets.UTF_8),
    "]".getBytes(StandardCharsets.UTF_8), "\"".getBytes(StandardCharsets.UTF_8), ",".getBytes(StandardCharsets.UTF_8),
    ":".getBytes(StandardCharsets.UTF_8), "\\".getBytes(StandardCharsets.UTF_8), "\n".getBytes(StandardCharsets.UTF_8),
    "\r\n".getBytes(StandardCharsets.UTF_8), " ".getBytes(StandardCharsets.UTF_8), "1e999".getBytes(StandardCharsets.UTF_8),
    "-0".getBytes(StandardCharsets.UTF_8), {(byte) 0xFF, (byte) 0xD8}, {(byte) 0xFF, (byte) 0xD9}, {(byte) 0xFF, (byte) 0xDA},
    {'P', 'K', 3, 4}, {'P', 'K', 1, 2}, {'P', 'K', 5, 6}, {'.'}, {'('}, {0}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
  };

  static byte[] repeat(byte[] unit, int times) {
    byte[] out = new byte[unit.length * times];
    for (int i = 0; i < times; i++) {
      System.arraycopy(unit, 0, out, i * unit.length, unit.length);
    }
    return out;
  }

  static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- integer fields

  /** An integer field of a file found by a format walker: where, how wide, its byte order and what it is. */
  public record Field(int offset, int width, boolean bigEndian, String name) {}

  /** {@code orig} with {@code field} set to an interesting value (a 1-byte field takes any byte). */
  public static byte[] setField(byte[] orig, Field field, Random r) {
    byte[] b = orig.clone();
    if (field.offset() + field.width() > b.length) {
      return b;
    }
    long v = field.width() == 1 ? r.nextInt(256) : interesting(r);
    ByteBuffer w = ByteBuffer.wrap(b).order(field.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    switch (field.width()) {
      case 1 -> w.put(field.offset(), (byte) v);
      case 2 -> w.putShort(field.offset(), (short) v);
      case 4 -> w.putInt(field.offset(), (int) v);
      case 8 -> w.putLong(field.offset(), v);
      default -> throw new IllegalArgumentException("width " + field.width());
    }
    return b;
  }

  /**
   * The integer fields of a GGUF header (ggml {@code docs/gguf.md}): counts, every key and string
   * length, value types, array element types and counts, scalar values, tensor dims, types and
   * offsets. The walk stops quietly where the file stops making sense.
   */
  public static List<Field> ggufFields(byte[] gguf) {
    List<Field> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(gguf).order(ByteOrder.LITTLE_ENDIAN);
    try {
      out.add(new Field(4, 4, false, "version"));
      out.add(new Field(8, 8, false, "tensor_count"));
      out.add(new Field(16, 8, false, "metadata_kv_count"));
      long nTensors = b.getLong(8);
      long nKv = b.getLong(16);
      b.position(24);
      for (long i = 0; i < nKv; i++) {
        ggufString(b, out, "key");
        out.add(new Field(b.position(), 4, false, "value type"));
        ggufValue(b, b.getInt(), out, 0);
      }
      for (long i = 0; i < nTensors; i++) {
        ggufString(b, out, "tensor name");
        out.add(new Field(b.position(), 4, false, "n_dims"));
        int nDims = b.getInt();
        for (int d = 0; d < nDims; d++) {
          out.add(new Field(b.position(), 8, false, "ne"));
          b.getLong();
        }
        out.add(new Field(b.position(), 4, false, "tensor type"));
        b.getInt();
        out.add(new Field(b.position(), 8, false, "tensor offset"));
        b.getLong();
      }
    } catch (RuntimeException e) {
      // a damaged seed: the fields found so far
    }
    return out;
  }

  private static void ggufString(ByteBuffer b, List<Field> out, String what) {
    out.add(new Field(b.position(), 8, false, what + " length"));
    long n = b.getLong();
    b.position(Math.toIntExact(b.position() + n));
  }

  private static void ggufValue(ByteBuffer b, int type, List<Field> out, int depth) {
    int at = b.position();
    switch (type) {
      case 0, 1, 7 -> { // UINT8, INT8, BOOL
        out.add(new Field(at, 1, false, "u8 value"));
        b.get();
      }
      case 2, 3 -> { // UINT16, INT16
        out.add(new Field(at, 2, false, "u16 value"));
        b.getShort();
      }
      case 4, 5, 6 -> { // UINT32, INT32, FLOAT32
        out.add(new Field(at, 4, false, "u32 value"));
        b.getInt();
      }
      case 8 -> ggufString(b, out, "string");
      case 9 -> {
        out.add(new Field(at, 4, false, "array element type"));
        int et = b.getInt();
        out.add(new Field(b.position(), 8, false, "array count"));
        long n = b.getLong();
        for (long i = 0; i < n && depth < 8; i++) {
          ggufValue(b, et, out, depth + 1);
        }
      }
      case 10, 11, 12 -> { // UINT64, INT64, FLOAT64
        out.add(new Field(at, 8, false, "u64 value"));
        b.getLong();
      }
      default -> throw new IllegalStateException("type " + type);
    }
  }

  /**
   * The integer fields of a ZIP file's local headers, central directory and end record (PKWARE
   * APPNOTE 4.3): methods, sizes, name and extra lengths, entry counts and offsets.
   */
  public static List<Field> zipFields(byte[] zip) {
    List<Field> out = new ArrayList<>();
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    for (int p = 0; p + 4 <= zip.length; p++) {
      int sig = b.getInt(p);
      if (sig == 0x04034b50 && p + 30 <= zip.length) {
        int[][] f = {{8, 2}, {14, 4}, {18, 4}, {22, 4}, {26, 2}, {28, 2}};
        String[] n = {"local method", "local crc", "local compressed size", "local size", "local name length", "local extra length"};
        addAll(out, p, f, n);
      } else if (sig == 0x02014b50 && p + 46 <= zip.length) {
        int[][] f = {{10, 2}, {20, 4}, {24, 4}, {28, 2}, {30, 2}, {32, 2}, {34, 2}, {42, 4}};
        String[] n = {"method", "compressed size", "size", "name length", "extra length", "comment length", "disk", "local header offset"};
        addAll(out, p, f, n);
      } else if (sig == 0x06054b50 && p + 22 <= zip.length) {
        int[][] f = {{4, 2}, {6, 2}, {8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 2}};
        String[] n = {"disk", "cd disk", "entries on disk", "entries", "cd size", "cd offset", "comment length"};
        addAll(out, p, f, n);
      }
    }
    return out;
  }

  private static void addAll(List<Field> out, int base, int[][] fields, String[] names) {
    for (int i = 0; i < fields.length; i++) {
      out.add(new Field(base + fields[i][0], fields[i][1], false, names[i]));
    }
  }

  /**
   * The argument fields of a pickle's opcodes (CPython {@code Lib/pickletools.py}): ints, memo
   * indices, string and bytes lengths, frame sizes, the protocol, and big-endian floats.
   */
  public static List<Field> pickleFields(byte[] pkl) {
    List<Field> out = new ArrayList<>();
    int p = 0;
    try {
      while (p < pkl.length) {
        int op = pkl[p] & 0xFF;
        int at = p + 1;
        p = switch (op) {
          case 0x80, 'K', 'q', 'h' -> add(out, at, 1, false, "u8 argument");
          case 'M' -> add(out, at, 2, false, "BININT2");
          case 'J', 'r', 'j' -> add(out, at, 4, false, "4-byte argument");
          case 0x95 -> add(out, at, 8, false, "FRAME size");
          case 'G' -> add(out, at, 8, true, "BINFLOAT");
          case 0x8a -> add(out, at, 1, false, "LONG1 length") + (pkl[at] & 0xFF);
          case 'X', 'B' -> add(out, at, 4, false, "string length") + ByteBuffer.wrap(pkl, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
          case 0x8c, 'C' -> add(out, at, 1, false, "short string length") + (pkl[at] & 0xFF);
          case 0x8d -> add(out, at, 8, false, "string8 length") + (int) ByteBuffer.wrap(pkl, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
          case 'c' -> {
            int nl1 = indexOf(pkl, (byte) '\n', at);
            yield indexOf(pkl, (byte) '\n', nl1 + 1) + 1;
          }
          default -> at;
        };
      }
    } catch (RuntimeException e) {
      // a damaged pickle: the fields found so far
    }
    return out;
  }

  private static int add(List<Field> out, int at, int width, boolean bigEndian, String name) {
    out.add(new Field(at, width, bigEndian, name));
    return at + width;
  }

  private static int indexOf(byte[] b, byte x, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == x) {
        return i;
      }
    }
    throw new IllegalStateException("no newline");
  }

  // ---------------------------------------------------------------- safetensors

  /** Strategy 5: one field of the JSON header set to a hostile value; 6: raw text damage (invalid UTF-8, cut JSON, padding). */
  public static byte[] structuredSafetensors(int s, long seed, String header, byte[] data) {
    Random r = new Random(seed);
    byte[] h;
    if (s == 5) {
      ObjectNode root;
      try {
        root = (ObjectNode) SafetensorsSource.JSON.readTree(header);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      List<String> names = new ArrayList<>();
      for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!k.equals("__metadata__")) {
          names.add(k);
        }
      }
      ObjectNode t = (ObjectNode) root.get(names.get(r.nextInt(names.size())));
      long v = INTERESTING[r.nextInt(INTERESTING.length)];
      switch (r.nextInt(7)) {
        case 0 -> ((ArrayNode) t.get("data_offsets")).set(r.nextInt(2), v);
        case 1 -> ((ArrayNode) t.get("data_offsets")).set(r.nextInt(2), ((ArrayNode) t.get("data_offsets")).get(0).longValue() - 4 + r.nextInt(8));
        case 2 -> {
          ArrayNode shape = (ArrayNode) t.get("shape");
          if (shape.isEmpty()) {
            shape.add(v);
          } else {
            shape.set(r.nextInt(shape.size()), r.nextBoolean() ? v : -r.nextInt(5));
          }
        }
        case 3 -> t.put("dtype", List.of("F8_E4M3", "Q4_0", "", "f32", "C64", "F4", "U64").get(r.nextInt(7)));
        case 4 -> t.putArray("shape").add(1_000_000).add(1_000_000);
        case 5 -> t.put("data_offsets", "0,4");
        default -> root.putObject("__metadata__").put("x", r.nextInt());
      }
      h = root.toString().getBytes(StandardCharsets.UTF_8);
    } else {
      h = header.getBytes(StandardCharsets.UTF_8);
      switch (r.nextInt(4)) {
        case 0 -> {
          int at = 2 + r.nextInt(h.length - 4);
          h[at] = (byte) (0x80 + r.nextInt(0x40)); // a lone continuation byte: invalid UTF-8
        }
        case 1 -> h = Arrays.copyOf(h, r.nextInt(h.length));
        case 2 -> h[r.nextInt(h.length)] = (byte) "{}[],:\"0".charAt(r.nextInt(8));
        default -> h = (header + "x").getBytes(StandardCharsets.UTF_8);
      }
    }
    return SafetensorsWriter.frame(h, data);
  }

  /** A safetensors file with its header replaced (the length prefix follows the new header). */
  public static byte[] reframeSafetensors(byte[] header, byte[] data) {
    return SafetensorsWriter.frame(header, data);
  }

  // ---------------------------------------------------------------- GGUF

  /** Strategy 5: a hostile count right at the top (tensor_count, metadata_kv_count) or a bad version/magic. */
  public static byte[] structuredGguf(long seed, byte[] orig) {
    Random r = new Random(seed);
    byte[] b = orig.clone();
    ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long v = INTERESTING[r.nextInt(INTERESTING.length)];
    switch (r.nextInt(4)) {
      case 0 -> w.putLong(8, v);
      case 1 -> w.putLong(16, v);
      case 2 -> w.putInt(4, List.of(0, 1, 4, 0x03000000).get(r.nextInt(4)));
      default -> w.putInt(0, Integer.reverseBytes(GgufSource.MAGIC));
    }
    return b;
  }

  // ---------------------------------------------------------------- PyTorch .bin

  public static byte[] replace(byte[] hay, String from, String to) {
    String s = new String(hay, StandardCharsets.ISO_8859_1);
    return s.replace(from, to).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Damages the pickle itself: random opcode bytes, truncation, or a dropped byte. */
  public static byte[] mutatePickle(long seed, byte[] pkl) {
    Random r = new Random(seed);
    byte[] b = pkl.clone();
    switch (r.nextInt(3)) {
      case 0 -> {
        for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
      }
      case 1 -> b = Arrays.copyOf(pkl, r.nextInt(pkl.length));
      default -> {
        int at = r.nextInt(pkl.length);
        b = new byte[pkl.length - 1];
        System.arraycopy(pkl, 0, b, 0, at);
        System.arraycopy(pkl, at + 1, b, at, pkl.length - at - 1);
      }
    }
    return b;
  }

  /**
   * Well-formed pickle opcodes with hostile meaning, inserted before the final STOP of {@code pkl}
   * (or replacing its tail): random little stack programs over the memo (lists and dicts that hold
   * themselves, directly or through another, used as values, keys and tuple items), deep nests of
   * lists, tuples and dicts, and long runs of MARKs. A restricted unpickler must refuse or build
   * them without recursing forever when it hashes, prints or flattens them.
   */
  public static byte[] picklePrograms(long seed, byte[] pkl) {
    Random r = new Random(seed);
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    int stop = pkl.length - 1; // a torch pickle ends with STOP
    switch (r.nextInt(4)) {
      case 0 -> { // a random stack program over two memo slots
        int n = 1 + r.nextInt(24);
        for (int i = 0; i < n; i++) {
          switch (r.nextInt(13)) {
            case 0 -> p.write(']');
            case 1 -> p.write('}');
            case 2 -> p.write(')');
            case 3 -> p.write('(');
            case 4 -> p.writeBytes(new byte[] {'q', (byte) r.nextInt(2)}); // BINPUT
            case 5 -> p.writeBytes(new byte[] {'h', (byte) r.nextInt(2)}); // BINGET
            case 6 -> p.write('a'); // APPEND
            case 7 -> p.write('s'); // SETITEM
            case 8 -> p.write(0x85 + r.nextInt(3)); // TUPLE1..3
            case 9 -> p.write('e'); // APPENDS
            case 10 -> p.write('u'); // SETITEMS
            case 11 -> p.writeBytes(new byte[] {'K', (byte) r.nextInt(256)});
            default -> p.writeBytes(new byte[] {(byte) 0x8c, 1, (byte) ('a' + r.nextInt(3))}); // a one-letter string
          }
        }
        // then store it under a key of the top dict: EMPTY_DICT is under it, SETITEM puts the last two
        p.write('s');
      }
      case 1 -> { // a value nested thousands deep: [[[...]]], ((...),), {"a": {"a": ...}}
        int depth = List.of(100, 2_000, 20_000, 200_000).get(r.nextInt(4));
        p.writeBytes(new byte[] {(byte) 0x8c, 1, 'z'});
        switch (r.nextInt(3)) {
          case 0 -> { // depth empty lists, the innermost value, then each APPEND puts the top into the list below
            p.writeBytes(repeat(new byte[] {']'}, depth));
            p.writeBytes(new byte[] {'K', 0});
            p.writeBytes(repeat(new byte[] {'a'}, depth));
          }
          case 1 -> { // (((),),): TUPLE1 wraps the top
            p.write(')');
            p.writeBytes(repeat(new byte[] {(byte) 0x85}, depth));
          }
          default -> { // dict, key, dict, key, ..., value, then each SETITEM stores the top into the dict below
            p.writeBytes(repeat(new byte[] {'}', (byte) 0x8c, 1, 'a'}, depth));
            p.writeBytes(new byte[] {'K', 0});
            p.writeBytes(repeat(new byte[] {'s'}, depth));
          }
        }
        p.write('s');
      }
      case 2 -> { // many MARKs closed by one TUPLE
        p.writeBytes(new byte[] {(byte) 0x8c, 1, 'm'});
        p.writeBytes(repeat(new byte[] {'('}, List.of(10, 10_001, 100_000).get(r.nextInt(3))));
        p.write('t');
        p.write('s');
      }
      default -> { // containers that hold themselves, stored as a value or used as a key
        byte[][] cycles = {
          {']', 'q', 0, 'h', 0, 'a'}, // L = [L]
          {']', 'q', 0, ']', 'q', 1, 'h', 0, 'a', 'a'}, // L0 = [L1], L1 = [L0]
          {']', 'q', 0, 'h', 0, (byte) 0x85, 'a'}, // L = [(L,)]
          {'}', 'q', 0, 'K', 1, 'h', 0, 's'}, // D = {1: D}
          {']', 'q', 0, '}', 'q', 1, 'K', 1, 'h', 0, 's', 'a'}, // L = [{1: L}]
        };
        byte[] cycle = cycles[r.nextInt(cycles.length)];
        if (r.nextBoolean()) {
          p.writeBytes(new byte[] {(byte) 0x8c, 1, 'c'});
          p.writeBytes(cycle);
        } else {
          p.writeBytes(cycle);
          p.writeBytes(new byte[] {'K', 1});
        }
        p.write('s');
      }
    }
    return concat(Arrays.copyOf(pkl, stop), p.toByteArray(), new byte[] {'.'});
  }

  /** The torch zip {@code bin} re-zipped (STORED, as torch does) with its data.pkl transformed. */
  public static byte[] rezip(Path bin, Function<byte[], byte[]> pickle) {
    try (ZipFile z = new ZipFile(bin.toFile())) {
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try (ZipOutputStream out = new ZipOutputStream(bos)) {
        for (ZipEntry e : z.stream().toList()) {
          byte[] data;
          try (InputStream in = z.getInputStream(e)) {
            data = in.readAllBytes();
          }
          if (e.getName().endsWith("data.pkl")) {
            data = pickle.apply(data);
          }
          ZipEntry ne = new ZipEntry(e.getName());
          ne.setMethod(ZipEntry.STORED);
          ne.setSize(data.length);
          CRC32 crc = new CRC32();
          crc.update(data);
          ne.setCrc(crc.getValue());
          out.putNextEntry(ne);
          out.write(data);
          out.closeEntry();
        }
      }
      return bos.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The data.pkl of a torch zip checkpoint. */
  public static byte[] pickleOf(Path bin) {
    try (ZipFile z = new ZipFile(bin.toFile())) {
      ZipEntry e = z.stream().filter(x -> x.getName().endsWith("data.pkl")).findFirst().orElseThrow();
      try (InputStream in = z.getInputStream(e)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  // ---------------------------------------------------------------- what an accepted file must allow

  /**
   * Reads everything a weight source accepted: every tensor's info must agree with what get returns,
   * and tensors of up to 64 Ki elements are read to floats; metadata values are turned to text.
   * Throws AssertionError on a disagreement, and whatever the source throws.
   */
  public static void readAll(WeightSource src) {
    for (String n : src.names()) {
      WeightSource.TensorInfo info = src.info(n);
      var t = src.get(n);
      if (!Arrays.equals(info.shape(), t.shape()) || info.dtype() != t.dtype()) {
        throw new AssertionError("info of '" + n + "' disagrees with get");
      }
      if (t.numel() <= 1 << 16) {
        t.toFloatArray();
      }
    }
    src.metadata().forEach((k, v) -> String.valueOf(v).length());
  }
}
