package dev.fovea.tensor.io;

import dev.fovea.tensor.TensorException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole file mapped read-only into a shared arena. The arena lives as long as the weight source
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
      MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      return new MappedFile(path, arena, seg);
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

  /** A fresh zeroed segment that lives as long as the file (for converted copies). */
  MemorySegment allocate(long bytes) {
    return arena.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
  }

  @Override
  public void close() {
    arena.close();
  }
}
