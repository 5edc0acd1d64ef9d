package dev.fovea.tensor.autograd;

/**
 * Whether ops record a graph for {@link Autograd#backward}. Off by default: plain inference records
 * nothing and pays nothing. Per thread.
 *
 * <pre>{@code
 * try (var g = GradMode.enable()) { ... loss.backward(); }
 * }</pre>
 */
public final class GradMode {
  private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {false});

  private GradMode() {}

  public static boolean isEnabled() {
    return ENABLED.get()[0];
  }

  /** Turns recording on until the returned guard is closed (restores the previous mode). */
  public static Guard enable() {
    return set(true);
  }

  /** Turns recording off until the returned guard is closed (restores the previous mode). */
  public static Guard disable() {
    return set(false);
  }

  private static Guard set(boolean on) {
    boolean[] cell = ENABLED.get();
    boolean previous = cell[0];
    cell[0] = on;
    return () -> cell[0] = previous;
  }

  /** Restores the previous grad mode when closed. */
  @FunctionalInterface
  public interface Guard extends AutoCloseable {
    @Override
    void close();
  }
}
