package dev.fovea.tensor.io;

import dev.fovea.tensor.TensorException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.Supplier;

/**
 * A whole file mapped read-only into a shared arena (as a plain native segment, see {@link
 * Mappings}). The arena lives as long as the weight source
 * that owns it; closing unmaps the file and frees every copy made from the same arena (converted
 * dtypes, dequantized or permuted tensors). Mapping reads nothing: pages are faulted in on use.
 */
final class MappedFile implements AutoCloseable {
  final Path path;
  final String name;
  final Arena arena;
  final MemorySegment segment;

  private MappedFile(Path path, Arena arena, MemorySegment segment) {
    this.path = path;
    this.name = path.toString();
    this.arena = arena;
    this.segment = segment;
  }

  static MappedFile open(Path path) {
    Arena arena = Arena.ofShared();
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      return new MappedFile(path, arena, Mappings.mapReadOnly(path, ch, arena));
    } catch (IOException | RuntimeException e) {
      arena.close();
      throw new TensorException("cannot map " + path + ": " + e, e);
    }
  }

  /**
   * Reads {@code len} bytes at {@code offset} with a plain read rather than through the mapping, so
   * that the kernel's mmap read-around (up to read_ahead_kb, often MBs) does not pull tensor data
   * in behind a header.
   */
  byte[] read(long offset, int len) {
    byte[] b = new byte[len];
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
      while (buf.hasRemaining()) {
        if (ch.read(buf, offset + buf.position()) < 0) {
          throw new FormatException(name, null, "file shrank while reading bytes [" + offset + ", " + (offset + len) + ")");
        }
      }
      return b;
    } catch (IOException e) {
      throw new TensorException("cannot read " + path + ": " + e, e);
    }
  }

  long size() {
    return segment.byteSize();
  }

  /** Arenas of the copies made by the load running on this thread (see {@link #collecting}). */
  private final ThreadLocal<List<Arena>> collector = new ThreadLocal<>();

  /**
   * A fresh zeroed segment for a converted copy. Inside {@link #collecting} it comes from its own
   * arena, handed to the caller so the copy can be freed on its own; otherwise it lives as long as
   * the file.
   */
  MemorySegment allocate(long bytes) {
    List<Arena> owned = collector.get();
    Arena a = arena;
    if (owned != null) {
      a = Arena.ofShared();
      owned.add(a);
    }
    return a.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
  }

  /** Runs {@code load}, adding to {@code owned} the arena of every copy it allocates. */
  <T> T collecting(List<Arena> owned, Supplier<T> load) {
    List<Arena> previous = collector.get();
    collector.set(owned);
    try {
      return load.get();
    } catch (RuntimeException e) {
      owned.forEach(Arena::close);
      owned.clear();
      throw e;
    } finally {
      if (previous == null) {
        collector.remove();
      } else {
        collector.set(previous);
      }
    }
  }

  @Override
  public void close() {
    arena.close();
  }
}
