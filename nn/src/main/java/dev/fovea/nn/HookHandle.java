package dev.fovea.nn;

/**
 * Removes a hook when closed (PyTorch's {@code RemovableHandle}). Idempotent; use it in
 * try-with-resources so the plain path is restored even when the body throws.
 */
public final class HookHandle implements AutoCloseable {
  private Runnable remover;

  HookHandle(Runnable remover) {
    this.remover = remover;
  }

  /** Removes the hook (no-op the second time). */
  public synchronized void remove() {
    if (remover != null) {
      remover.run();
      remover = null;
    }
  }

  public synchronized boolean isRemoved() {
    return remover == null;
  }

  @Override
  public void close() {
    remove();
  }
}
