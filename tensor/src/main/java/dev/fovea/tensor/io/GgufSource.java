package dev.fovea.tensor.io;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A GGUF file, versions 2 and 3 (ggml-org/ggml {@code docs/gguf.md}; v2 and v3 share the layout,
 * v3 only allowed big-endian files, which carry no flag: they are refused by the checks on counts
 * and sizes, or by a byte-swapped magic). v1 (32-bit counts) is refused with a hint. Names and tensors are exactly the file's ({@code blk.0.attn_q.weight},
 * with q/k rows in llama.cpp's interleaved rope order): {@link GgufLlamaNames#asHuggingFace} gives
 * the HF view.
 *
 * <p>Shapes: GGUF lists {@code ne[]} fastest-first; here they are reversed into row-major shapes,
 * so a file's {@code ne = [in, out]} weight reads as {@code [out, in]}.
 *
 * <p>Tensor types: F32, F16, BF16, Q8_0, Q4_0, I32 and I64 are views of the mapped file. Q4_1,
 * Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (and F64) are dequantized once, on first {@link #get}, into an F32
 * copy owned by this source ({@link GgmlQuants}, bit-identical to ggml's scalar path); F32 rather
 * than F16 so the conversion loses nothing. I8/I16 are widened to I32. {@link #convertedTensors()}
 * names the tensors that will be converted (a library logs nothing: callers that want to tell their
 * user print it, as {@code fovea inspect} does). Other types (Q2_K, Q3_K, Q8_1, Q8_K, ...) are
 * refused at open, naming the tensor.
 *
 * <p>Metadata values are Java objects as {@link GgufType} lists; typed accessors ({@link
 * #getInt}, {@link #getStrings}, {@link #getFloats}, ...) name the key and file when a key is
 * missing or of another type.
 */
public final class GgufSource extends MappedSource {
  static final int MAGIC = 0x46554747; // "GGUF" read little-endian
  static final int DEFAULT_ALIGNMENT = 32;
  static final long MAX_TENSORS = 1L << 20;
  static final long MAX_KVS = 1L << 20;
  static final long MAX_KEY = 1L << 16;
  static final long MAX_STRING = 1L << 26;
  static final long MAX_ARRAY = 1L << 24;
  static final long MAX_METADATA_VALUES = 1L << 25;
  static final int MAX_ARRAY_DEPTH = 8;
  static final int MAX_DIMS = 4;

  private final int version;
  private final int alignment;
  private final long dataStart;
  private final Map<String, GgufType> types;
  private final Map<String, GgmlType> ggmlTypes;

  private GgufSource(
      MappedFile file,
      LinkedHashMap<String, Entry> entries,
      Map<String, Object> metadata,
      Map<String, GgufType> types,
      Map<String, GgmlType> ggmlTypes,
      int version,
      int alignment,
      long dataStart) {
    super(file, entries, metadata);
    this.types = types;
    this.ggmlTypes = ggmlTypes;
    this.version = version;
    this.alignment = alignment;
    this.dataStart = dataStart;
  }

  public static GgufSource open(Path path) {
    MappedFile file = MappedFile.open(path);
    try {
      return new Parser(file).parse();
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
  }

  public int version() {
    return version;
  }

  /** {@code general.alignment}, or 32 when absent. */
  public int alignment() {
    return alignment;
  }

  /** File offset of the tensor data section. */
  public long dataStart() {
    return dataStart;
  }

  /** The ggml type a tensor is stored as (before any conversion), or null if absent. */
  public GgmlType ggmlType(String name) {
    return ggmlTypes.get(name);
  }

  /**
   * The tensors stored in a type our kernels do not read ({@link GgmlType#converted()}), in file
   * order, each with its stored type: {@link #get} converts them once, on first use, to F32 or I32.
   */
  public Map<String, GgmlType> convertedTensors() {
    Map<String, GgmlType> out = new LinkedHashMap<>();
    ggmlTypes.forEach((name, type) -> {
      if (type.converted()) {
        out.put(name, type);
      }
    });
    return Collections.unmodifiableMap(out);
  }

  /** The stored type of a metadata value, or null if the key is absent. */
  public GgufType metadataType(String key) {
    return types.get(key);
  }

  /** The raw stored bytes of a tensor (a view of the mapped file, whatever its type). */
  public MemorySegment rawBytes(String name) {
    MemorySegment b = rawBytes.get(name);
    if (b == null) {
      throw new TensorException("tensor '" + name + "' not found in " + origin());
    }
    return b;
  }

  private final Map<String, MemorySegment> rawBytes = new LinkedHashMap<>();

  // ------------------------------------------------------------------ typed metadata access

  private Object value(String key) {
    Object v = metadata().get(key);
    if (v == null) {
      throw new FormatException(origin(), "metadata '" + key + "'", "key not found");
    }
    return v;
  }

  private FormatException wrongType(String key, String want) {
    return new FormatException(origin(), "metadata '" + key + "'", "is " + types.get(key) + ", expected " + want);
  }

  public boolean has(String key) {
    return metadata().containsKey(key);
  }

  /** An integer value of any integer type. */
  public long getLong(String key) {
    Object v = value(key);
    if (v instanceof Integer i) {
      return i;
    }
    if (v instanceof Long l) {
      return l;
    }
    throw wrongType(key, "an integer");
  }

  /** An integer value that fits an int. */
  public int getInt(String key) {
    long v = getLong(key);
    if (v != (int) v) {
      throw new FormatException(origin(), "metadata '" + key + "'", "value " + v + " does not fit an int");
    }
    return (int) v;
  }

  public int getInt(String key, int fallback) {
    return has(key) ? getInt(key) : fallback;
  }

  /** A FLOAT32 or FLOAT64 value, as float. */
  public float getFloat(String key) {
    Object v = value(key);
    if (v instanceof Float f) {
      return f;
    }
    if (v instanceof Double d) {
      return d.floatValue();
    }
    throw wrongType(key, "a float");
  }

  public float getFloat(String key, float fallback) {
    return has(key) ? getFloat(key) : fallback;
  }

  public boolean getBoolean(String key) {
    if (value(key) instanceof Boolean b) {
      return b;
    }
    throw wrongType(key, "a bool");
  }

  public String getString(String key) {
    if (value(key) instanceof String s) {
      return s;
    }
    throw wrongType(key, "a string");
  }

  public GgufArray getArray(String key) {
    if (value(key) instanceof GgufArray a) {
      return a;
    }
    throw wrongType(key, "an array");
  }

  /** An array of strings (e.g. {@code tokenizer.ggml.tokens}). */
  public List<String> getStrings(String key) {
    GgufArray a = getArray(key);
    if (a.elementType() != GgufType.STRING) {
      throw new FormatException(origin(), "metadata '" + key + "'", "is an array of " + a.elementType() + ", expected STRING");
    }
    return a.values().stream().map(String.class::cast).toList();
  }

  /** An array of FLOAT32/FLOAT64 (e.g. {@code tokenizer.ggml.scores}). */
  public float[] getFloats(String key) {
    GgufArray a = getArray(key);
    if (a.elementType() != GgufType.FLOAT32 && a.elementType() != GgufType.FLOAT64) {
      throw new FormatException(origin(), "metadata '" + key + "'", "is an array of " + a.elementType() + ", expected FLOAT32");
    }
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) a.values().get(i)).floatValue();
    }
    return out;
  }

  /** An array of integers that fit an int (e.g. {@code tokenizer.ggml.token_type}). */
  public int[] getInts(String key) {
    GgufArray a = getArray(key);
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      Object v = a.values().get(i);
      if (!(v instanceof Integer) && !(v instanceof Long)) {
        throw new FormatException(origin(), "metadata '" + key + "'", "is an array of " + a.elementType() + ", expected integers");
      }
      long l = ((Number) v).longValue();
      if (l != (int) l) {
        throw new FormatException(origin(), "metadata '" + key + "'", "element " + i + " = " + l + " does not fit an int");
      }
      out[i] = (int) l;
    }
    return out;
  }

  // ------------------------------------------------------------------ parsing

  private record Info(String name, long[] ne, GgmlType type, long offset, long bytes, long numel) {}

  private static final class Parser {
    final MappedFile file;
    final String f;
    final Cursor c;
    long valuesLeft = MAX_METADATA_VALUES;

    Parser(MappedFile file) {
      this.file = file;
      this.f = file.name;
      this.c = new Cursor(file.segment, f, 0);
    }

    GgufSource parse() {
      int magic = c.i32("magic");
      if (magic != MAGIC) {
        String hint = magic == Integer.reverseBytes(MAGIC) ? " (a big-endian GGUF? only little-endian files are supported)" : "";
        throw new FormatException(f, "magic", String.format("0x%08x is not GGUF%s", magic, hint));
      }
      long version = c.u32("version");
      if (version == 1) {
        throw new FormatException(f, "version", "GGUF v1 (32-bit counts) is not supported; re-convert with a current llama.cpp");
      }
      if (version != 2 && version != 3) {
        throw new FormatException(f, "version", "GGUF version " + version + " is not supported (2 and 3 are)");
      }
      long nTensors = c.count("tensor_count", Math.min(MAX_TENSORS, c.remaining() / 24));
      long nKv = c.count("metadata_kv_count", Math.min(MAX_KVS, Math.max(0, c.remaining() - 24 * nTensors) / 13));

      Map<String, Object> metadata = new LinkedHashMap<>();
      Map<String, GgufType> types = new LinkedHashMap<>();
      for (long i = 0; i < nKv; i++) {
        String key = string("metadata key #" + i, MAX_KEY);
        String field = "metadata '" + ErrorList.abbreviate(key, 80) + "'";
        GgufType t = type(c.u32(field + " type"), field);
        if (metadata.containsKey(key)) {
          throw new FormatException(f, field, "duplicate key");
        }
        metadata.put(key, value(t, field, 0));
        types.put(key, t);
      }
      int alignment = DEFAULT_ALIGNMENT;
      if (metadata.containsKey("general.alignment")) {
        Object a = metadata.get("general.alignment");
        if (types.get("general.alignment") != GgufType.UINT32) {
          throw new FormatException(f, "metadata 'general.alignment'", "must be UINT32, is " + types.get("general.alignment"));
        }
        long al = (Long) a;
        if (al <= 0 || al > (1 << 20) || (al & (al - 1)) != 0) {
          throw new FormatException(f, "metadata 'general.alignment'", al + " is not a power of two up to 2^20");
        }
        alignment = (int) al;
      }

      List<Info> infos = new ArrayList<>();
      Map<String, Info> byName = new LinkedHashMap<>();
      for (long i = 0; i < nTensors; i++) {
        String name = string("tensor info #" + i + " name", 1024);
        String field = "tensor '" + ErrorList.abbreviate(name, 80) + "'";
        long nDims = c.u32(field + " n_dims");
        if (nDims > MAX_DIMS) {
          throw new FormatException(f, field, "n_dims " + nDims + " is more than " + MAX_DIMS);
        }
        long[] ne = new long[(int) nDims];
        for (int d = 0; d < ne.length; d++) {
          ne[d] = c.i64(field + " ne[" + d + "]");
        }
        long typeId = c.u32(field + " type");
        GgmlType type = typeId > 1000 ? null : GgmlType.byId((int) typeId);
        if (type == null) {
          throw new FormatException(f, field, "unknown ggml type id " + typeId);
        }
        if (type.exposedAs() == null) {
          throw new FormatException(
              f, field, "ggml type " + type + " is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, I32, I64 mapped; "
                  + "Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F64, I8, I16 converted)");
        }
        long offset = c.i64(field + " offset");
        long[] shape = reversed(ne);
        long numel = checkedNumel(shape, f, field);
        if ((ne.length == 0 ? 1 : ne[0]) % type.blockSize != 0) {
          throw new FormatException(
              f, field, "ne[0] = " + (ne.length == 0 ? 1 : ne[0]) + " is not a multiple of the " + type + " block size " + type.blockSize);
        }
        if (offset < 0 || offset % alignment != 0) {
          throw new FormatException(f, field, "offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
        }
        if (byName.containsKey(name)) {
          throw new FormatException(f, field, "duplicate tensor name");
        }
        Info info = new Info(name, ne, type, offset, type.byteSize(numel), numel);
        infos.add(info);
        byName.put(name, info);
      }
      long dataStart = (c.pos + alignment - 1) / alignment * alignment;
      long dataLen = file.size() - dataStart;
      if (nTensors > 0 && dataLen < 0) {
        throw new FormatException(f, "tensor data", "file ends at " + file.size() + " before the data section at " + dataStart);
      }
      List<Info> sorted = new ArrayList<>(infos);
      sorted.sort(Comparator.comparingLong(Info::offset));
      long end = 0;
      for (Info in : sorted) {
        String field = "tensor '" + ErrorList.abbreviate(in.name, 80) + "'";
        if (in.offset < end) {
          throw new FormatException(f, field, "data at offset " + in.offset + " overlaps the previous tensor (which ends at " + end + ")");
        }
        if (in.offset > dataLen || in.bytes > dataLen - in.offset) {
          throw new FormatException(
              f, field, "data [" + in.offset + ", " + (in.offset + in.bytes) + ") runs past the end of the data section (" + Math.max(0, dataLen) + " bytes)");
        }
        end = in.offset + in.bytes;
      }

      LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
      Map<String, GgmlType> ggmlTypes = new LinkedHashMap<>();
      Map<String, MemorySegment> raw = new LinkedHashMap<>();
      for (Info in : infos) {
        int[] shape = toIntShape(reversed(in.ne));
        MemorySegment bytes = file.segment.asSlice(dataStart + in.offset, in.bytes);
        entries.put(in.name, new Entry(new TensorInfo(in.name, in.type.exposedAs(), shape), () -> load(file, in, shape, bytes)));
        raw.put(in.name, bytes);
        ggmlTypes.put(in.name, in.type);
      }
      GgufSource src = new GgufSource(file, entries, metadata, types, ggmlTypes, (int) version, alignment, dataStart);
      src.rawBytes.putAll(raw);
      return src;
    }

    GgufType type(long id, String field) {
      GgufType t = GgufType.byId(id);
      if (t == null) {
        throw new FormatException(f, field, "unknown metadata value type " + id);
      }
      return t;
    }

    String string(String field, long max) {
      long n = c.count(field + " length", Math.min(max, c.remaining()));
      return c.utf8(n, field);
    }

    Object value(GgufType t, String field, int depth) {
      if (--valuesLeft < 0) {
        throw new FormatException(f, field, "more than " + MAX_METADATA_VALUES + " metadata values in the file");
      }
      return switch (t) {
        case UINT8 -> c.u8(field);
        case INT8 -> (int) (byte) c.u8(field);
        case UINT16 -> c.i16(field) & 0xFFFF;
        case INT16 -> c.i16(field);
        case UINT32 -> c.u32(field);
        case INT32 -> c.i32(field);
        case FLOAT32 -> Float.intBitsToFloat(c.i32(field));
        case BOOL -> {
          int b = c.u8(field);
          if (b > 1) {
            throw new FormatException(f, field, "bool byte " + b + " is neither 0 nor 1");
          }
          yield b == 1;
        }
        case STRING -> string(field, MAX_STRING);
        case UINT64, INT64 -> c.i64(field);
        case FLOAT64 -> Double.longBitsToDouble(c.i64(field));
        case ARRAY -> {
          if (depth >= MAX_ARRAY_DEPTH) {
            throw new FormatException(f, field, "arrays nested deeper than " + MAX_ARRAY_DEPTH);
          }
          GgufType et = type(c.u32(field + " element type"), field);
          long n = c.count(field + " element count", Math.min(MAX_ARRAY, c.remaining() / et.minBytes));
          List<Object> vals = new ArrayList<>((int) n);
          for (long i = 0; i < n; i++) {
            vals.add(value(et, field, depth + 1));
          }
          yield new GgufArray(et, vals);
        }
      };
    }
  }

  static long[] reversed(long[] ne) {
    long[] s = new long[ne.length];
    for (int i = 0; i < ne.length; i++) {
      s[i] = ne[ne.length - 1 - i];
    }
    return s;
  }

  private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private static Tensor load(MappedFile file, Info in, int[] shape, MemorySegment bytes) {
    DType exposed = in.type.exposedAs();
    long[] strides = dev.fovea.tensor.Shapes.contiguousStrides(shape);
    if (in.type.mapped()) {
      return new Tensor(Storage.wrap(bytes, exposed, in.numel), shape, strides, 0);
    }
    MemorySegment dst = file.allocate(exposed.byteSize(in.numel));
    switch (in.type) {
      case I8 -> {
        for (long i = 0; i < in.numel; i++) {
          dst.set(I32, i * 4, bytes.get(ValueLayout.JAVA_BYTE, i));
        }
      }
      case I16 -> {
        for (long i = 0; i < in.numel; i++) {
          dst.set(I32, i * 4, bytes.get(I16, i * 2));
        }
      }
      case F64 -> {
        for (long i = 0; i < in.numel; i++) {
          dst.set(F32, i * 4, (float) bytes.get(F64, i * 8));
        }
      }
      default -> {
        // Dequantize a row (or 64 blocks) at a time.
        int per = (int) Math.min(64, in.numel / in.type.blockSize);
        float[] buf = new float[Math.max(per, 1) * in.type.blockSize];
        long blocks = in.numel / in.type.blockSize;
        for (long b = 0; b < blocks; b += per) {
          int n = (int) Math.min(per, blocks - b);
          GgmlQuants.dequantize(in.type, bytes, b * in.type.blockBytes, n, buf);
          MemorySegment.copy(buf, 0, dst, F32, b * in.type.blockSize * 4, n * in.type.blockSize);
        }
      }
    }
    return new Tensor(Storage.wrap(dst, exposed, in.numel), shape, strides, 0);
  }

  @Override
  public String toString() {
    return "GgufSource[" + origin() + ", v" + version + ", " + names().size() + " tensors, "
        + metadata().keySet().stream().limit(4).collect(Collectors.joining(", ")) + ", ...]";
  }
}
