package dev.fovea.tensor.archive;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.archive.fb.Archive;
import dev.fovea.tensor.archive.fb.KeyValue;
import dev.fovea.tensor.archive.fb.NamedBlob;
import dev.fovea.tensor.archive.fb.TensorEntry;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a fovea archive atomically, one tensor at a time.
 *
 * <pre>{@code
 * ArchiveWriter.to(Path.of("model.fovea"))
 *     .file("config.json", configBytes)
 *     .metadata("fovea.dtype", "q8_0")
 *     .tensor("fc1.weight", DType.Q8_0, new int[] {256, 64}, "F32", () -> Ops.to(src.get("fc1.weight"), DType.Q8_0))
 *     .write();
 * }</pre>
 *
 * Tensors are declared first (name, dtype, shape) so the header and every offset are known before
 * any data is produced; {@link #write()} then calls each producer in order inside its own {@link
 * Scope} and streams its bytes to disk, so at most one tensor is in memory at a time.
 *
 * <p>Atomicity: bytes go to {@code <name>.tmp-<pid>-<random>} in the target's directory, which is
 * fsynced, re-opened with {@link ArchiveReader} and checked against the plan, then renamed over
 * the target with {@code ATOMIC_MOVE}. On any failure (a producer throwing, an I/O error, thread
 * interruption, JVM shutdown) the temporary file is deleted: the target name only ever holds the
 * previous file or a complete, verified new one. A run killed outright (SIGKILL) runs no cleanup:
 * the next write to the same target deletes such leftovers once their pid is gone
 * ({@link #removeStaleTemporaries}). Errors name the target, not the temporary file.
 */
public final class ArchiveWriter {
  /** Produces a tensor's contents (of the declared dtype and shape) when it is its turn to be written. */
  @FunctionalInterface
  public interface TensorData {
    Tensor produce() throws Exception;
  }

  /** Called after each tensor is on disk. */
  @FunctionalInterface
  public interface Listener {
    void written(int index, int count, ArchiveReader.Entry entry);
  }

  /** What was written: the final path, file size and the entries as verified. */
  public record Result(Path path, long fileBytes, long dataBytes, List<ArchiveReader.Entry> entries) {}

  private record Planned(String name, DType dtype, int[] shape, String sourceDtype, TensorData data) {}

  private final Path target;
  private final List<Planned> tensors = new ArrayList<>();
  private final Map<String, byte[]> files = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private Listener listener = (i, n, e) -> {};

  private ArchiveWriter(Path target) {
    this.target = target.toAbsolutePath();
  }

  public static ArchiveWriter to(Path target) {
    return new ArchiveWriter(target);
  }

  /** Declares a tensor; {@code data} runs during {@link #write()} and must return exactly this dtype and shape. */
  public ArchiveWriter tensor(String name, DType dtype, int[] shape, String sourceDtype, TensorData data) {
    if (name == null || name.isEmpty()) {
      throw new TensorException("archive " + target + ": tensor name must not be empty");
    }
    if (tensors.stream().anyMatch(p -> p.name().equals(name))) {
      throw new TensorException("archive " + target + ": tensor '" + name + "' declared twice");
    }
    long numel = Shapes.numel(shape);
    if (dtype.isQuantized() && (shape.length == 0 || shape[shape.length - 1] % dtype.blockSize() != 0)) {
      throw new TensorException("archive " + target + ": tensor '" + name + "': " + dtype + " needs a last dimension that is a multiple of " + dtype.blockSize() + ", shape is " + Arrays.toString(shape));
    }
    dtype.byteSize(numel);
    tensors.add(new Planned(name, dtype, shape.clone(), sourceDtype, data));
    return this;
  }

  /** Declares a tensor whose contents are {@code t} (converted to its own dtype, i.e. copied as is). */
  public ArchiveWriter tensor(String name, Tensor t) {
    return tensor(name, t.dtype(), t.shape(), t.dtype().name(), () -> t);
  }

  /** Embeds a named file (config.json, tokenizer.json, ...). */
  public ArchiveWriter file(String name, byte[] data) {
    if (name == null || name.isEmpty()) {
      throw new TensorException("archive " + target + ": embedded file name must not be empty");
    }
    files.put(name, data.clone());
    return this;
  }

  public ArchiveWriter metadata(String key, String value) {
    if (key == null || key.isEmpty() || value == null) {
      throw new TensorException("archive " + target + ": metadata key must be non-empty and value non-null");
    }
    metadata.put(key, value);
    return this;
  }

  public ArchiveWriter listener(Listener l) {
    this.listener = l;
    return this;
  }

  /** Writes, verifies and atomically renames the archive into place. */
  public Result write() throws IOException {
    Path dir = target.getParent();
    Files.createDirectories(dir);
    // Layout: every tensor at the next multiple of 64 in the data section.
    long[] offsets = new long[tensors.size()];
    long[] lengths = new long[tensors.size()];
    long cursor = 0;
    for (int i = 0; i < tensors.size(); i++) {
      Planned p = tensors.get(i);
      offsets[i] = cursor;
      lengths[i] = p.dtype().byteSize(Shapes.numel(p.shape()));
      cursor = ArchiveFormat.align(cursor + lengths[i]);
    }
    long dataLength = tensors.isEmpty() ? 0 : offsets[offsets.length - 1] + lengths[lengths.length - 1];
    ByteBuffer header = header(offsets, lengths, dataLength);
    long headerLength = header.remaining();
    long dataStart = ArchiveFormat.dataStart(headerLength);

    removeStaleTemporaries(dir, target.getFileName().toString());
    Path tmp = createTemporary(dir, target);
    try {
      return write(tmp, dir, offsets, lengths, dataLength, header, headerLength, dataStart);
    } catch (IOException e) {
      throw namingTarget(e, tmp);
    } catch (RuntimeException e) {
      throw namingTarget(e, tmp);
    }
  }

  private Result write(Path tmp, Path dir, long[] offsets, long[] lengths, long dataLength, ByteBuffer header, long headerLength, long dataStart) throws IOException {
    Thread cleanup = new Thread(() -> deleteQuietly(tmp), "fovea-archive-cleanup");
    boolean hooked = addShutdownHook(cleanup);
    boolean done = false;
    try {
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
      } catch (UnsupportedOperationException | IOException ignored) {
        // Not a POSIX file system: keep the temp file's default permissions.
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer pre = ByteBuffer.allocate(ArchiveFormat.PREAMBLE).order(ByteOrder.LITTLE_ENDIAN);
        pre.put(ArchiveFormat.MAGIC).putShort((short) ArchiveFormat.VERSION).putLong(headerLength).flip();
        writeFully(ch, pre, 0);
        writeFully(ch, header, ArchiveFormat.PREAMBLE);
        zeros(ch, ArchiveFormat.PREAMBLE + headerLength, dataStart);
        for (int i = 0; i < tensors.size(); i++) {
          if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("interrupted while writing " + target);
          }
          Planned p = tensors.get(i);
          long pos = dataStart + offsets[i];
          writeTensor(ch, p, pos, lengths[i]);
          long end = i + 1 < tensors.size() ? dataStart + offsets[i + 1] : pos + lengths[i];
          zeros(ch, pos + lengths[i], end);
          listener.written(i, tensors.size(), new ArchiveReader.Entry(p.name(), p.dtype(), p.shape(), offsets[i], lengths[i], p.sourceDtype()));
        }
        ch.force(true);
      }
      List<ArchiveReader.Entry> entries = verify(tmp, offsets, lengths, dataStart + dataLength);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new ArchiveException(target.toString(), "the file system cannot rename atomically within " + dir, e);
      }
      syncDirectory(dir);
      done = true;
      return new Result(target, dataStart + dataLength, dataLength, entries);
    } finally {
      if (!done) {
        deleteQuietly(tmp);
      }
      if (hooked) {
        try {
          Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException ignored) {
          // Shutdown in progress: the hook deletes the temp file.
        }
      }
    }
  }

  /**
   * The temporary file {@code <name>.tmp-<pid>-<random>}, created here (never an existing file).
   * The pid lets a later run tell a leftover of a killed writer from one still being written.
   */
  private static Path createTemporary(Path dir, Path target) throws IOException {
    String prefix = target.getFileName() + TMP_INFIX + ProcessHandle.current().pid() + "-";
    for (int attempt = 0; ; attempt++) {
      Path tmp = dir.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36));
      try {
        return Files.createFile(tmp);
      } catch (FileAlreadyExistsException e) {
        if (attempt >= 100) {
          throw e;
        }
      } catch (IOException e) {
        throw namingTarget(e, tmp, target);
      }
    }
  }

  /**
   * Deletes {@code <name>.tmp-<pid>-<random>} files in {@code dir} (this writer's own temporary
   * names for this target, nothing else) whose writer process is gone: left by a run killed with
   * SIGKILL, which no shutdown hook sees. A process is gone when {@code /proc/<pid>} is absent;
   * without {@code /proc} nothing is deleted. A reused pid only keeps a leftover for a later run.
   */
  static List<Path> removeStaleTemporaries(Path dir, String name) {
    List<Path> removed = new ArrayList<>();
    Path proc = Path.of("/proc");
    if (!Files.isDirectory(proc.resolve("self"))) {
      return removed;
    }
    Pattern ours = Pattern.compile(Pattern.quote(name + TMP_INFIX) + "(\\d{1,10})-[0-9a-z]{1,13}");
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, name + TMP_INFIX + "*")) {
      for (Path p : ds) {
        Matcher m = ours.matcher(p.getFileName().toString());
        if (!m.matches() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        long pid = Long.parseLong(m.group(1));
        if (pid != self && !Files.exists(proc.resolve(m.group(1)))) {
          try {
            Files.deleteIfExists(p);
            removed.add(p);
          } catch (IOException ignored) {
            // Not ours to delete after all (permissions): leave it.
          }
        }
      }
    } catch (IOException ignored) {
      // An unreadable folder: the write itself will report it.
    }
    return removed;
  }

  /** {@code e}, naming the target instead of the temporary file (which the caller never asked for). */
  private IOException namingTarget(IOException e, Path tmp) {
    return namingTarget(e, tmp, target);
  }

  private static IOException namingTarget(IOException e, Path tmp, Path target) {
    if (e instanceof FileSystemException f && tmp.toString().equals(f.getFile())) {
      String reason = f.getReason() != null ? f.getReason()
          : e instanceof AccessDeniedException ? "permission denied (folder " + tmp.getParent() + ")"
          : e instanceof NoSuchFileException ? "no such folder " + tmp.getParent()
          : e.getClass().getSimpleName();
      FileSystemException named = new FileSystemException(target.toString(), f.getOtherFile(), "cannot write: " + reason);
      named.initCause(e);
      return named;
    }
    String msg = e.getMessage();
    if (msg != null && msg.contains(tmp.toString())) {
      return new IOException(msg.replace(tmp.toString(), target.toString()), e);
    }
    return e;
  }

  private RuntimeException namingTarget(RuntimeException e, Path tmp) {
    String msg = e.getMessage();
    if (msg == null || !msg.contains(tmp.toString())) {
      return e;
    }
    String rest = msg.startsWith(tmp + ": ") ? msg.substring(tmp.toString().length() + 2) : msg;
    return new ArchiveException(target.toString(), rest.replace(tmp.toString(), target.toString()), e);
  }

  private void writeTensor(FileChannel ch, Planned p, long pos, long length) throws IOException {
    try (Scope scope = Scope.open()) {
      Tensor t;
      try {
        t = p.data().produce();
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while producing tensor '" + p.name() + "' of " + target);
      } catch (Exception e) {
        throw new ArchiveException(target.toString(), "tensor '" + p.name() + "': " + e.getMessage(), e);
      }
      if (t.dtype() != p.dtype() || !Arrays.equals(t.shape(), p.shape())) {
        throw new ArchiveException(target.toString(), "tensor '" + p.name() + "': producer returned " + t.dtype() + " " + Arrays.toString(t.shape()) + ", declared " + p.dtype() + " " + Arrays.toString(p.shape()));
      }
      if (!t.isContiguous()) {
        t = t.contiguous();
      }
      MemorySegment seg = t.storage().segment().asSlice(t.dtype().byteOffset(t.offset()), length);
      for (long done = 0; done < length; ) {
        long n = Math.min(length - done, 1L << 30);
        writeFully(ch, seg.asSlice(done, n).asByteBuffer(), pos + done);
        done += n;
      }
    }
  }

  private ByteBuffer header(long[] offsets, long[] lengths, long dataLength) {
    FlatBufferBuilder b = new FlatBufferBuilder(1024).forceDefaults(true);
    int[] te = new int[tensors.size()];
    for (int i = 0; i < te.length; i++) {
      Planned p = tensors.get(i);
      int name = b.createString(p.name());
      long[] shape = Arrays.stream(p.shape()).asLongStream().toArray();
      int shapeV = TensorEntry.createShapeVector(b, shape);
      int src = p.sourceDtype() == null ? 0 : b.createString(p.sourceDtype());
      te[i] = TensorEntry.createTensorEntry(b, name, ArchiveFormat.elementType(p.dtype()), shapeV, offsets[i], lengths[i], ArchiveFormat.blockType(p.dtype()), src);
    }
    int[] fe = new int[files.size()];
    int k = 0;
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      int name = b.createString(f.getKey());
      int data = NamedBlob.createDataVector(b, f.getValue());
      fe[k++] = NamedBlob.createNamedBlob(b, name, data);
    }
    int[] me = new int[metadata.size()];
    k = 0;
    for (Map.Entry<String, String> m : metadata.entrySet()) {
      me[k++] = KeyValue.createKeyValue(b, b.createString(m.getKey()), b.createString(m.getValue()));
    }
    int tv = Archive.createOffsetVector(b, te);
    int fv = Archive.createOffsetVector(b, fe);
    int mv = Archive.createOffsetVector(b, me);
    Archive.startArchive(b);
    Archive.addFormatVersion(b, ArchiveFormat.VERSION);
    Archive.addTensors(b, tv);
    Archive.addFiles(b, fv);
    Archive.addMetadata(b, mv);
    Archive.addDataLength(b, dataLength);
    Archive.addAlignment(b, ArchiveFormat.ALIGNMENT);
    Archive.finishArchiveBuffer(b, Archive.endArchive(b));
    ByteBuffer out = b.dataBuffer();
    if (out.remaining() > ArchiveFormat.MAX_HEADER) {
      throw new ArchiveException(target.toString(), "header of " + out.remaining() + " bytes (embedded files included) exceeds 2 GiB");
    }
    return out;
  }

  /** Re-opens the written file and checks it holds exactly the planned tensors. */
  private List<ArchiveReader.Entry> verify(Path tmp, long[] offsets, long[] lengths, long fileBytes) throws IOException {
    try (ArchiveReader r = ArchiveReader.open(tmp)) {
      if (Files.size(tmp) != fileBytes) {
        throw new ArchiveException(tmp.toString(), "verification: file is " + Files.size(tmp) + " bytes, expected " + fileBytes);
      }
      List<ArchiveReader.Entry> got = r.entries();
      if (got.size() != tensors.size() || !r.fileNames().equals(files.keySet()) || r.metadata().size() != metadata.size()) {
        throw new ArchiveException(tmp.toString(), "verification: header lists " + got.size() + " tensors, " + r.fileNames().size() + " files, " + r.metadata().size() + " metadata entries; wrote " + tensors.size() + ", " + files.size() + ", " + metadata.size());
      }
      for (int i = 0; i < got.size(); i++) {
        ArchiveReader.Entry e = got.get(i);
        Planned p = tensors.get(i);
        if (!e.name().equals(p.name()) || e.dtype() != p.dtype() || !Arrays.equals(e.shape(), p.shape()) || e.offset() != offsets[i] || e.length() != lengths[i]) {
          throw new ArchiveException(tmp.toString(), "verification: tensors[" + i + "] reads back as '" + e.name() + "' " + e.dtype() + " " + Arrays.toString(e.shape()) + ", wrote '" + p.name() + "' " + p.dtype() + " " + Arrays.toString(p.shape()));
        }
      }
      return got;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      pos += ch.write(buf, pos);
    }
  }

  private static final ByteBuffer ZEROS = ByteBuffer.allocate(ArchiveFormat.ALIGNMENT);
  /** Temporary files are {@code <target name>} + this + {@code <pid>-<random>}. */
  static final String TMP_INFIX = ".tmp-";
  private static final SecureRandom RANDOM = new SecureRandom();

  private static void zeros(FileChannel ch, long from, long to) throws IOException {
    if (to > from) {
      writeFully(ch, ZEROS.duplicate().limit((int) (to - from)), from);
    }
  }

  private static boolean addShutdownHook(Thread t) {
    try {
      Runtime.getRuntime().addShutdownHook(t);
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // Best effort: the caller is already reporting the original failure.
    }
  }

  /** Makes the rename durable (POSIX); silently skipped where directories cannot be opened. */
  private static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // Not supported on this platform: the rename itself is still atomic.
    }
  }
}
