package dev.fovea.tensor.io;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A PyTorch checkpoint written by {@code torch.save} in the zip format (PyTorch 1.6 and later;
 * torch {@code torch/serialization.py}, {@code caffe2/serialize/inline_container.cc}): entries under
 * one top folder, {@code <prefix>/data.pkl} (the pickled object), {@code <prefix>/data/<key>} (raw
 * little-endian storages, STORED and 64-byte aligned), {@code byteorder}, {@code version}.
 *
 * <p>The pickle is run by a restricted {@link Unpickler} that builds tensors and dicts and refuses
 * any other global ({@code "refusing to load foreign global os.system"}). The top object must be a
 * dict (OrderedDict) of tensors; nested dicts are flattened with dots ({@code {"model": {"w": t}}}
 * gives {@code model.w}) and non-tensor leaves (ints, strings, ...) go to {@link #metadata()}.
 *
 * <p>Each tensor is a view of its storage's bytes in the mapped zip, honouring storage offset and
 * strides (non-contiguous views and storages shared by several tensors stay views). Float, Half,
 * BFloat16, Long and Int storages are mapped; Byte, Bool, Char (int8) and Short storages are widened
 * to I32 and Double to F32, once per tensor on first {@link #get}, then viewed with the same strides.
 * Big-endian checkpoints ({@code byteorder} = big) and the legacy pre-1.6 format are refused with a
 * message saying how to convert them.
 */
public final class TorchBinSource extends MappedSource {
  static final long MAX_PICKLE = 64L << 20;
  static final int MAX_NESTING = 16;

  private TorchBinSource(MappedFile file, LinkedHashMap<String, Entry> entries, Map<String, Object> metadata) {
    super(file, entries, metadata);
  }

  public static TorchBinSource open(Path path) {
    MappedFile file = MappedFile.open(path);
    try {
      return parse(file);
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** Stored element type of a torch storage class, its size, and the dtype it is exposed as. */
  private enum StorageType {
    FloatStorage(4, DType.F32),
    HalfStorage(2, DType.F16),
    BFloat16Storage(2, DType.BF16),
    LongStorage(8, DType.I64),
    IntStorage(4, DType.I32),
    DoubleStorage(8, DType.F32),
    ShortStorage(2, DType.I32),
    CharStorage(1, DType.I32),
    ByteStorage(1, DType.I32),
    BoolStorage(1, DType.I32);

    final int bytes;
    final DType exposed;

    StorageType(int bytes, DType exposed) {
      this.bytes = bytes;
      this.exposed = exposed;
    }

    boolean mapped() {
      return ordinal() < 5;
    }
  }

  private static TorchBinSource parse(MappedFile file) {
    String f = file.name;
    MemorySegment seg = file.segment;
    if (seg.byteSize() >= 2 && (seg.get(ValueLayout.JAVA_BYTE, 0) & 0xFF) == 0x80 && seg.get(ValueLayout.JAVA_BYTE, 1) == 2) {
      throw new FormatException(
          f, null, "legacy (pre-1.6) torch.save format is not supported; re-save with a current torch.save or convert to safetensors");
    }
    if (seg.byteSize() < 4 || seg.get(ValueLayout.JAVA_BYTE, 0) != 'P' || seg.get(ValueLayout.JAVA_BYTE, 1) != 'K') {
      throw new FormatException(f, null, "not a zip file (a torch.save checkpoint starts with 'PK')");
    }
    ZipIndex zip = new ZipIndex(seg, f);
    ZipIndex.Entry pkl = null;
    for (ZipIndex.Entry e : zip.entries.values()) {
      String n = e.name();
      if (n.endsWith("/constants.pkl") || n.contains("/code/")) {
        throw new FormatException(f, n, "this is a TorchScript archive (a module, not a state dict); export its state_dict instead");
      }
      if (n.endsWith("data.pkl") && (n.equals("data.pkl") || n.endsWith("/data.pkl")) && n.indexOf('/') == n.lastIndexOf('/')) {
        if (pkl != null) {
          throw new FormatException(f, n, "more than one data.pkl in the archive");
        }
        pkl = e;
      }
    }
    if (pkl == null) {
      throw new FormatException(f, "data.pkl", "no <prefix>/data.pkl entry: not a torch.save checkpoint");
    }
    String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
    ZipIndex.Entry order = zip.entries.get(prefix + "byteorder");
    if (order != null && order.method() == 0 && order.size() < 16) {
      byte[] bo = new byte[(int) order.size()];
      MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, order.dataOffset(), bo, 0, bo.length);
      if (!new String(bo, java.nio.charset.StandardCharsets.US_ASCII).trim().equals("little")) {
        throw new FormatException(f, prefix + "byteorder", "big-endian checkpoints are not supported; re-save on a little-endian machine");
      }
    }
    byte[] pickle = entryBytes(seg, f, pkl);
    Object root = new Unpickler(pickle, f).load();
    if (!(root instanceof Map<?, ?> top)) {
      throw new FormatException(f, "data.pkl", "top-level object is a " + Unpickler.describe(root) + ", expected a dict of tensors");
    }

    LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    Map<String, Object> metadata = new LinkedHashMap<>();
    flatten(file, zip, prefix, "", top, entries, metadata, 0);
    return new TorchBinSource(file, entries, metadata);
  }

  private static byte[] entryBytes(MemorySegment seg, String f, ZipIndex.Entry e) {
    if (e.size() > MAX_PICKLE) {
      throw new FormatException(f, e.name(), "entry of " + e.size() + " bytes is larger than " + MAX_PICKLE);
    }
    byte[] raw = new byte[(int) e.compressedSize()];
    if (e.method() == 0) {
      MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, e.dataOffset(), raw, 0, raw.length);
      return raw;
    }
    if (e.method() != 8 || e.compressedSize() > MAX_PICKLE) {
      throw new FormatException(f, e.name(), "compression method " + e.method() + " is not supported (stored and deflated are)");
    }
    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, e.dataOffset(), raw, 0, raw.length);
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(raw);
      byte[] out = new byte[(int) e.size()];
      int n = 0;
      while (n < out.length && !inf.finished()) {
        int k = inf.inflate(out, n, out.length - n);
        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
          break;
        }
        n += k;
      }
      if (n != out.length) {
        throw new FormatException(f, e.name(), "deflated entry inflates to " + n + " bytes, the directory says " + e.size());
      }
      return out;
    } catch (DataFormatException ex) {
      throw new FormatException(f, e.name(), "bad deflate data: " + ex.getMessage(), ex);
    } finally {
      inf.end();
    }
  }

  private static void flatten(
      MappedFile file, ZipIndex zip, String prefix, String path, Map<?, ?> m, LinkedHashMap<String, Entry> entries, Map<String, Object> metadata, int depth) {
    if (depth > MAX_NESTING) {
      throw new FormatException(file.name, "data.pkl", "dicts nested deeper than " + MAX_NESTING + " (or a cycle) at '" + path + "'");
    }
    for (Map.Entry<?, ?> kv : m.entrySet()) {
      String key = path + (kv.getKey() instanceof String k ? k : Unpickler.show(kv.getKey()));
      Object v = kv.getValue();
      if (v instanceof Unpickler.TensorRef t) {
        if (entries.containsKey(key)) {
          throw new FormatException(file.name, "tensor '" + key + "'", "appears twice after flattening nested dicts");
        }
        entries.put(key, tensorEntry(file, zip, prefix, key, t));
      } else if (v instanceof Map<?, ?> sub) {
        flatten(file, zip, prefix, key + ".", sub, entries, metadata, depth + 1);
      } else {
        metadata.put(key, v == null || v instanceof String || v instanceof Number || v instanceof Boolean ? v : Unpickler.show(v));
      }
    }
  }

  private static Entry tensorEntry(MappedFile file, ZipIndex zip, String prefix, String name, Unpickler.TensorRef t) {
    String f = file.name;
    String field = "tensor '" + name + "'";
    StorageType st = StorageType.valueOf(t.storage().type());
    if (t.size().length != t.stride().length) {
      throw new FormatException(f, field, "size and stride differ in rank");
    }
    long numel = checkedNumel(t.size(), f, field);
    long lo = t.offset();
    long hi = t.offset();
    for (int d = 0; d < t.size().length; d++) {
      if (t.stride()[d] < 0 || t.stride()[d] > dev.fovea.tensor.Shapes.MAX_NUMEL) {
        throw new FormatException(f, field, "stride " + t.stride()[d] + " is negative or above 2^40");
      }
      try {
        hi = Math.addExact(hi, Math.multiplyExact(Math.max(0, t.size()[d] - 1), t.stride()[d]));
      } catch (ArithmeticException overflow) {
        throw new FormatException(f, field, "strides " + java.util.Arrays.toString(t.stride()) + " address beyond 2^63 elements");
      }
    }
    long storageNumel = t.storage().numel();
    if (lo < 0 || (numel > 0 && hi >= storageNumel)) {
      throw new FormatException(
          f, field, "view at offset " + t.offset() + " with size " + java.util.Arrays.toString(t.size()) + " and stride "
              + java.util.Arrays.toString(t.stride()) + " runs outside its storage of " + storageNumel + " elements");
    }
    String entryName = prefix + "data/" + t.storage().key();
    ZipIndex.Entry e = zip.entries.get(entryName);
    if (e == null) {
      throw new FormatException(f, field, "storage entry " + entryName + " is missing");
    }
    if (e.method() != 0) {
      throw new FormatException(f, field, "storage entry " + entryName + " is compressed; torch.save stores storages uncompressed");
    }
    if (storageNumel > e.size() / st.bytes) {
      throw new FormatException(f, field, "storage " + entryName + " of " + e.size() + " bytes cannot hold " + storageNumel + " " + st);
    }
    int[] shape = toIntShape(t.size());
    TensorInfo info = new TensorInfo(name, st.exposed, shape);
    return new Entry(info, () -> {
      MemorySegment bytes = file.segment.asSlice(e.dataOffset(), storageNumel * st.bytes);
      MemorySegment data = st.mapped() ? bytes : widen(file, st, bytes, storageNumel);
      return new Tensor(Storage.wrap(data, st.exposed, storageNumel), shape, t.stride(), t.offset());
    });
  }

  private static MemorySegment widen(MappedFile file, StorageType st, MemorySegment src, long numel) {
    SafetensorsSource.FileDType ft =
        switch (st) {
          case DoubleStorage -> SafetensorsSource.FileDType.F64;
          case ShortStorage -> SafetensorsSource.FileDType.I16;
          case CharStorage -> SafetensorsSource.FileDType.I8;
          case ByteStorage -> SafetensorsSource.FileDType.U8;
          case BoolStorage -> SafetensorsSource.FileDType.BOOL;
          default -> throw new IllegalStateException(st + " is mapped");
        };
    return SafetensorsSource.widen(file, ft, src, numel);
  }

  static List<String> storageTypes() {
    List<String> l = new ArrayList<>();
    for (StorageType s : StorageType.values()) {
      l.add(s.name());
    }
    return l;
  }
}
