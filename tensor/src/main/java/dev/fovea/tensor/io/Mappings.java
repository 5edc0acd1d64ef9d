package dev.fovea.tensor.io;

import dev.fovea.tensor.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Read-only file mappings as plain native segments.
 *
 * <p>{@link FileChannel#map} returns a {@code MappedMemorySegmentImpl}, a subclass of the native
 * segment class that every {@code Arena} allocation has. A kernel that sees both (mapped weights,
 * arena activations) has bimorphic type profiles at each segment call the Vector API makes
 * ({@code byteSize}, {@code unsafeGetBase}, {@code sessionImpl}, alignment checks); C2 then ran out of
 * inlining budget in the large kernels and left loads as calls: a JFR profile of a file-loaded
 * model showed {@code isAlignedForElement}, {@code checkIndex}, {@code ldLongOp} and boxed
 * {@code VectorSupport.ternaryOp} frames, and F32 prefill at ~0.6x, Q8_0 decode at 0.01-0.6x the
 * arena model's speed. The same memory seen through {@link MemorySegment#ofAddress} and {@code
 * reinterpret} is an ordinary native segment (same class as an arena's), scoped to the arena that
 * owns the mapping and read-only, so every kernel sees one segment class.
 */
public final class Mappings {
  /** Live mappings made here: start address to end address and huge-page outcome (removed when their arena closes). */
  private static final java.util.concurrent.ConcurrentSkipListMap<Long, Live> LIVE = new java.util.concurrent.ConcurrentSkipListMap<>();

  /** A live mapping: its end address and what {@link HugeFilePages#prefer} did with it. */
  private record Live(long end, HugeFilePages.Outcome huge) {}

  private static final int MADV_DONTNEED = 4;
  private static final long PAGE = 4096;

  private Mappings() {}

  /**
   * The whole of {@code ch} (the file at {@code path}) mapped read-only into {@code arena}, as a plain
   * native read-only segment, on huge pages where the system allows (see {@link HugeFilePages}).
   */
  public static MemorySegment mapReadOnly(Path path, FileChannel ch, Arena arena) throws IOException {
    MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
    if (mapped.byteSize() == 0) {
      return MemorySegment.ofAddress(mapped.address()).reinterpret(0, arena, null).asReadOnly(); // nothing to track
    }
    long start = mapped.address();
    long end = start + mapped.byteSize();
    MemorySegment seg = MemorySegment.ofAddress(start).reinterpret(mapped.byteSize(), arena, s -> LIVE.remove(start)).asReadOnly();
    LIVE.put(start, new Live(end, HugeFilePages.prefer(path, seg)));
    return seg;
  }

  /** What was done to put the live file mapping holding {@code seg} on huge pages ({@link HugeFilePages}); null if {@code seg} is not in one. */
  public static HugeFilePages.Outcome hugePages(MemorySegment seg) {
    var e = LIVE.floorEntry(seg.address());
    return e != null && seg.address() + seg.byteSize() <= e.getValue().end() ? e.getValue().huge() : null;
  }

  /**
   * Bytes of the whole live file mapping holding {@code seg} that this process maps with 2 MiB page
   * entries now ({@link HugeFilePages#pmdMappedBytes}); -1 if {@code seg} is in none or that cannot be read.
   */
  public static long hugeMappedBytes(MemorySegment seg) {
    var e = LIVE.floorEntry(seg.address());
    if (e == null || seg.address() + seg.byteSize() > e.getValue().end()) {
      return -1;
    }
    return HugeFilePages.pmdMappedBytes(e.getKey(), e.getValue().end() - e.getKey());
  }

  /** Whether {@code seg} lies inside a live read-only file mapping made by {@link #mapReadOnly}. */
  public static boolean isFileMapped(MemorySegment seg) {
    var e = LIVE.floorEntry(seg.address());
    return e != null && seg.address() + seg.byteSize() <= e.getValue().end();
  }

  /**
   * Drops this process's page-table entries for the whole pages inside {@code seg}, a range of a
   * live read-only file mapping made by {@link #mapReadOnly} whose bytes were copied elsewhere ({@code madvise(MADV_DONTNEED)}): the
   * pages leave the process's resident set (they stay in the page cache, and a later read of the
   * range faults them back in). Does nothing where {@code madvise} cannot be called, or for memory that is not such a mapping
   * (dropping anonymous pages would zero them).
   */
  static void dropPages(MemorySegment seg) {
    if (!Libc.hasMadvise() || seg.byteSize() < PAGE || !isFileMapped(seg)) {
      return;
    }
    long start = (seg.address() + PAGE - 1) & -PAGE;
    long end = (seg.address() + seg.byteSize()) & -PAGE;
    if (end <= start) {
      return;
    }
    try {
      int ignored = Libc.madvise(start, end - start, MADV_DONTNEED);
    } catch (Throwable e) {
      // best effort: the copy is already made
    }
  }
}
