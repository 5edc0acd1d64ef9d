package dev.fovea.tensor;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library calls fovea makes, looked up in one place: malloc/free ({@link Scope}),
 * mmap/munmap/madvise ({@link NativeMemory}, {@code io.Mappings}), open/posix_fadvise/close
 * ({@code io.HugeFilePages}). Each use is an optimisation with a Java fallback, so a function that
 * cannot be had (no such symbol, native access refused) is {@code null} here and its caller takes
 * that fallback.
 */
public final class Libc {
  private Libc() {}

  /** A downcall handle for the C function {@code name}, or null where it cannot be made. */
  public static MethodHandle find(String name, FunctionDescriptor descriptor, Linker.Option... options) {
    try {
      Linker linker = Linker.nativeLinker();
      return linker.defaultLookup().find(name).map(f -> linker.downcallHandle(f, descriptor, options)).orElse(null);
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** Whether {@link #madvise} can be called here. */
  public static boolean hasMadvise() {
    return Madvise.HANDLE != null;
  }

  /** {@code madvise(address, len, advice)}'s return value; only where {@link #hasMadvise()}. */
  public static int madvise(long address, long len, int advice) throws Throwable {
    return (int) Madvise.HANDLE.invokeExact(MemorySegment.ofAddress(address), len, advice);
  }

  /** Looked up on first use, as each caller did before it moved here. */
  private static final class Madvise {
    static final MethodHandle HANDLE = find("madvise",
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
  }
}
