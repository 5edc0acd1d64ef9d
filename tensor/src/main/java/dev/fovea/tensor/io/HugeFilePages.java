package dev.fovea.tensor.io;

import dev.fovea.tensor.Libc;
import dev.fovea.tensor.NativeMemory;
import java.io.BufferedReader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Mapped weight files on 2 MiB pages.
 *
 * <p>Why: weights mapped from a file with 4 KiB page-table entries read 10-25% slower than the
 * same bytes in the process's own huge-page memory on this project's machines (a VM, where every
 * TLB miss walks two levels of page tables), and decode reads every weight once a step. Linux
 * (6.x, with file systems that keep large folios in the page cache: ext4 since 6.16, XFS) maps a
 * file with one 2 MiB entry per chunk when the page cache holds that chunk as one 2 MiB folio and
 * the mapping is 2 MiB-aligned (the kernel aligns whole-file mappings of such files). Reads through
 * a mapping advised {@code MADV_HUGEPAGE} fill the cache with 2 MiB folios. But a file that is
 * already cached keeps the folios it has, and a file that was just written (downloaded, converted)
 * is cached in small ones: measured here, a 605 MB GGUF written by {@code cat} mapped 0 bytes on
 * huge pages, advised or not; dropped from the cache and read again through the advised mapping,
 * 604 MB (and touching its 2.1 GB F16 sibling took 0.07 s instead of 2.1 s: one fault per 2 MiB).
 *
 * <p>So {@link #prefer} advises each new mapping {@code MADV_HUGEPAGE}, then touches a few 2 MiB
 * chunks spread over the file and counts how many came out huge ({@code FilePmdMapped} in {@code
 * /proc/self/smaps}). When most did not, it checks on one chunk that dropping it from the page
 * cache ({@code posix_fadvise(POSIX_FADV_DONTNEED)}, which leaves dirty pages and pages other
 * processes map alone) and reading it again gives a huge page, and only then drops the whole file's
 * clean cached pages, so the model's first reads bring it back in 2 MiB folios: one read of the
 * file from disk, once; later runs find it huge. Where the system cannot give the file huge pages
 * (no large-folio support, THP off, an unaligned mapping) nothing is dropped past that one test chunk.
 * {@code -Dfovea.recache=false} keeps the cache as it is (the advice only); {@code
 * -Dfovea.hugepages=false} turns all of this off with the rest of the huge-page use ({@link
 * NativeMemory}). Everything here is an optimisation: any failure leaves the ordinary mapping.
 */
public final class HugeFilePages {
  private static final long HUGE = NativeMemory.HUGE_PAGE;
  private static final long PAGE = 4096;
  /** Files below this are not worth a probe (and most test fixtures are). */
  static final long MIN_BYTES = 8L << 20;
  /** Chunks touched to judge a file. */
  private static final int PROBES = 8;
  private static final int MADV_DONTNEED = 4;
  private static final int MADV_HUGEPAGE = 14;
  private static final int POSIX_FADV_DONTNEED = 4;
  private static final int O_RDONLY = 0;

  /** {@code -Dfovea.recache=false}: never drop a file's cached pages (advise only). */
  private static final boolean RECACHE = !"false".equalsIgnoreCase(System.getProperty("fovea.recache"));

  private static final MethodHandle OPEN;
  private static final MethodHandle FADVISE;
  private static final MethodHandle CLOSE;

  static {
    MethodHandle open = null, fadvise = null, close = null;
    if (NativeMemory.available() && Libc.hasMadvise()) {
      // int open(const char *path, int flags, ...): variadic, called with its mode argument
      open = Libc.find("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
          Linker.Option.firstVariadicArg(2));
      fadvise = Libc.find("posix_fadvise",
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
      close = Libc.find("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
      if (open == null || fadvise == null || close == null) {
        open = fadvise = close = null;
      }
    }
    OPEN = open;
    FADVISE = fadvise;
    CLOSE = close;
  }

  private HugeFilePages() {}

  /** What {@link #prefer} did with a mapping. */
  public enum Outcome {
    /** Not tried: huge pages unavailable or turned off, a small file, an unaligned mapping, or no {@code /proc/self/smaps}. */
    SKIPPED,
    /** Advised; the probed chunks were (mostly) huge already, or not cached and read in huge. */
    HUGE,
    /** Advised; the cached small pages were dropped so that the next reads bring huge ones. */
    DROPPED,
    /** Advised; the test chunk did not come back huge, so the cache was left as it was. */
    UNSUPPORTED,
    /** Advised; cached in small pages and left so, as {@code -Dfovea.recache=false} asks. */
    KEPT
  }

  /** Advises {@code mapping} (the whole of the file at {@code path}, just mapped) for huge pages, as the class comment says. */
  static Outcome prefer(Path path, MemorySegment mapping) {
    long start = mapping.address();
    long size = mapping.byteSize();
    if (OPEN == null || size < MIN_BYTES || start % HUGE != 0) {
      return Outcome.SKIPPED;
    }
    long advised = (size + PAGE - 1) & -PAGE; // whole pages, as madvise takes them
    try {
      if (Libc.madvise(start, advised, MADV_HUGEPAGE) != 0) {
        return Outcome.SKIPPED;
      }
      long chunks = size / HUGE; // whole 2 MiB chunks: only those can be mapped huge
      int probes = (int) Math.min(PROBES, chunks);
      long[] at = new long[probes];
      for (int i = 0; i < probes; i++) {
        at[i] = (chunks - 1) * i / Math.max(1, probes - 1) * HUGE;
        touch(mapping, at[i]);
      }
      long huge = pmdMappedBytes(start, size);
      if (huge < 0) {
        return Outcome.SKIPPED; // no smaps to judge by: leave the cache alone
      }
      if (huge >= (long) probes * HUGE / 2) {
        return Outcome.HUGE;
      }
      if (!RECACHE) {
        return Outcome.KEPT;
      }
      // One chunk first: unmapped here, dropped from the cache, read again.
      long test = at[0];
      long span = Math.min(2 * HUGE, chunks * HUGE - test); // readahead brings two chunks
      if (Libc.madvise(start + test, span, MADV_DONTNEED) != 0) {
        return Outcome.UNSUPPORTED;
      }
      long before = pmdMappedBytes(start, size);
      if (!dropCached(path, test, span)) {
        return Outcome.UNSUPPORTED;
      }
      touch(mapping, test);
      long after = pmdMappedBytes(start, size);
      if (before < 0 || after - before < HUGE) {
        return Outcome.UNSUPPORTED;
      }
      Libc.madvise(start, advised, MADV_DONTNEED); // our entries, so the pages can be dropped
      return dropCached(path, 0, 0) ? Outcome.DROPPED : Outcome.UNSUPPORTED;
    } catch (Throwable t) {
      return Outcome.SKIPPED; // an optimisation only: the mapping works as it is
    }
  }

  private static volatile byte sink;

  private static void touch(MemorySegment mapping, long offset) {
    sink = mapping.get(ValueLayout.JAVA_BYTE, offset);
  }

  /** Drops the clean, unmapped cached pages of {@code [offset, offset + len)} of the file ({@code len} 0: to its end). */
  private static boolean dropCached(Path path, long offset, long len) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      int fd = (int) OPEN.invokeExact(a.allocateFrom(path.toAbsolutePath().toString(), StandardCharsets.UTF_8), O_RDONLY, 0);
      if (fd < 0) {
        return false;
      }
      try {
        return (int) FADVISE.invokeExact(fd, offset, len, POSIX_FADV_DONTNEED) == 0;
      } finally {
        int ignored = (int) CLOSE.invokeExact(fd);
      }
    }
  }

  /**
   * Bytes of {@code [start, start + size)} that this process maps with 2 MiB entries, from {@code
   * FilePmdMapped} in {@code /proc/self/smaps} (~6 ms a read in a JVM holding a 4.4 GB model); -1
   * where that cannot be read.
   */
  static long pmdMappedBytes(long start, long size) {
    long end = start + size;
    long kb = 0;
    boolean in = false;
    try (BufferedReader r = Files.newBufferedReader(Path.of("/proc/self/smaps"), StandardCharsets.ISO_8859_1)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        if (dash > 0 && space > dash && isHex(line, 0, dash) && isHex(line, dash + 1, space)) {
          long vs = Long.parseUnsignedLong(line, 0, dash, 16);
          long ve = Long.parseUnsignedLong(line, dash + 1, space, 16);
          in = vs < end && ve > start;
        } else if (in && line.startsWith("FilePmdMapped:")) {
          kb += Long.parseLong(line.substring("FilePmdMapped:".length()).replace("kB", "").strip());
        }
      }
      return kb * 1024;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static boolean isHex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return to > from;
  }
}
