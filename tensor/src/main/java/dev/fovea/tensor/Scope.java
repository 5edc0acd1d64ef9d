package dev.fovea.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Supplier;

/**
 * An arena for tensor memory whose life is one forward pass, one decoding step or one backward:
 *
 * <pre>{@code
 * try (var scope = Scope.open()) {
 *   Tensor y = model.forward(x);   // every intermediate lives in scope
 *   result = y.copyTo(Scope.global());
 * }                                 // all freed here, deterministically
 * }</pre>
 *
 * Scopes nest per thread; ops allocate from the innermost open scope of the calling thread, or from
 * {@link #global()} when none is open. Memory is taken from the operating system in slabs and handed
 * out by bumping a pointer (64-byte aligned), so a forward pass costs a handful of native
 * allocations and no Java heap per element. Using a tensor after its scope closed fails with
 * {@link IllegalStateException} from the FFM runtime, never a crash.
 *
 * <p>The global scope is the long-lived one for weights and results; it is freed by the garbage
 * collector when unreachable.
 *
 * <p>Memory comes from the C library's {@code malloc}, not zeroed, and is tied to the scope's arena
 * (given back when it closes, and unusable after), when the JVM lets this code call native
 * functions ({@code --enable-native-access=ALL-UNNAMED}, which the launcher and the builds pass).
 * Closed scopes' blocks go to a pool ({@link Pool}) that the next scope draws from: malloc returns
 * large blocks to the system on free, so every forward pass used to fault its activations in as
 * fresh pages (and {@code Arena.allocate} zeroed them). Measured on ViT-B/16 at batch 1, 2 cores:
 * 131-138 ms with zeroed arenas, about the same with malloc alone, 114-121 ms with the pool.
 * Blocks of 4 MiB and more come from {@link NativeMemory} instead (anonymous mappings advised for
 * transparent huge pages, where Linux offers them), which fault in several times faster when fresh.
 * Without native access, or with {@code -Dfovea.scope.zeroed=true}, arenas allocate (and zero) as
 * before; then the memory also counts against {@code -XX:MaxDirectMemorySize}. Either way code must
 * not read memory it did not write ({@code -Dfovea.scope.poison=true} checks that).
 */
public final class Scope implements AutoCloseable {
  private static final long SLAB = 4L << 20;
  private static final long ALIGN = 64;
  private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);
  private static final Scope GLOBAL = new Scope(Arena.ofAuto(), false, false);

  /**
   * {@code -Dfovea.scope.poison=true} (the test runs set it) fills new memory with 0xFF bytes (NaN
   * as floats), so code that reads memory it never wrote, for example a kernel that assumes a
   * zeroed output, fails every time instead of when malloc happens to return fresh pages.
   */
  private static final boolean POISON = Boolean.getBoolean("fovea.scope.poison");
  private static final MethodHandle MALLOC;
  private static final MethodHandle FREE;

  static {
    MethodHandle malloc = null;
    MethodHandle free = null;
    if (Scope.class.getModule().isNativeAccessEnabled() && !Boolean.getBoolean("fovea.scope.zeroed")) {
      malloc = Libc.find("malloc", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
      free = Libc.find("free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
      if (malloc == null || free == null) {
        malloc = null;
        free = null;
      }
    }
    MALLOC = malloc;
    FREE = free;
  }

  private final Arena arena;
  private final boolean closeable;
  private final Thread owner;
  private final List<MemorySegment> slabs = new ArrayList<>();
  private MemorySegment slab;
  private long used;
  private long allocated;
  private boolean closed;
  /** Per-scope state of other devices' backends (their memory pools), closed with the scope in reverse order. */
  private final LinkedHashMap<Object, AutoCloseable> resources = new LinkedHashMap<>();

  private Scope(Arena arena, boolean closeable) {
    this(arena, closeable, true);
  }

  private Scope(Arena arena, boolean closeable, boolean ownedByThread) {
    this.arena = arena;
    this.closeable = closeable;
    this.owner = closeable && ownedByThread ? Thread.currentThread() : null;
  }

  /** Opens a scope and makes it the current one of this thread until closed. */
  public static Scope open() {
    Scope s = new Scope(Arena.ofShared(), true);
    STACK.get().push(s);
    return s;
  }

  /**
   * A scope that is never the current one: memory is taken from it explicitly ({@link
   * #allocateStorage}), for state that outlives many forward passes and belongs to one owner (a
   * decoding state's KV cache). Any thread may close it; ops never allocate from it by themselves.
   */
  public static Scope detached() {
    return new Scope(Arena.ofShared(), true, false);
  }

  /** The long-lived scope (weights, results kept past a forward pass). */
  public static Scope global() {
    return GLOBAL;
  }

  /** The innermost open scope of this thread, or the global one. */
  public static Scope current() {
    Scope s = STACK.get().peek();
    return s == null ? GLOBAL : s;
  }

  /** Bytes handed out by this scope so far. */
  public synchronized long allocatedBytes() {
    return allocated;
  }

  /** Allocates {@code bytes} bytes, 64-byte aligned, uninitialized contents. */
  public synchronized MemorySegment allocate(long bytes) {
    if (closed) {
      throw new IllegalStateException("scope already closed");
    }
    if (bytes < 0) {
      throw new TensorException("negative allocation: " + bytes + " bytes");
    }
    long size = Math.max(bytes, 1);
    allocated += size;
    if (!closeable) {
      // The global scope: each tensor gets its own automatic arena, so the garbage collector frees
      // it once unreachable (one shared arena would keep everything ever allocated alive).
      return take(Arena.ofAuto(), size);
    }
    if (size > SLAB / 4) {
      // Large tensors get their own segment so the slab is not wasted.
      MemorySegment seg = take(arena, size);
      slabs.add(seg);
      return seg;
    }
    long start = (used + ALIGN - 1) & -ALIGN;
    if (slab == null || start + size > slab.byteSize()) {
      slab = take(arena, SLAB);
      slabs.add(slab);
      start = 0;
    }
    used = start + size;
    return slab.asSlice(start, size);
  }

  /** {@code size} bytes, ALIGN-aligned, owned by {@code owner} (uninitialized from malloc, zeroed from the arena). */
  private static MemorySegment take(Arena owner, long size) {
    if (MALLOC == null) {
      MemorySegment seg = owner.allocate(size, ALIGN);
      return POISON ? seg.fill((byte) 0xFF) : seg;
    }
    long cls = sizeClass(size);
    long raw = POOL.take(cls);
    if (raw == 0) {
      raw = huge(cls) ? NativeMemory.map(cls) : malloc(cls + ALIGN - 1);
    }
    long block = raw;
    long aligned = (raw + ALIGN - 1) & -ALIGN;
    MemorySegment seg = MemorySegment.ofAddress(aligned).reinterpret(size, owner, ignored -> POOL.give(cls, block));
    return POISON ? seg.fill((byte) 0xFF) : seg;
  }

  /** Block sizes: multiples of 4 KiB up to 64 KiB, of 64 KiB above (so repeated shapes reuse blocks). */
  static long sizeClass(long size) {
    long unit = size <= (64L << 10) ? 4L << 10 : 64L << 10;
    return (size + unit - 1) / unit * unit;
  }

  private static long malloc(long bytes) {
    MemorySegment raw;
    try {
      raw = (MemorySegment) MALLOC.invokeExact(bytes);
    } catch (Throwable t) {
      throw new TensorException("malloc of " + bytes + " bytes failed: " + t);
    }
    if (raw.address() == 0) {
      throw new TensorException("out of native memory: malloc of " + bytes + " bytes (" + (bytes >> 20) + " MiB) returned NULL");
    }
    return raw.address();
  }

  /**
   * Whether blocks of size class {@code cls} come from {@link NativeMemory#map} (huge pages: a fresh
   * block faults in several times faster) rather than malloc; the same answer for every block of a
   * class, so the pool frees each the way it was made.
   */
  private static boolean huge(long cls) {
    return cls >= NativeMemory.MIN_BYTES && NativeMemory.available();
  }

  private static void free(long cls, long raw) {
    if (huge(cls)) {
      NativeMemory.unmap(raw, cls);
      return;
    }
    try {
      FREE.invokeExact(MemorySegment.ofAddress(raw));
    } catch (Throwable t) {
      throw new IllegalStateException("free failed", t);
    }
  }

  /**
   * Blocks that closed scopes gave back, by size class, kept for the next scope up to {@code
   * -Dfovea.scope.pool} bytes (default 512 MiB; 0 frees at once). The next forward pass of the same
   * shapes then finds its memory already faulted in, instead of paying the kernel for fresh pages
   * (malloc hands large blocks back to the system on free). A segment is still tied to its scope's
   * arena, so using a tensor after its scope closed fails as before, even once its block is reused.
   */
  private static final class Pool {
    private final long cap = Long.getLong("fovea.scope.pool", 512L << 20);
    private final HashMap<Long, long[]> free = new HashMap<>(); // class -> [count, addr...]
    private long pooled;

    synchronized long take(long cls) {
      long[] stack = free.get(cls);
      if (stack == null || stack[0] == 0) {
        return 0;
      }
      long raw = stack[(int) stack[0]];
      stack[0]--;
      pooled -= cls;
      return raw;
    }

    void give(long cls, long raw) {
      synchronized (this) {
        if (pooled + cls <= cap) {
          long[] stack = free.get(cls);
          if (stack == null || stack[0] + 1 >= stack.length) {
            long[] grown = new long[stack == null ? 8 : stack.length * 2];
            if (stack != null) {
              System.arraycopy(stack, 0, grown, 0, stack.length);
            }
            stack = grown;
            free.put(cls, stack);
          }
          stack[(int) ++stack[0]] = raw;
          pooled += cls;
          return;
        }
      }
      free(cls, raw);
    }
  }

  private static final Pool POOL = new Pool();

  /** Whether scopes hand out uninitialized malloc memory (true) or zeroed arena memory (false). */
  public static boolean usesMalloc() {
    return MALLOC != null;
  }

  /** Allocates storage for {@code numel} elements of {@code dtype}. */
  public Storage allocateStorage(DType dtype, long numel) {
    return Storage.wrap(allocate(dtype.byteSize(numel)), dtype, numel);
  }

  /**
   * Allocates storage on {@code device}: host memory of this scope for the CPU, else memory of that
   * device's backend owned by this scope (freed when it closes, like the host memory).
   */
  public Storage allocateStorage(Device device, DType dtype, long numel) {
    if (device.equals(Device.CPU)) {
      return allocateStorage(dtype, numel);
    }
    return Backends.of(device).allocate(this, dtype, numel);
  }

  /**
   * Backend use: the resource kept under {@code key} in this scope, made by {@code make} the first
   * time (for example a device's memory pool for this scope). Resources are closed when the scope
   * closes, last made first; those of the global scope live as long as the program.
   */
  public synchronized <T extends AutoCloseable> T resource(Object key, Supplier<T> make) {
    if (closed) {
      throw new IllegalStateException("scope already closed");
    }
    @SuppressWarnings("unchecked")
    T r = (T) resources.get(key);
    if (r == null) {
      r = make.get();
      resources.put(key, r);
    }
    return r;
  }

  public boolean isClosed() {
    return closed;
  }

  /** Frees everything allocated in this scope and pops it from this thread's stack. */
  @Override
  public void close() {
    if (!closeable) {
      throw new IllegalStateException("the global scope cannot be closed");
    }
    if (owner != null && Thread.currentThread() != owner) {
      throw new IllegalStateException("a scope must be closed by the thread that opened it");
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      slabs.clear();
      slab = null;
    }
    closeResources();
    ArrayDeque<Scope> stack = STACK.get();
    if (stack.peek() != this) {
      stack.remove(this);
    } else {
      stack.pop();
    }
    arena.close();
  }

  private void closeResources() {
    List<AutoCloseable> rs;
    synchronized (this) {
      rs = new ArrayList<>(resources.values());
      resources.clear();
    }
    RuntimeException failure = null;
    for (int i = rs.size() - 1; i >= 0; i--) {
      try {
        rs.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new TensorException("closing a scope's device resource failed: " + e.getMessage());
        }
        failure.addSuppressed(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
