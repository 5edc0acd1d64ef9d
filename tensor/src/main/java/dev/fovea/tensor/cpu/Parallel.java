package dev.fovea.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one parallel primitive: run a fixed list of chunks on one shared pool.
 *
 * <p>Determinism: callers choose the chunk boundaries from the problem size only, never from the
 * thread count, and every chunk writes disjoint outputs with a fixed arithmetic order. Which worker
 * runs which chunk then cannot change any result, so outputs are bit-identical run to run and for
 * any thread count.
 *
 * <p>The thread count is {@code -Dfovea.threads=N} (default: available processors) and can be
 * changed at run time with {@link #setThreads(int)} (benchmarks compare 1 and 2 threads). Calls from
 * inside a chunk run inline, so nesting cannot deadlock.
 */
public final class Parallel {
  /** Body of one chunk; {@code worker} is in {@code [0, threads())} and indexes per-worker scratch buffers. */
  @FunctionalInterface
  public interface ChunkBody {
    void run(int chunk, int worker);
  }

  /** Body over a range {@code [start, end)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(long start, long end);
  }

  /** Upper bound on workers; per-worker scratch arrays may be sized by it. */
  public static final int MAX_THREADS = 256;

  private static volatile int threads =
      Math.max(1, Math.min(MAX_THREADS, Integer.getInteger("fovea.threads", Runtime.getRuntime().availableProcessors())));

  private static final ForkJoinPool POOL =
      new ForkJoinPool(
          Math.max(1, MAX_THREADS - 1),
          pool -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("fovea-worker-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
          },
          null,
          false,
          0,
          MAX_THREADS,
          1,
          null,
          60,
          java.util.concurrent.TimeUnit.SECONDS);

  private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> Boolean.FALSE);

  private Parallel() {}

  public static int threads() {
    return threads;
  }

  /** Sets the number of threads used by later calls (1 runs everything on the caller). */
  public static void setThreads(int n) {
    if (n < 1 || n > MAX_THREADS) {
      throw new IllegalArgumentException("thread count must be within [1, " + MAX_THREADS + "], got " + n);
    }
    threads = n;
  }

  /** Runs {@code body(i, worker)} for every chunk {@code i} in {@code [0, chunks)}. */
  public static void forChunks(int chunks, ChunkBody body) {
    int t = Math.min(threads, chunks);
    if (t <= 1 || INSIDE.get()) {
      for (int i = 0; i < chunks; i++) {
        body.run(i, 0);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    @SuppressWarnings("unchecked")
    ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[t - 1];
    for (int w = 1; w < t; w++) {
      final int worker = w;
      tasks[w - 1] = POOL.submit(() -> drain(next, chunks, body, worker));
    }
    Throwable failure = null;
    try {
      drain(next, chunks, body, 0);
    } catch (Throwable e) {
      failure = e;
      next.set(chunks);
    }
    for (ForkJoinTask<?> task : tasks) {
      try {
        task.join();
      } catch (Throwable e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    // join() rethrows a worker's RuntimeException or Error (as the same type); pass it on unchanged
    if (failure instanceof RuntimeException re) {
      throw re;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw new IllegalStateException("parallel chunk failed", failure);
    }
  }

  private static void drain(AtomicInteger next, int chunks, ChunkBody body, int worker) {
    boolean was = INSIDE.get();
    INSIDE.set(Boolean.TRUE);
    try {
      int i;
      while ((i = next.getAndIncrement()) < chunks) {
        body.run(i, worker);
      }
    } finally {
      INSIDE.set(was);
    }
  }

  /**
   * Splits {@code [0, n)} into chunks of exactly {@code grain} elements (the last may be shorter)
   * and runs them in parallel. The split depends on {@code n} and {@code grain} only.
   */
  public static void forRange(long n, long grain, RangeBody body) {
    if (n <= 0) {
      return;
    }
    long g = Math.max(1, grain);
    long chunks = (n + g - 1) / g;
    if (chunks > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many chunks: " + chunks);
    }
    forChunks((int) chunks, (c, w) -> body.run(c * g, Math.min(n, (c + 1) * g)));
  }
}
