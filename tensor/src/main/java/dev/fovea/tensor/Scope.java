package dev.fovea.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

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
 */
public final class Scope implements AutoCloseable {
  private static final long SLAB = 4L << 20;
  private static final long ALIGN = 64;
  private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);
  private static final Scope GLOBAL = new Scope(Arena.ofAuto(), false, false);

  private final Arena arena;
  private final boolean closeable;
  private final Thread owner;
  private final List<MemorySegment> slabs = new ArrayList<>();
  private MemorySegment slab;
  private long used;
  private long allocated;
  private boolean closed;

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
    if (size > SLAB / 4) {
      // Large tensors get their own segment so the slab is not wasted.
      MemorySegment seg = arena.allocate(size, ALIGN);
      if (!closeable) {
        return seg;
      }
      slabs.add(seg);
      return seg;
    }
    long start = (used + ALIGN - 1) & -ALIGN;
    if (slab == null || start + size > slab.byteSize()) {
      slab = arena.allocate(SLAB, ALIGN);
      slabs.add(slab);
      start = 0;
    }
    used = start + size;
    return slab.asSlice(start, size);
  }

  /** Allocates storage for {@code numel} elements of {@code dtype}. */
  public Storage allocateStorage(DType dtype, long numel) {
    return Storage.wrap(allocate(dtype.byteSize(numel)), dtype, numel);
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
    ArrayDeque<Scope> stack = STACK.get();
    if (stack.peek() != this) {
      stack.remove(this);
    } else {
      stack.pop();
    }
    arena.close();
  }
}
