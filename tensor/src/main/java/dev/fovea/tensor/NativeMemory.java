package dev.fovea.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Large native blocks on transparent huge pages, where Linux offers them.
 *
 * <p>Fresh memory is expensive to fault in on the virtual machines this project runs on: ~0.2-0.35
 * GB/s with 4 KiB pages (one fault each), which is what a one-shot run pays for its first
 * activations, a GGUF model's un-permuted q/k copies and {@code -Dfovea.weights=copy}. The same
 * memory mapped anonymously, 2 MiB-aligned and advised {@code MADV_HUGEPAGE}, faults 2 MiB at a
 * time: touching 1 GiB took 0.75-1.7 s instead of 3.4-5.2 s (2 cores, the machine loaded). Most
 * systems set transparent huge pages to {@code madvise} (this one does), so without the advice no
 * huge page is used.
 *
 * <p>{@link #map} returns blocks of at least {@link #MIN_BYTES}, zeroed by the kernel on first touch
 * and given back with {@link #unmap}; {@link #allocate} ties one to an arena. Everything here is an
 * optimisation: where it is unavailable (not Linux on x86-64 or AArch64, native access refused,
 * {@code transparent_hugepage} set to never, {@code -Dfovea.hugepages=false}) {@link #available()}
 * is false and callers use their usual memory. Segments made here are ordinary native segments (the
 * class an arena's are), so kernels see one segment class (see {@code io.Mappings}).
 */
public final class NativeMemory {
  /** The huge page size this targets (x86-64 and AArch64 with 4 KiB base pages). */
  public static final long HUGE_PAGE = 2L << 20;
  /** Smaller blocks gain little from a huge page and would round up to one; callers keep malloc for them. */
  public static final long MIN_BYTES = 4L << 20;

  private static final long PAGE = 4096;
  private static final int PROT_READ_WRITE = 0x1 | 0x2;
  private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20; // Linux x86-64 / AArch64 values
  private static final int MADV_HUGEPAGE = 14;

  private static final MethodHandle MMAP;
  private static final MethodHandle MUNMAP;

  static {
    MethodHandle mmap = null, munmap = null;
    if (supported()) {
      mmap = Libc.find("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
          ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
      munmap = Libc.find("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
      if (mmap == null || munmap == null || !Libc.hasMadvise()) {
        mmap = munmap = null;
      }
    }
    MMAP = mmap;
    MUNMAP = munmap;
  }

  private NativeMemory() {}

  /** Linux on x86-64 or AArch64, native access granted, huge pages not turned off by the system or the property. */
  private static boolean supported() {
    if (!NativeMemory.class.getModule().isNativeAccessEnabled() || "false".equalsIgnoreCase(System.getProperty("fovea.hugepages"))) {
      return false;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "");
    if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
      return false;
    }
    try {
      String thp = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
      return !thp.contains("[never]");
    } catch (IOException | RuntimeException e) {
      return false; // no THP support compiled in
    }
  }

  /** Whether {@link #map} and {@link #allocate} hand out huge-page blocks here. */
  public static boolean available() {
    return MMAP != null;
  }

  /** {@code bytes} rounded up to whole base pages: the length {@link #map} maps and {@link #unmap} takes. */
  public static long mappedLength(long bytes) {
    return (Math.max(bytes, 1) + PAGE - 1) & -PAGE;
  }

  /**
   * A block of {@code bytes} (at least {@link #MIN_BYTES}) starting on a 2 MiB boundary, advised for
   * huge pages; its address. Give it back with {@link #unmap}{@code (address, bytes)}.
   *
   * @throws IllegalStateException where {@link #available()} is false
   * @throws TensorException when the system has no memory for it
   */
  public static long map(long bytes) {
    if (!available()) {
      throw new IllegalStateException("huge-page blocks are not available here");
    }
    long len = mappedLength(bytes);
    long span = len + HUGE_PAGE; // room to move the start to a 2 MiB boundary
    long raw;
    try {
      raw = ((MemorySegment) MMAP.invokeExact(MemorySegment.NULL, span, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L)).address();
    } catch (Throwable t) {
      throw new TensorException("mmap of " + span + " bytes failed: " + t);
    }
    if (raw == -1L || raw == 0) {
      throw new TensorException("out of native memory: mmap of " + span + " bytes (" + (span >> 20) + " MiB) failed");
    }
    long start = (raw + HUGE_PAGE - 1) & -HUGE_PAGE;
    release(raw, start - raw);
    release(start + len, raw + span - (start + len));
    try {
      int ignored = Libc.madvise(start, len, MADV_HUGEPAGE); // advice only
    } catch (Throwable t) {
      // the block works without the advice
    }
    return start;
  }

  /** Gives back a block of {@link #map}; {@code bytes} as given to it. */
  public static void unmap(long address, long bytes) {
    release(address, mappedLength(bytes));
  }

  private static void release(long address, long len) {
    if (len <= 0) {
      return;
    }
    int r;
    try {
      r = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), len);
    } catch (Throwable t) {
      throw new IllegalStateException("munmap failed", t);
    }
    if (r != 0) {
      throw new IllegalStateException("munmap of " + len + " bytes at 0x" + Long.toHexString(address) + " failed");
    }
  }

  /**
   * {@code bytes} of memory owned by {@code owner} (given back when it closes): a huge-page block
   * (zeroed by the kernel as it is first touched, not by a pass here) when {@link #available()} and
   * {@code bytes >= MIN_BYTES}, else {@code owner.allocate(bytes, 64)}.
   */
  public static MemorySegment allocate(Arena owner, long bytes) {
    if (!available() || bytes < MIN_BYTES) {
      return owner.allocate(Math.max(bytes, 1), 64).asSlice(0, bytes);
    }
    long address = map(bytes);
    try {
      return MemorySegment.ofAddress(address).reinterpret(bytes, owner, s -> unmap(address, bytes));
    } catch (RuntimeException e) {
      unmap(address, bytes);
      throw e;
    }
  }
}
