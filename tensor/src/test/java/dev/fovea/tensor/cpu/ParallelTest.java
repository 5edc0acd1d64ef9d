package dev.fovea.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The parallel primitive on both of its paths (spinning hand-off workers, and the fork/join pool
 * with spin 0): every chunk exactly once, worker indices in range, failures passed on with their
 * type and the workers usable afterwards, nested calls inline, concurrent callers both served.
 */
class ParallelTest {
  private int threadsBefore;

  @BeforeEach
  void remember() {
    threadsBefore = Parallel.threads();
  }

  @AfterEach
  void restore() {
    Parallel.setThreads(threadsBefore);
    Parallel.setSpinMicros(200);
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 200})
  void everyChunkRunsExactlyOnceOnAWorkerInRange(long spin) {
    Parallel.setSpinMicros(spin);
    for (int threads : new int[] {1, 2, 3, 4}) {
      Parallel.setThreads(threads);
      for (int chunks : new int[] {0, 1, 2, 3, 7, 64, 1000}) {
        AtomicIntegerArray runs = new AtomicIntegerArray(chunks);
        int[] badWorker = {-1};
        Parallel.forChunks(chunks, (c, w) -> {
          runs.incrementAndGet(c);
          if (w < 0 || w >= threads) {
            badWorker[0] = w;
          }
        });
        int[] got = new int[chunks];
        for (int i = 0; i < chunks; i++) {
          got[i] = runs.get(i);
        }
        int[] once = new int[chunks];
        Arrays.fill(once, 1);
        assertArrayEquals(once, got, "threads " + threads + ", chunks " + chunks + ", spin " + spin);
        assertEquals(-1, badWorker[0], "worker index outside [0, " + threads + ")");
      }
    }
  }

  /** A caller that sized per-worker scratch by threads() keeps its worker indexes below that size, whatever the thread count is now. */
  @ParameterizedTest
  @ValueSource(longs = {0, 200})
  void maxWorkersBoundsTheWorkerIndex(long spin) {
    Parallel.setSpinMicros(spin);
    Parallel.setThreads(4);
    for (int max : new int[] {1, 2, 3}) {
      AtomicIntegerArray runs = new AtomicIntegerArray(64);
      int[] badWorker = {-1};
      Parallel.forChunks(64, max, (c, w) -> {
        runs.incrementAndGet(c);
        if (w < 0 || w >= max) {
          badWorker[0] = w;
        }
      });
      for (int i = 0; i < 64; i++) {
        assertEquals(1, runs.get(i), "chunk " + i + " with at most " + max + " workers");
      }
      assertEquals(-1, badWorker[0], "worker index outside [0, " + max + ")");
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 200})
  void aChunkFailureReachesTheCallerWithItsTypeAndThePoolStillWorks(long spin) {
    Parallel.setSpinMicros(spin);
    Parallel.setThreads(2);
    for (int failing : new int[] {0, 5, 63}) {
      IllegalStateException boom = new IllegalStateException("chunk " + failing);
      IllegalStateException got = assertThrows(IllegalStateException.class, () -> Parallel.forChunks(64, (c, w) -> {
        if (c == failing) {
          throw boom;
        }
      }));
      assertSame(boom, got, "the chunk's own exception, not a wrapper");
      AssertionError error = new AssertionError("error in chunk " + failing);
      assertSame(error, assertThrows(AssertionError.class, () -> Parallel.forChunks(64, (c, w) -> {
        if (c == failing) {
          throw error;
        }
      })));
    }
    // after failures on either side, a call still runs every chunk, and the second thread takes part
    AtomicIntegerArray runs = new AtomicIntegerArray(256);
    boolean[] sawWorker = new boolean[2];
    CountDownLatch both = new CountDownLatch(1);
    boolean[] waited = {false}; // touched by worker 0 only
    Parallel.forChunks(256, (c, w) -> {
      runs.incrementAndGet(c);
      sawWorker[w] = true;
      if (w == 1) {
        both.countDown();
      } else if (!waited[0]) {
        waited[0] = true;
        await(both); // worker 0's first chunk waits until the other thread has run one
      }
    });
    for (int i = 0; i < 256; i++) {
      assertEquals(1, runs.get(i), "chunk " + i);
    }
    assertTrue(sawWorker[1], "the second thread took chunks"); // worker 0 waits for it on its first chunk
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 200})
  void nestedCallsRunInlineOnTheCallingWorker(long spin) {
    Parallel.setSpinMicros(spin);
    Parallel.setThreads(2);
    AtomicIntegerArray inner = new AtomicIntegerArray(8 * 8);
    int[] mismatch = {0};
    Parallel.forChunks(8, (c, w) -> Parallel.forChunks(8, (ci, wi) -> {
      inner.incrementAndGet(c * 8 + ci);
      if (wi != 0) {
        mismatch[0]++; // inline: the nested loop reports worker 0 and runs on this thread
      }
    }));
    for (int i = 0; i < 64; i++) {
      assertEquals(1, inner.get(i), "inner chunk " + i);
    }
    assertEquals(0, mismatch[0]);
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 200})
  void concurrentCallersAreBothServed(long spin) throws Exception {
    Parallel.setSpinMicros(spin);
    Parallel.setThreads(2);
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try {
      CyclicBarrier start = new CyclicBarrier(2);
      Future<?>[] done = new Future<?>[2];
      AtomicIntegerArray[] runs = {new AtomicIntegerArray(10), new AtomicIntegerArray(10)};
      for (int k = 0; k < 2; k++) {
        AtomicIntegerArray mine = runs[k];
        done[k] = callers.submit(() -> {
          start.await();
          for (int rep = 0; rep < 50; rep++) {
            Parallel.forChunks(10, (c, w) -> mine.incrementAndGet(c));
          }
          return null;
        });
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      for (AtomicIntegerArray r : runs) {
        for (int c = 0; c < 10; c++) {
          assertEquals(50, r.get(c), "chunk " + c + " once per call, 50 calls");
        }
      }
    } finally {
      callers.shutdownNow();
    }
  }

  @Test
  void negativeSpinIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setSpinMicros(-1));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("the second thread never took a chunk");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
