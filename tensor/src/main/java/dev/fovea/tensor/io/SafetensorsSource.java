package dev.fovea.tensor.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file (huggingface/safetensors {@code safetensors/src/tensor.rs}): an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON, then the data buffer.
 *
 * <p>Opening reads only the header; the file is mapped and each tensor is a zero-copy view of its
 * bytes. F32, F16, BF16, I32 and I64 are mapped directly. Types our kernels do not have are
 * widened once, on first {@link #get}, into a copy owned by this source: BOOL, U8, I8, I16 and U16
 * become I32 (values kept exactly; BOOL is 0/1), U32 becomes I64, F64 becomes F32 (rounded).
 * {@link #info} reports the dtype {@code get} will return; {@link #fileDType} the one stored.
 *
 * <p>Checks, as the reference reader does: header length at most 100,000,000 and within the file,
 * JSON object without duplicate keys, every tensor's byte size equal to its shape times its element
 * size, and tensors sorted by offset tiling the data buffer exactly (no gap, no overlap, nothing
 * after the last one). {@code __metadata__} must map strings to strings.
 */
public final class SafetensorsSource extends MappedSource {
  static final long MAX_HEADER = 100_000_000L;

  static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  static {
    JSON.getFactory()
        .setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
  }

  /** Stored element type of a safetensors tensor, with its size in bytes and the dtype it is exposed as. */
  public enum FileDType {
    BOOL(1, DType.I32),
    U8(1, DType.I32),
    I8(1, DType.I32),
    I16(2, DType.I32),
    U16(2, DType.I32),
    F16(2, DType.F16),
    BF16(2, DType.BF16),
    I32(4, DType.I32),
    U32(4, DType.I64),
    F32(4, DType.F32),
    F64(8, DType.F32),
    I64(8, DType.I64);

    final int bytes;
    final DType exposed;

    FileDType(int bytes, DType exposed) {
      this.bytes = bytes;
      this.exposed = exposed;
    }

    /** True when the tensor is mapped as stored; false when {@code get} widens it into a copy. */
    public boolean mappedDirectly() {
      return name().equals(exposed.name());
    }
  }

  private final Map<String, FileDType> fileDTypes;

  private SafetensorsSource(
      MappedFile file, LinkedHashMap<String, Entry> entries, Map<String, Object> metadata, Map<String, FileDType> fileDTypes) {
    super(file, entries, metadata);
    this.fileDTypes = fileDTypes;
  }

  /** The dtype as stored in the file (before widening), or null if absent. */
  public FileDType fileDType(String name) {
    return fileDTypes.get(name);
  }

  /** Opens and checks the header of one safetensors file; reads no tensor data. */
  public static SafetensorsSource open(Path path) {
    MappedFile file = MappedFile.open(path);
    try {
      return parse(file);
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
  }

  private record Raw(String name, FileDType dtype, long[] shape, long numel, long begin, long end) {}

  private static SafetensorsSource parse(MappedFile file) {
    String f = file.name;
    if (file.size() < 8) {
      throw new FormatException(f, "header length", "truncated: the file has " + file.size() + " bytes, fewer than the 8-byte header length");
    }
    long n = java.nio.ByteBuffer.wrap(file.read(0, 8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (n < 2 || n > MAX_HEADER || n > file.size() - 8) {
      throw new FormatException(
          f, "header length", Long.toUnsignedString(n) + " is not within [2, min(100000000, file size " + file.size() + " - 8)]");
    }
    // Read through a plain read, not the mapping: see MappedFile.read.
    String text = Cursor.decodeUtf8(file.read(8, (int) n), f, "header");
    if (!text.startsWith("{")) {
      throw new FormatException(f, "header", "JSON header must start with '{'");
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JacksonException e) {
      throw new FormatException(f, "header", "invalid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new FormatException(f, "header", "JSON header is not an object");
    }
    long dataStart = 8 + n;
    long bufferLen = file.size() - dataStart;

    Map<String, Object> metadata = new LinkedHashMap<>();
    List<Raw> raws = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.properties().iterator(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> kv = it.next();
      String name = kv.getKey();
      JsonNode v = kv.getValue();
      if (name.equals("__metadata__")) {
        if (!v.isObject()) {
          throw new FormatException(f, "__metadata__", "must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> m : v.properties()) {
          if (!m.getValue().isTextual()) {
            throw new FormatException(f, "__metadata__." + m.getKey(), "value must be a string, found " + m.getValue().getNodeType());
          }
          metadata.put(m.getKey(), m.getValue().textValue());
        }
        continue;
      }
      raws.add(tensor(f, name, v));
    }

    // Sorted by offset, tensors must tile [0, bufferLen) exactly.
    List<Raw> sorted = new ArrayList<>(raws);
    sorted.sort(Comparator.comparingLong(Raw::begin).thenComparingLong(Raw::end));
    long expected = 0;
    for (Raw r : sorted) {
      String field = "tensor '" + ErrorList.abbreviate(r.name, 80) + "'";
      if (r.begin != expected) {
        throw new FormatException(
            f, field, "data_offsets [" + r.begin + ", " + r.end + "] " + (r.begin < expected ? "overlap the previous tensor" : "leave a gap")
                + " (expected to start at " + expected + ")");
      }
      if (r.end > bufferLen) {
        throw new FormatException(f, field, "data_offsets [" + r.begin + ", " + r.end + "] run past the data buffer of " + bufferLen + " bytes");
      }
      expected = r.end;
    }
    if (expected != bufferLen) {
      throw new FormatException(f, "data buffer", "tensors cover " + expected + " bytes but the data buffer has " + bufferLen);
    }

    LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    Map<String, FileDType> fileDTypes = new LinkedHashMap<>();
    for (Raw r : raws) {
      int[] shape = toIntShape(r.shape);
      TensorInfo info = new TensorInfo(r.name, r.dtype.exposed, shape);
      long offset = dataStart + r.begin;
      entries.put(r.name, new Entry(info, () -> load(file, r, shape, offset)));
      fileDTypes.put(r.name, r.dtype);
    }
    return new SafetensorsSource(file, entries, metadata, fileDTypes);
  }

  private static Raw tensor(String f, String name, JsonNode v) {
    String field = "tensor '" + ErrorList.abbreviate(name, 80) + "'";
    if (!v.isObject()) {
      throw new FormatException(f, field, "entry must be an object with dtype, shape and data_offsets");
    }
    JsonNode dt = v.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw new FormatException(f, field, "missing or non-string dtype");
    }
    FileDType dtype;
    try {
      dtype = FileDType.valueOf(dt.textValue());
    } catch (IllegalArgumentException e) {
      throw new FormatException(f, field, "unsupported dtype '" + ErrorList.abbreviate(dt.textValue(), 40) + "' (supported: "
          + java.util.Arrays.toString(FileDType.values()) + ")");
    }
    long[] shape = longs(f, field + " shape", v.get("shape"), 16);
    long[] offsets = longs(f, field + " data_offsets", v.get("data_offsets"), 2);
    if (offsets.length != 2) {
      throw new FormatException(f, field, "data_offsets must be [begin, end]");
    }
    long numel = checkedNumel(shape, f, field);
    long bytes = numel * dtype.bytes;
    if (offsets[1] < offsets[0] || offsets[1] - offsets[0] != bytes) {
      throw new FormatException(
          f, field, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] do not hold shape " + java.util.Arrays.toString(shape)
              + " of " + dtype + " (" + bytes + " bytes)");
    }
    return new Raw(name, dtype, shape, numel, offsets[0], offsets[1]);
  }

  private static long[] longs(String f, String field, JsonNode v, int maxLen) {
    if (v == null || !v.isArray()) {
      throw new FormatException(f, field, "missing or not an array");
    }
    if (v.size() > maxLen) {
      throw new FormatException(f, field, "has " + v.size() + " entries, at most " + maxLen + " allowed");
    }
    long[] out = new long[v.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode e = v.get(i);
      if (!e.isIntegralNumber() || !e.canConvertToLong() || e.longValue() < 0) {
        throw new FormatException(f, field, "entry " + i + " (" + ErrorList.abbreviate(e.toString(), 40) + ") is not a non-negative 64-bit integer");
      }
      out[i] = e.longValue();
    }
    return out;
  }

  private static Tensor load(MappedFile file, Raw r, int[] shape, long offset) {
    MemorySegment bytes = file.segment.asSlice(offset, r.end - r.begin);
    DType exposed = r.dtype.exposed;
    MemorySegment data = r.dtype.mappedDirectly() ? bytes : widen(file, r.dtype, bytes, r.numel);
    return new Tensor(Storage.wrap(data, exposed, r.numel), shape, Shapes.contiguousStrides(shape), 0);
  }

  private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Widens a stored type our kernels lack into a copy of the exposed dtype (see the class comment). */
  static MemorySegment widen(MappedFile file, FileDType t, MemorySegment src, long numel) {
    MemorySegment dst = file.allocate(t.exposed.byteSize(numel));
    for (long i = 0; i < numel; i++) {
      switch (t) {
        case BOOL -> dst.set(I32, i * 4, src.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0);
        case U8 -> dst.set(I32, i * 4, src.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        case I8 -> dst.set(I32, i * 4, src.get(ValueLayout.JAVA_BYTE, i));
        case I16 -> dst.set(I32, i * 4, src.get(I16, i * 2));
        case U16 -> dst.set(I32, i * 4, src.get(I16, i * 2) & 0xFFFF);
        case U32 -> dst.set(I64, i * 8, src.get(I32, i * 4) & 0xFFFFFFFFL);
        case F64 -> dst.set(F32, i * 4, (float) src.get(F64, i * 8));
        default -> throw new IllegalStateException(t + " is mapped directly");
      }
    }
    return dst;
  }
}
