package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fovea.tensor.NativeMemory;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weight files mapped on huge pages ({@link HugeFilePages}): the bytes read through the mapping are
 * the bytes written, whether the file's cached pages were dropped or not, and where the system
 * supports it (Linux with THP and a file system keeping large folios) a file just written in small
 * pieces ends up mapped with 2 MiB entries.
 */
class HugeFilePagesTest {
  @TempDir
  Path dir;

  /** The long at byte offset {@code o}: a fixed mix of the offset, so every chunk differs. */
  private static long expected(long o) {
    long z = o * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    return z ^ (z >>> 27);
  }

  /** A file of {@code bytes} (a multiple of 8) written 64 KiB at a time, as a download or a converter writes. */
  private Path write(String name, long bytes, boolean sync) throws IOException {
    Path p = dir.resolve(name);
    ByteBuffer buf = ByteBuffer.allocate(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long o = 0; o < bytes; ) {
        buf.clear();
        while (buf.hasRemaining() && o < bytes) {
          buf.putLong(expected(o));
          o += 8;
        }
        buf.flip();
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }
      if (sync) {
        ch.force(true);
      }
    }
    return p;
  }

  private static void assertBytes(MemorySegment seg, long bytes) {
    assertEquals(bytes, seg.byteSize());
    for (long o = 0; o < bytes; o += 8) {
      long v = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), o);
      if (v != expected(o)) {
        assertEquals(expected(o), v, "byte offset " + o);
      }
    }
  }

  @Test
  void writtenFileEndsUpOnHugePagesWithItsBytes() throws IOException {
    assumeTrue(NativeMemory.available(), "huge pages need Linux (x86-64/AArch64) with transparent_hugepage not 'never' and native access");
    long bytes = (20L << 20) + 4096 + 8; // ten whole 2 MiB chunks and a tail
    Path p = write("w.bin", bytes, true);
    try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      MemorySegment seg = Mappings.mapReadOnly(p, ch, arena);
      HugeFilePages.Outcome outcome = Mappings.hugePages(seg);
      assumeTrue(outcome == HugeFilePages.Outcome.HUGE || outcome == HugeFilePages.Outcome.DROPPED,
          "this system does not map " + dir + " on huge pages (" + outcome + "): needs a file system with large folios (ext4 on Linux 6.16+, XFS)");
      assertBytes(seg, bytes);
      long huge = Mappings.hugeMappedBytes(seg);
      assertTrue(huge >= 8 * NativeMemory.HUGE_PAGE, "after reading the file through its mapping (" + outcome + "), " + huge
          + " bytes are mapped with 2 MiB entries; expected at least 8 of its 10 whole chunks");
    }
    // mapped again (a second run): the cache now holds huge folios, nothing to drop
    try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      MemorySegment seg = Mappings.mapReadOnly(p, ch, arena);
      assertEquals(HugeFilePages.Outcome.HUGE, Mappings.hugePages(seg));
      assertBytes(seg, bytes);
    }
  }

  @Test
  void unsyncedFileKeepsItsBytes() throws IOException {
    // dirty pages are never dropped (posix_fadvise leaves them): whatever the outcome, the bytes are the written ones
    long bytes = (12L << 20) + 8;
    Path p = write("dirty.bin", bytes, false);
    try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      MemorySegment seg = Mappings.mapReadOnly(p, ch, arena);
      assertBytes(seg, bytes);
    }
  }

  @Test
  void smallFilesAreLeftAlone() throws IOException {
    long bytes = HugeFilePages.MIN_BYTES - 8;
    Path p = write("small.bin", bytes, true);
    try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      MemorySegment seg = Mappings.mapReadOnly(p, ch, arena);
      assertEquals(HugeFilePages.Outcome.SKIPPED, Mappings.hugePages(seg));
      assertEquals(HugeFilePages.Outcome.SKIPPED, Mappings.hugePages(seg.asSlice(100, 1000)), "a slice is inside its mapping");
      assertBytes(seg, bytes);
    }
  }
}
