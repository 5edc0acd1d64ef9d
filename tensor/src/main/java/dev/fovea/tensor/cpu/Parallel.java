package dev.fovea.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

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
 *
 * <p>Chunks run on the caller plus persistent hand-off workers that spin briefly between jobs
 * ({@link #setSpinMicros}); a call made while another thread holds those workers uses a shared
 * ForkJoinPool instead. Both paths hand out chunks from one counter and rethrow a chunk's failure.
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
    forChunks(chunks, threads, body);
  }

  /**
   * As {@link #forChunks(int, ChunkBody)} on at most {@code maxWorkers} threads, so {@code worker}
   * stays below {@code maxWorkers}: a caller that sized per-worker scratch by {@link #threads()}
   * passes that value, and a {@link #setThreads} on another thread in between cannot push a
   * worker index past its scratch.
   */
  public static void forChunks(int chunks, int maxWorkers, ChunkBody body) {
    int t = Math.min(Math.min(threads, maxWorkers), chunks);
    if (t <= 1 || INSIDE.get()) {
      for (int i = 0; i < chunks; i++) {
        body.run(i, 0);
      }
      return;
    }
    if (spinNanos > 0 && Handoff.run(t, chunks, body)) {
      return;
    }
    AtomicInteger next = new AtomicInteger();
    // a failed chunk's own exception is kept (join() would rethrow a copy made on this thread)
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ForkJoinTask<?>[] tasks = new ForkJoinTask<?>[t - 1];
    for (int w = 1; w < t; w++) {
      final int worker = w;
      tasks[w - 1] = POOL.submit(() -> drainOrRecord(next, chunks, body, worker, failure));
    }
    drainOrRecord(next, chunks, body, 0, failure);
    for (ForkJoinTask<?> task : tasks) {
      task.join();
    }
    rethrow(failure.get());
  }

  /**
   * How long a hand-off worker keeps polling for the next job before it parks (default 200 us,
   * {@code -Dfovea.parallel.spinMicros}; 0 sends every call to the fork/join pool).
   *
   * <p>A decode step is ~110 short parallel sections (one per GEMV, attention, ...) with serial
   * ops between them, and waking a parked pool thread costs this 2-core VM 15-40 us per call (a
   * fork/join of two ~2 us chunks: 17-44 us through the ForkJoinPool, 3.6-5 us through spinning
   * workers). Measured on the TinyLlama-shaped BF16 decode step, model.step alternating between the
   * two settings step by step in one process (so both see the same memory phases, 100 steps each,
   * 2026-11): 58.8 -> 56.7, 49.1 -> 47.7, 51.6 -> 50.0, 57.0 -> 55.1 ms (spin 300 us), 52.8 ->
   * 51.2 (50 us), 45.1 -> 42.6 (2000 us); F32 95.4 -> 95.0. A worker only spins right after a job,
   * so an idle engine costs nothing.
   */
  private static volatile long spinNanos = Math.max(0, Long.getLong("fovea.parallel.spinMicros", 200)) * 1000;

  /** Sets the spin time of the hand-off workers ({@link #spinNanos}); 0 routes every call to the fork/join pool. */
  public static void setSpinMicros(long micros) {
    if (micros < 0) {
      throw new IllegalArgumentException("spin time must be >= 0 us, got " + micros);
    }
    spinNanos = micros * 1000;
  }

  /**
   * Persistent workers that poll a slot for their next job and park only after {@link #spinNanos}
   * without one. One caller at a time (a lock taken with tryLock): a second concurrent caller goes
   * to the fork/join pool instead, so callers never wait on each other.
   */
  private static final class Handoff {
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Worker[] WORKERS = new Worker[MAX_THREADS];
    private static final AtomicInteger REMAINING = new AtomicInteger();

    /** Runs the chunks on the caller and t - 1 workers; false (nothing run) when another caller holds the workers. */
    static boolean run(int t, int chunks, ChunkBody body) {
      if (!LOCK.tryLock()) {
        return false;
      }
      try {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        REMAINING.set(t - 1);
        for (int w = 1; w < t; w++) {
          Worker worker = WORKERS[w];
          if (worker == null) {
            worker = WORKERS[w] = new Worker(w);
            worker.start();
          }
          worker.give(next, chunks, body, failure);
        }
        drainOrRecord(next, chunks, body, 0, failure);
        for (int spins = 0; REMAINING.get() > 0; spins++) {
          if (spins < 100_000) {
            Thread.onSpinWait();
          } else {
            Thread.yield(); // a worker descheduled (more threads than cores): do not burn the core it needs
          }
        }
        rethrow(failure.get());
        return true;
      } finally {
        LOCK.unlock();
      }
    }

    private static final class Worker extends Thread {
      private final int index;
      private AtomicInteger next; // next, chunks, failure: written before body, read after it
      private int chunks;
      private AtomicReference<Throwable> failure;
      private volatile ChunkBody body; // the job slot: non-null while a job is pending or running
      private volatile boolean parked;

      Worker(int index) {
        super("fovea-handoff-" + index);
        this.index = index;
        setDaemon(true);
      }

      void give(AtomicInteger n, int c, ChunkBody b, AtomicReference<Throwable> f) {
        next = n;
        chunks = c;
        failure = f;
        body = b; // publishes next, chunks and failure
        if (parked) {
          LockSupport.unpark(this);
        }
      }

      @Override
      public void run() {
        while (true) {
          ChunkBody b = await();
          drainOrRecord(next, chunks, b, index, failure);
          body = null;
          REMAINING.decrementAndGet();
        }
      }

      /** The next job: polled for spinNanos, then parked for (give unparks a worker that set parked before its last look). */
      private ChunkBody await() {
        ChunkBody b;
        long t0 = System.nanoTime();
        for (int spins = 1; (b = body) == null; spins++) {
          Thread.onSpinWait();
          if ((spins & 255) == 0 && System.nanoTime() - t0 > spinNanos) {
            parked = true;
            if ((b = body) == null) {
              LockSupport.park(this);
            }
            parked = false;
            t0 = System.nanoTime();
          }
        }
        return b;
      }
    }
  }

  /** Passes a chunk's failure on: the very exception where it is unchecked, wrapped where it is checked. */
  private static void rethrow(Throwable failure) {
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

  private static void drainOrRecord(AtomicInteger next, int chunks, ChunkBody body, int worker, AtomicReference<Throwable> failure) {
    try {
      drain(next, chunks, body, worker);
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
      next.set(chunks); // the other threads stop taking chunks
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
