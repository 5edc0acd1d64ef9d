package dev.fovea.tensor;

/**
 * A device-neutral ordered queue of work (on CUDA: a stream), opened by {@link
 * Backend#openContext()} (the CPU has none: null) and made current on a thread around the work that
 * belongs to it ({@link #enter()}); a backend queues the ops of that thread on the current context
 * of its own device, on its default queue otherwise. A decoding state owns one, so that two states'
 * forwards may overlap on a device.
 *
 * <p>Ordering contract (the backend keeps it): work queued in a context starts after everything
 * queued on the device's default queue before {@link #enter()}; work queued on the default queue
 * after a context's {@link Entered#close()} starts after everything queued in that context (so
 * results read back or used outside the context are ready); memory a closed scope gave back is
 * reused by another queue only after the work queued before the close; two contexts are otherwise
 * unordered: a device tensor made in one context and read directly in another needs {@link
 * #after}. Close the context when its owner closes (it waits for its queued work first).
 */
public abstract class ExecutionContext implements AutoCloseable {
  private static final ThreadLocal<ExecutionContext> CURRENT = new ThreadLocal<>();

  /** The context current on this thread, or null (the default queue). */
  public static ExecutionContext current() {
    return CURRENT.get();
  }

  /** The device whose work this context orders. */
  public abstract Device device();

  /** Work queued in this context from now on starts after everything queued in {@code other} so far. */
  public abstract void after(ExecutionContext other);

  /** Called on entering (this context becomes current): order this context after the default queue. */
  protected abstract void entered();

  /** Called on leaving: order the default queue's later work after this context's work. */
  protected abstract void left();

  /** Makes this context current on this thread until the handle closes (the previous one is then restored). */
  public final Entered enter() {
    ExecutionContext previous = CURRENT.get();
    CURRENT.set(this);
    try {
      entered();
    } catch (RuntimeException e) {
      CURRENT.set(previous);
      throw e;
    }
    return () -> {
      try {
        left();
      } finally {
        CURRENT.set(previous);
      }
    };
  }

  @Override
  public abstract void close();

  /** The handle of {@link #enter()}. */
  public interface Entered extends AutoCloseable {
    @Override
    void close();
  }
}
