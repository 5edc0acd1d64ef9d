package dev.fovea.tensor.io;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.cpu.Elements;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files the way gguf-py's {@code GGUFWriter} lays them out: header, metadata in
 * insertion order, tensor infos (shapes reversed to ggml's fastest-first {@code ne}), zero padding
 * to the alignment, then each tensor's data padded to the alignment (the last one too).
 *
 * <p>The alignment is {@code general.alignment} when that key is put (UINT32, a power of two), else 32.
 * Tensors are encoded at {@link #write} time from a {@link Tensor} of any dtype into F32, F16, BF16,
 * Q8_0 or Q4_0 (ggml's reference rounding, {@link Elements#quantizeBlock}), or copied as raw bytes of
 * any ggml type ({@link #addRaw}).
 *
 * <pre>{@code
 * new GgufWriter()
 *     .put("general.architecture", GgufType.STRING, "llama")
 *     .put("llama.block_count", GgufType.UINT32, 2L)
 *     .addTensor("token_embd.weight", embed, GgmlType.Q8_0)
 *     .write(path);
 * }</pre>
 */
public final class GgufWriter {
  private record Kv(String key, GgufType type, Object value) {}

  private record Item(String name, GgmlType type, int[] shape, Tensor tensor, MemorySegment raw) {}

  private final int version;
  private final Map<String, Kv> kvs = new LinkedHashMap<>();
  private final List<Item> tensors = new ArrayList<>();

  public GgufWriter() {
    this(3);
  }

  /** A writer of GGUF {@code version} 2 or 3 (the same layout). */
  public GgufWriter(int version) {
    if (version != 2 && version != 3) {
      throw new TensorException("GgufWriter writes GGUF v2 or v3, not v" + version);
    }
    this.version = version;
  }

  /**
   * Adds a metadata value: Java types as {@link GgufType} lists (any {@link Number} is accepted for
   * numeric types, range-checked), arrays as {@link GgufArray}.
   */
  public GgufWriter put(String key, GgufType type, Object value) {
    check(key, type, value);
    if (kvs.containsKey(key)) {
      throw new TensorException("GGUF metadata key '" + key + "' put twice");
    }
    kvs.put(key, new Kv(key, type, value));
    return this;
  }

  public GgufWriter putString(String key, String v) {
    return put(key, GgufType.STRING, v);
  }

  public GgufWriter putUInt32(String key, long v) {
    return put(key, GgufType.UINT32, v);
  }

  public GgufWriter putInt32(String key, int v) {
    return put(key, GgufType.INT32, v);
  }

  public GgufWriter putFloat32(String key, float v) {
    return put(key, GgufType.FLOAT32, v);
  }

  public GgufWriter putBool(String key, boolean v) {
    return put(key, GgufType.BOOL, v);
  }

  public GgufWriter putStrings(String key, List<String> v) {
    return put(key, GgufType.ARRAY, new GgufArray(GgufType.STRING, new ArrayList<>(v)));
  }

  public GgufWriter putFloats(String key, float[] v) {
    List<Object> l = new ArrayList<>(v.length);
    for (float x : v) {
      l.add(x);
    }
    return put(key, GgufType.ARRAY, new GgufArray(GgufType.FLOAT32, l));
  }

  public GgufWriter putInts(String key, int[] v) {
    List<Object> l = new ArrayList<>(v.length);
    for (int x : v) {
      l.add(x);
    }
    return put(key, GgufType.ARRAY, new GgufArray(GgufType.INT32, l));
  }

  /** Adds a tensor, encoded as {@code as} (F32, F16, BF16, Q8_0 or Q4_0) when written. */
  public GgufWriter addTensor(String name, Tensor t, GgmlType as) {
    switch (as) {
      case F32, F16, BF16, Q8_0, Q4_0 -> {}
      default -> throw new TensorException("GgufWriter encodes F32, F16, BF16, Q8_0 and Q4_0, not " + as + " (tensor '" + name + "'); use addRaw");
    }
    int[] shape = t.shape();
    int inner = shape.length == 0 ? 1 : shape[shape.length - 1];
    if (inner % as.blockSize != 0) {
      throw new TensorException("tensor '" + name + "' of shape " + Arrays.toString(shape) + ": last dimension is not a multiple of the " + as + " block " + as.blockSize);
    }
    return add(new Item(name, as, shape, t, null));
  }

  /** Adds a tensor's already-encoded bytes of any ggml type. */
  public GgufWriter addRaw(String name, GgmlType type, int[] shape, MemorySegment bytes) {
    long numel = 1;
    for (int s : shape) {
      numel *= s;
    }
    if ((shape.length == 0 ? 1 : shape[shape.length - 1]) % type.blockSize != 0 || bytes.byteSize() != type.byteSize(numel)) {
      throw new TensorException("tensor '" + name + "': " + bytes.byteSize() + " bytes do not hold shape " + Arrays.toString(shape) + " of " + type);
    }
    return add(new Item(name, type, shape.clone(), null, bytes));
  }

  private GgufWriter add(Item it) {
    if (tensors.stream().anyMatch(t -> t.name().equals(it.name()))) {
      throw new TensorException("GGUF tensor '" + it.name() + "' added twice");
    }
    tensors.add(it);
    return this;
  }

  private int alignment() {
    Kv a = kvs.get("general.alignment");
    if (a == null) {
      return GgufSource.DEFAULT_ALIGNMENT;
    }
    long v = ((Number) a.value()).longValue();
    if (a.type() != GgufType.UINT32 || v <= 0 || (v & (v - 1)) != 0) {
      throw new TensorException("general.alignment must be a UINT32 power of two, is " + a.type() + " " + v);
    }
    return (int) v;
  }

  private static long size(Item it) {
    long numel = 1;
    for (int s : it.shape()) {
      numel *= s;
    }
    return it.type().byteSize(numel);
  }

  public void write(Path path) {
    int align = alignment();
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16)) {
      Out out = new Out(os);
      out.i32(GgufSource.MAGIC).i32(version).i64(tensors.size()).i64(kvs.size());
      for (Kv kv : kvs.values()) {
        out.str(kv.key()).i32(kv.type().id);
        value(out, kv.type(), kv.value());
      }
      long off = 0;
      for (Item it : tensors) {
        out.str(it.name()).i32(it.shape().length);
        for (int d = it.shape().length - 1; d >= 0; d--) {
          out.i64(it.shape()[d]);
        }
        out.i32(it.type().id).i64(off);
        long n = size(it);
        off += n + pad(n, align);
      }
      out.zeros(pad(out.written, align));
      for (Item it : tensors) {
        long n = size(it);
        MemorySegment data = it.raw() != null ? it.raw() : encode(it);
        out.segment(data);
        out.zeros(pad(n, align));
      }
    } catch (IOException e) {
      throw new TensorException("cannot write " + path + ": " + e, e);
    }
  }

  private static long pad(long n, int align) {
    return (align - n % align) % align;
  }

  private static MemorySegment encode(Item it) {
    Tensor t = it.tensor();
    float[] x = t.toFloatArray();
    MemorySegment seg = Arena.ofAuto().allocate(Math.max(1, size(it))).asSlice(0, size(it));
    switch (it.type()) {
      case F32 -> MemorySegment.copy(x, 0, seg, Elements.F32, 0, x.length);
      case F16 -> {
        for (int i = 0; i < x.length; i++) {
          seg.set(Elements.I16, 2L * i, Float.floatToFloat16(x[i]));
        }
      }
      case BF16 -> {
        for (int i = 0; i < x.length; i++) {
          seg.set(Elements.I16, 2L * i, Elements.floatToBf16(x[i]));
        }
      }
      case Q8_0, Q4_0 -> {
        DType dt = it.type() == GgmlType.Q8_0 ? DType.Q8_0 : DType.Q4_0;
        for (int i = 0; i < x.length; i += 32) {
          Elements.quantizeBlock(seg, dt, i, x, i);
        }
      }
      default -> throw new IllegalStateException(it.type().toString());
    }
    return seg;
  }

  private static void value(Out out, GgufType t, Object v) throws IOException {
    switch (t) {
      case UINT8, INT8 -> out.u8(((Number) v).intValue());
      case UINT16, INT16 -> out.i16(((Number) v).intValue());
      case UINT32, INT32 -> out.i32(((Number) v).intValue());
      case FLOAT32 -> out.i32(Float.floatToRawIntBits(((Number) v).floatValue()));
      case BOOL -> out.u8((Boolean) v ? 1 : 0);
      case STRING -> out.str((String) v);
      case UINT64, INT64 -> out.i64(((Number) v).longValue());
      case FLOAT64 -> out.i64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
      case ARRAY -> {
        GgufArray a = (GgufArray) v;
        out.i32(a.elementType().id).i64(a.size());
        for (Object e : a.values()) {
          value(out, a.elementType(), e);
        }
      }
    }
  }

  private static void check(String key, GgufType t, Object v) {
    String where = "GGUF metadata '" + key + "' of type " + t;
    boolean ok =
        switch (t) {
          case UINT8 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFF;
          case INT8 -> v instanceof Number n && n.longValue() == (byte) n.longValue();
          case UINT16 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFFFF;
          case INT16 -> v instanceof Number n && n.longValue() == (short) n.longValue();
          case UINT32 -> v instanceof Number n && n.longValue() >= 0 && n.longValue() <= 0xFFFFFFFFL;
          case INT32 -> v instanceof Number n && n.longValue() == (int) n.longValue();
          case UINT64, INT64 -> v instanceof Long || v instanceof Integer;
          case FLOAT32, FLOAT64 -> v instanceof Float || v instanceof Double;
          case BOOL -> v instanceof Boolean;
          case STRING -> v instanceof String;
          case ARRAY -> v instanceof GgufArray;
        };
    if (!ok) {
      throw new TensorException(where + ": value " + v + (v == null ? "" : " (" + v.getClass().getSimpleName() + ")") + " does not fit");
    }
    if (v instanceof GgufArray a) {
      for (Object e : a.values()) {
        check(key + "[]", a.elementType(), e);
      }
    }
  }

  /** Little-endian output that counts bytes. */
  private static final class Out {
    final OutputStream os;
    final ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    long written;

    Out(OutputStream os) {
      this.os = os;
    }

    Out u8(int v) throws IOException {
      os.write(v);
      written++;
      return this;
    }

    Out i16(int v) throws IOException {
      b.clear();
      os.write(b.putShort((short) v).array(), 0, 2);
      written += 2;
      return this;
    }

    Out i32(int v) throws IOException {
      b.clear();
      os.write(b.putInt(v).array(), 0, 4);
      written += 4;
      return this;
    }

    Out i64(long v) throws IOException {
      b.clear();
      os.write(b.putLong(v).array(), 0, 8);
      written += 8;
      return this;
    }

    Out str(String s) throws IOException {
      byte[] u = s.getBytes(StandardCharsets.UTF_8);
      i64(u.length);
      os.write(u);
      written += u.length;
      return this;
    }

    void zeros(long n) throws IOException {
      for (long i = 0; i < n; i++) {
        os.write(0);
      }
      written += n;
    }

    void segment(MemorySegment s) throws IOException {
      byte[] buf = new byte[(int) Math.min(1 << 20, Math.max(1, s.byteSize()))];
      for (long p = 0; p < s.byteSize(); p += buf.length) {
        int n = (int) Math.min(buf.length, s.byteSize() - p);
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, p, buf, 0, n);
        os.write(buf, 0, n);
      }
      written += s.byteSize();
    }
  }
}
