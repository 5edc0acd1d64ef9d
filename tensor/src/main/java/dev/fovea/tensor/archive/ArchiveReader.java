package dev.fovea.tensor.archive;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.fb.Archive;
import dev.fovea.tensor.archive.fb.BlockType;
import dev.fovea.tensor.archive.fb.KeyValue;
import dev.fovea.tensor.archive.fb.NamedBlob;
import dev.fovea.tensor.archive.fb.TensorEntry;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a fovea archive (see {@code fovea_archive.fbs} and {@link ArchiveFormat}) as a {@link
 * WeightSource}. The whole file is memory-mapped read-only; {@link #get} returns a tensor viewing
 * the mapped bytes (zero copy, nothing read until used). The header is verified completely at
 * {@link #open}: structure first ({@link HeaderVerifier}), then every tensor's dtype, shape,
 * offset and length against the data section, so a hostile or truncated file fails there with an
 * {@link ArchiveException} naming the file and the field, never later inside a kernel.
 *
 * <p>Tensors stay valid until {@link #close()}; using one afterwards fails with {@link
 * IllegalStateException} from the FFM runtime.
 */
public final class ArchiveReader implements WeightSource {
  /** One tensor of the archive: where its bytes are ({@code offset} from the data section) and what they hold. */
  public record Entry(String name, DType dtype, int[] shape, long offset, long length, String sourceDtype) {
    public long numel() {
      return Shapes.numel(shape);
    }
  }

  private final Path path;
  private final String file;
  private final Arena arena;
  private final MemorySegment mapped;
  private final long dataStart;
  private final int version;
  private final Map<String, Entry> entries;
  private final Map<String, long[]> files; // name -> {absolute file position, length}
  private final Map<String, Object> metadata;

  private ArchiveReader(Path path, Arena arena, MemorySegment mapped) {
    this.path = path;
    this.file = path.toString();
    this.arena = arena;
    this.mapped = mapped;
    long size = mapped.byteSize();
    if (size < ArchiveFormat.PREAMBLE) {
      throw new ArchiveException(file, "is " + size + " bytes, shorter than the " + ArchiveFormat.PREAMBLE + "-byte preamble (not a fovea archive, or truncated)");
    }
    byte[] head = new byte[ArchiveFormat.PREAMBLE];
    MemorySegment.copy(mapped, ValueLayout.JAVA_BYTE, 0, head, 0, head.length);
    if (!ArchiveFormat.hasMagic(head)) {
      throw new ArchiveException(file, "not a fovea archive: magic is " + hex(head, 6) + ", expected " + hex(ArchiveFormat.MAGIC, 6) + " (\"FOVEA\\0\")");
    }
    ByteBuffer pre = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
    this.version = pre.getShort(6) & 0xFFFF;
    if (version != ArchiveFormat.VERSION) {
      throw new ArchiveException(file, "format version " + version + "; this build reads version " + ArchiveFormat.VERSION + " (re-convert the model with this build's `fovea convert`)");
    }
    long headerLength = pre.getLong(8);
    if (headerLength < 8 || headerLength > size - ArchiveFormat.PREAMBLE || headerLength > ArchiveFormat.MAX_HEADER) {
      throw new ArchiveException(file, "header length " + Long.toUnsignedString(headerLength) + " does not fit the file (" + size + " bytes; truncated?)");
    }
    this.dataStart = ArchiveFormat.dataStart(headerLength);
    if (dataStart > size) {
      throw new ArchiveException(file, "data section would start at " + dataStart + ", past the end of the " + size + "-byte file (truncated?)");
    }
    ByteBuffer header = mapped.asSlice(ArchiveFormat.PREAMBLE, headerLength).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    HeaderVerifier.verify(header, file);
    Archive root;
    Map<String, Entry> es = new LinkedHashMap<>();
    Map<String, long[]> fs = new LinkedHashMap<>();
    Map<String, Object> md = new LinkedHashMap<>();
    try {
      root = Archive.getRootAsArchive(header);
      long declaredVersion = root.formatVersion();
      if (declaredVersion != version) {
        throw bad("format_version", "is " + declaredVersion + " but the preamble says " + version);
      }
      if (root.alignment() != ArchiveFormat.ALIGNMENT) {
        throw bad("alignment", "is " + root.alignment() + ", expected " + ArchiveFormat.ALIGNMENT);
      }
      long dataLength = root.dataLength();
      if (dataLength < 0 || dataLength != size - dataStart) {
        throw bad("data_length", "header says " + Long.toUnsignedString(dataLength) + " bytes of tensor data, the file holds " + (size - dataStart) + " after offset " + dataStart + " (truncated or padded?)");
      }
      TensorEntry te = new TensorEntry();
      for (int i = 0, n = root.tensorsLength(); i < n; i++) {
        Entry e = entry(root.tensors(te, i), i, dataLength);
        if (es.putIfAbsent(e.name(), e) != null) {
          throw bad("tensors[" + i + "]", "duplicate tensor name '" + e.name() + "'");
        }
      }
      checkOverlaps(es.values());
      NamedBlob nb = new NamedBlob();
      for (int i = 0, n = root.filesLength(); i < n; i++) {
        NamedBlob b = root.files(nb, i);
        String name = b.name();
        if (name.isEmpty() || fs.putIfAbsent(name, new long[] {ArchiveFormat.PREAMBLE + (long) b.dataStart(), b.dataLength()}) != null) {
          throw bad("files[" + i + "].name", name.isEmpty() ? "is empty" : "duplicate file name '" + name + "'");
        }
      }
      KeyValue kv = new KeyValue();
      for (int i = 0, n = root.metadataLength(); i < n; i++) {
        KeyValue m = root.metadata(kv, i);
        if (md.putIfAbsent(m.key(), m.value()) != null) {
          throw bad("metadata[" + i + "].key", "duplicate key '" + m.key() + "'");
        }
      }
    } catch (IndexOutOfBoundsException | BufferUnderflowException | IllegalArgumentException | ArithmeticException e) {
      // Defence in depth: the verifier should have caught this; still report it as a typed error.
      throw new ArchiveException(file, "malformed header (" + e + ")", e);
    }
    this.entries = Collections.unmodifiableMap(es);
    this.files = Collections.unmodifiableMap(fs);
    this.metadata = Collections.unmodifiableMap(md);
  }

  /** Maps and verifies the archive at {@code path}. */
  public static ArchiveReader open(Path path) {
    String file = path.toString();
    Arena arena = Arena.ofShared();
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      MemorySegment seg = dev.fovea.tensor.io.Mappings.mapReadOnly(path, ch, arena);
      return new ArchiveReader(path, arena, seg);
    } catch (NoSuchFileException e) {
      arena.close();
      throw new ArchiveException(file, "no such file", e);
    } catch (IOException e) {
      arena.close();
      throw new ArchiveException(file, "cannot read: " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      arena.close();
      throw e;
    }
  }

  private Entry entry(TensorEntry t, int i, long dataLength) {
    String name = t.name();
    String at = "tensor '" + name + "' (tensors[" + i + "])";
    if (name.isEmpty()) {
      throw bad("tensors[" + i + "].name", "is empty");
    }
    DType dtype = ArchiveFormat.dtype(t.dtype());
    if (dtype == null) {
      throw bad(at, "unknown dtype code " + t.dtype() + " (this build knows F32, F16, BF16, I32, I64, Q8_0, Q4_0)");
    }
    if (t.quantization() != ArchiveFormat.blockType(dtype)) {
      String q = t.quantization() < BlockType.names.length ? BlockType.name(t.quantization()) : "code " + t.quantization();
      throw bad(at, "quantization " + q + " disagrees with dtype " + dtype);
    }
    int rank = t.shapeLength();
    if (rank > ArchiveFormat.MAX_RANK) {
      throw bad(at, "rank " + rank + " exceeds " + ArchiveFormat.MAX_RANK);
    }
    int[] shape = new int[rank];
    long numel = 1;
    for (int d = 0; d < rank; d++) {
      long s = t.shape(d);
      if (s < 0 || s > Integer.MAX_VALUE) {
        throw bad(at, "size " + s + " of dimension " + d + " is negative or beyond 2^31-1");
      }
      shape[d] = (int) s;
      numel = s == 0 || numel == 0 ? 0 : (s > Shapes.MAX_NUMEL / numel ? Shapes.MAX_NUMEL + 1 : numel * s);
      if (numel > Shapes.MAX_NUMEL) {
        throw bad(at, "shape " + Arrays.toString(Arrays.copyOf(shape, d + 1)) + "... has more than 2^40 elements");
      }
    }
    if (dtype.isQuantized() && (rank == 0 || shape[rank - 1] % dtype.blockSize() != 0)) {
      throw bad(at, dtype + " needs a last dimension that is a multiple of " + dtype.blockSize() + ", shape is " + Arrays.toString(shape));
    }
    long expected = dtype.byteSize(numel);
    long offset = t.offset();
    long length = t.length();
    if (length != expected) {
      throw bad(at, "length " + Long.toUnsignedString(length) + " bytes disagrees with " + dtype + " " + Arrays.toString(shape) + " (" + expected + " bytes)");
    }
    if (offset < 0 || offset % ArchiveFormat.ALIGNMENT != 0) {
      throw bad(at, "offset " + Long.toUnsignedString(offset) + " is not a multiple of " + ArchiveFormat.ALIGNMENT);
    }
    if (offset > dataLength - length) {
      throw bad(at, "bytes [" + offset + ", " + (offset + length) + ") run past the " + dataLength + "-byte data section");
    }
    return new Entry(name, dtype, shape, offset, length, t.sourceDtype());
  }

  private void checkOverlaps(java.util.Collection<Entry> all) {
    List<Entry> sorted = new ArrayList<>(all);
    sorted.removeIf(e -> e.length() == 0);
    sorted.sort(Comparator.comparingLong(Entry::offset));
    for (int i = 1; i < sorted.size(); i++) {
      Entry a = sorted.get(i - 1);
      Entry b = sorted.get(i);
      if (b.offset() < a.offset() + a.length()) {
        throw bad("tensor '" + b.name() + "'", "bytes [" + b.offset() + ", " + (b.offset() + b.length()) + ") overlap tensor '" + a.name() + "' [" + a.offset() + ", " + (a.offset() + a.length()) + ")");
      }
    }
  }

  private ArchiveException bad(String what, String why) {
    return new ArchiveException(file, what + ": " + why);
  }

  private static String hex(byte[] b, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(String.format("%02x", b[i] & 0xFF));
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- WeightSource

  @Override
  public Set<String> names() {
    return entries.keySet();
  }

  @Override
  public TensorInfo info(String name) {
    Entry e = entries.get(name);
    return e == null ? null : new TensorInfo(name, e.dtype(), e.shape().clone());
  }

  @Override
  public Tensor get(String name) {
    Entry e = entries.get(name);
    if (e == null) {
      throw new TensorException("tensor '" + name + "' not found in " + file);
    }
    MemorySegment seg = mapped.asSlice(dataStart + e.offset(), e.length());
    long numel = e.numel();
    return new Tensor(Storage.wrap(seg, e.dtype(), numel), e.shape(), Shapes.contiguousStrides(e.shape()), 0);
  }

  @Override
  public Map<String, Object> metadata() {
    return metadata;
  }

  @Override
  public String origin() {
    return file;
  }

  @Override
  public void close() {
    arena.close();
  }

  // ---------------------------------------------------------------- archive specifics

  public Path path() {
    return path;
  }

  public int formatVersion() {
    return version;
  }

  /** File position of the data section (a multiple of 64). */
  public long dataStart() {
    return dataStart;
  }

  /** Tensor entries in header order. */
  public List<Entry> entries() {
    return List.copyOf(entries.values());
  }

  public Entry entry(String name) {
    return entries.get(name);
  }

  /** Names of the embedded files (config.json, tokenizer files, preprocessor config, ...). */
  public Set<String> fileNames() {
    return files.keySet();
  }

  /** Size in bytes of an embedded file, or -1 if absent. */
  public long fileSize(String name) {
    long[] f = files.get(name);
    return f == null ? -1 : f[1];
  }

  /** A copy of an embedded file's bytes, or null if the archive has no such file. */
  public byte[] file(String name) {
    long[] f = files.get(name);
    if (f == null) {
      return null;
    }
    return mapped.asSlice(f[0], f[1]).toArray(ValueLayout.JAVA_BYTE);
  }

  /** All embedded files (copies), in header order. */
  public Map<String, byte[]> files() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (String n : files.keySet()) {
      out.put(n, file(n));
    }
    return out;
  }
}
