package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.KernelRef.U;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.fovea.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Gemv#gemvRows} (m = 2 to 4 rows of x against one weight; SIMD and scalar twin), its use
 * by {@link Gemm#sgemm} for 2 <= m <= 4 and by {@link Gemv#gemvMany}:
 *
 * <ul>
 *   <li>against a naive double-precision reference, for every weight dtype, with strided and
 *       offset x rows, offset and padded weight rows, y rows with their own stride and accumulate
 *       on and off. Tolerance per element, as GemvTest's: |y - ref| <= (k + 2) * u * (|y0| + sum_k
 *       |x| |w|) + 1e-30, u = 2^-24;
 *   <li>bit for bit against one-row gemv calls, one per row of x (the kernels keep the one-row
 *       kernels' operations and order), at 1 and 2 threads, over several parallel chunks, odd n,
 *       k with tails (and only a tail), and the TinyLlama shapes.
 * </ul>
 */
class GemvRowsTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 200);
  private static final DType[] W_TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};
  /** m = 2 to MAX_ROWS: the generators draw m and the dtype as one integer. */
  private static final int ROW_COUNTS = Gemv.MAX_ROWS - 1;
  private final int threadsBefore = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(threadsBefore);
  }

  @Test
  void simdMatchesReference() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(0, ROW_COUNTS * W_TYPES.length - 1), integers().between(1, 70),
            integers().between(1, 400), longs().all())
        .checkAssert((mt, n, k, seed) -> check(2 + mt % ROW_COUNTS, n, k, W_TYPES[mt / ROW_COUNTS], seed, true));
  }

  @Test
  void scalarMatchesReference() {
    qt().withExamples(Math.max(1, EXAMPLES / 2))
        .forAll(integers().between(0, ROW_COUNTS * W_TYPES.length - 1), integers().between(1, 40),
            integers().between(1, 200), longs().all())
        .checkAssert((mt, n, k, seed) -> check(2 + mt % ROW_COUNTS, n, k, W_TYPES[mt / ROW_COUNTS], seed, false));
  }

  /** Rows spanning many parallel chunks (2 MiB of weight each), every dtype, m = 2 to 4. */
  @Test
  void largeRowsSpanManyChunks() {
    Random rnd = new Random(17);
    for (DType t : W_TYPES) {
      for (int m = 2; m <= Gemv.MAX_ROWS; m++) {
        check(m, 1500, 4096 + 64, t, rnd.nextLong(), true);
      }
    }
  }

  /**
   * Each row of a multi-row call equals, bit for bit, a one-row gemv of that row of x: every dtype,
   * m = 2 to 4, n odd and spanning several chunks (1501 rows), k with only a tail (37), a vector
   * loop and a tail (1061), and TinyLlama's 2048 and 5632; x rows strided along k and apart,
   * padded weight rows, accumulate on; through gemvRows at 1 and 2 threads and through
   * Gemm.sgemm (C with a row stride of its own).
   */
  @Test
  void rowsEqualOneRowGemvBitForBit() {
    Random rnd = new Random(19);
    for (DType t : W_TYPES) {
      int[] ks = t.isQuantized() ? new int[] {32, 2048, 5632} : new int[] {37, 1061, 2048, 5632};
      for (int k : ks) {
        for (int n : new int[] {7, 1501}) {
          for (int m = 2; m <= Gemv.MAX_ROWS; m++) {
            bitIdentity(m, n, k, t, rnd);
          }
        }
      }
    }
  }

  private void bitIdentity(int m, int n, int k, DType t, Random rnd) {
    long xCs = 2;
    long xRs = xCs * k + 5; // rows apart, x strided along k
    long xOff = 3;
    long wOff = t.isQuantized() ? 32 : 2;
    long rs = k + (t.isQuantized() ? 64 : 3);
    long yRs = n + 9;
    long yOff = 4;
    String what = t + " m=" + m + " n=" + n + " k=" + k;
    try (Arena arena = Arena.ofShared()) {
      KernelRef.Storage x = KernelRef.randomF32(xOff + (m - 1) * xRs + (k - 1) * xCs + 1, rnd, arena);
      KernelRef.Storage w = KernelRef.random(t, wOff + (n - 1) * rs + k, rnd, arena);
      KernelRef.Storage y0 = KernelRef.randomF32(yOff + m * yRs, rnd, arena);
      MemorySegment want = KernelRef.copy(y0.seg(), arena);
      for (int r = 0; r < m; r++) {
        Gemv.gemv(n, k, x.seg(), xOff + r * xRs, xCs, w.seg(), t, wOff, rs, want, yOff + r * yRs, true);
      }
      for (int threads = 1; threads <= 2; threads++) {
        Parallel.setThreads(threads);
        MemorySegment got = KernelRef.copy(y0.seg(), arena);
        Gemv.gemvRows(m, n, k, x.seg(), xOff, xRs, xCs, w.seg(), t, wOff, rs, got, yOff, yRs, true);
        expectSameBits("gemvRows " + what + " at " + threads + " threads", want, got, yOff, yRs, n);
      }
      MemorySegment got = KernelRef.copy(y0.seg(), arena);
      Gemm.sgemm(m, n, k, x.seg(), xOff, xRs, xCs, w.seg(), t, wOff, 1, rs, got, yOff, yRs, true);
      expectSameBits("sgemm " + what, want, got, yOff, yRs, n);
    }
  }

  /**
   * gemvMany with m rows gives each weight's y rows bit for bit what one-row gemv calls give, at 1
   * and 2 threads: weights of different heights (one smaller than a chunk, one spanning several),
   * padded rows, offsets, y rows with a stride of their own.
   */
  @Test
  void manyWeightsEqualOneRowCalls() {
    Random rnd = new Random(23);
    for (DType t : W_TYPES) {
      for (int m = 2; m <= Gemv.MAX_ROWS; m++) {
        int k = t.isQuantized() ? 32 * (1 + rnd.nextInt(70)) : 1 + rnd.nextInt(2200);
        int[] ns = {1 + rnd.nextInt(3000), 1 + rnd.nextInt(40), 1 + rnd.nextInt(600)};
        long xRs = k + 7;
        try (Arena arena = Arena.ofShared()) {
          KernelRef.Storage x = KernelRef.randomF32(3 + (m - 1) * xRs + k, rnd, arena);
          Gemv.Rows[] rows = new Gemv.Rows[ns.length];
          MemorySegment[] want = new MemorySegment[ns.length];
          for (int i = 0; i < ns.length; i++) {
            long wOff = t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(4);
            long rs = k + (t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(3));
            long yRs = ns[i] + rnd.nextInt(3);
            KernelRef.Storage w = KernelRef.random(t, wOff + (ns[i] - 1) * rs + k, rnd, arena);
            want[i] = arena.allocate(4L * (1 + m * yRs), 64);
            for (int r = 0; r < m; r++) {
              Gemv.gemv(ns[i], k, x.seg(), 3 + r * xRs, 1, w.seg(), t, wOff, rs, want[i], 1 + r * yRs, false);
            }
            rows[i] = new Gemv.Rows(ns[i], w.seg(), wOff, rs, arena.allocate(4L * (1 + m * yRs), 64), 1, yRs);
          }
          for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (Gemv.Rows r : rows) {
              r.y().fill((byte) 0);
            }
            Gemv.gemvMany(m, k, x.seg(), 3, xRs, 1, t, rows);
            for (int i = 0; i < ns.length; i++) {
              int diff = KernelRef.firstBitDifference(want[i], rows[i].y());
              if (diff >= 0) {
                fail("gemvMany " + t + " m=" + m + " k=" + k + " weight " + i + " (n=" + ns[i] + ") at " + threads
                    + " threads differs from one-row gemv at y flat index " + diff);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void rejectsRowCountsOutsideOneToMaxRows() {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment s = arena.allocate(1 << 12);
      for (int m : new int[] {0, Gemv.MAX_ROWS + 1}) {
        var e = assertThrows(IllegalArgumentException.class,
            () -> Gemv.gemvRows(m, 2, 4, s, 0, 4, 1, s, DType.F32, 0, 4, s, 0, 2, false));
        if (!e.getMessage().contains("m=" + m)) {
          fail("message does not name m: " + e.getMessage());
        }
      }
    }
  }

  private static void expectSameBits(String what, MemorySegment want, MemorySegment got, long yOff, long yRs, int n) {
    int diff = KernelRef.firstBitDifference(want, got);
    if (diff >= 0) {
      long r = (diff - yOff) / yRs;
      fail(what + ": y flat index " + diff + " (row " + r + ", column " + (diff - yOff - r * yRs) + " of " + n
          + ") differs from the one-row gemv: " + KernelRef.floats(got)[diff] + " vs " + KernelRef.floats(want)[diff]);
    }
  }

  private static void check(int m, int n, int kIn, DType t, long seed, boolean simd) {
    Random rnd = new Random(seed);
    int k = t.isQuantized() ? 32 * Math.max(1, (kIn + 31) / 32) : kIn;
    long xCs = 1 + rnd.nextInt(3);
    long xRs = rnd.nextBoolean() ? xCs * k + rnd.nextInt(5) : 1; // rows apart, or interleaved (x transposed)
    if (xRs == 1) {
      xCs = m + rnd.nextInt(2);
    }
    long xOff = rnd.nextInt(4);
    long wOff = t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(4);
    long wRowStride = k + (t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(3));
    long yOff = rnd.nextInt(4);
    long yRs = n + rnd.nextInt(3);
    boolean accumulate = rnd.nextBoolean();
    String what = "m=" + m + " n=" + n + " k=" + k + " " + t + " xOff=" + xOff + " xRs=" + xRs + " xCs=" + xCs
        + " wOff=" + wOff + " wRowStride=" + wRowStride + " yOff=" + yOff + " yRs=" + yRs + " accumulate=" + accumulate;
    try (Arena arena = Arena.ofShared()) {
      KernelRef.Storage x = KernelRef.randomF32(xOff + (m - 1) * xRs + (k - 1) * xCs + 1, rnd, arena);
      KernelRef.Storage w = KernelRef.random(t, wOff + (n - 1) * wRowStride + k, rnd, arena);
      KernelRef.Storage y0 = KernelRef.randomF32(yOff + (m - 1) * yRs + n + 2, rnd, arena);
      MemorySegment y1 = KernelRef.copy(y0.seg(), arena);
      MemorySegment y2 = KernelRef.copy(y0.seg(), arena);
      Parallel.setThreads(1);
      run(m, n, k, x.seg(), xOff, xRs, xCs, w.seg(), t, wOff, wRowStride, y1, yOff, yRs, accumulate, simd);
      Parallel.setThreads(2);
      run(m, n, k, x.seg(), xOff, xRs, xCs, w.seg(), t, wOff, wRowStride, y2, yOff, yRs, accumulate, simd);
      int diff = KernelRef.firstBitDifference(y1, y2);
      if (diff >= 0) {
        fail("forward: 1 and 2 threads differ at y flat index " + diff + " for " + what);
      }
      float[] got = KernelRef.floats(y1);
      boolean[] written = new boolean[got.length];
      for (int r = 0; r < m; r++) {
        for (int j = 0; j < n; j++) {
          int i = (int) (yOff + r * yRs + j);
          written[i] = true;
          double ref = accumulate ? y0.values()[i] : 0;
          double mag = Math.abs(ref);
          for (int p = 0; p < k; p++) {
            double prod = x.values()[(int) (xOff + r * xRs + p * xCs)] * w.values()[(int) (wOff + j * wRowStride + p)];
            ref += prod;
            mag += Math.abs(prod);
          }
          double err = Math.abs(got[i] - ref);
          double tol = (k + 2) * U * mag + 1e-30;
          if (!(err <= tol)) {
            fail("forward (" + (simd ? "simd" : "scalar") + "): y[" + r + ", " + j + "] = " + got[i] + ", reference "
                + ref + ", |err| " + err + " > tol " + tol + " for " + what);
          }
        }
      }
      for (int i = 0; i < got.length; i++) {
        if (!written[i] && got[i] != (float) y0.values()[i]) {
          fail("forward: wrote y flat index " + i + " outside the m rows of n for " + what);
        }
      }
    }
  }

  private static void run(int m, int n, int k, MemorySegment x, long xOff, long xRs, long xCs, MemorySegment w, DType t,
      long wOff, long wRowStride, MemorySegment y, long yOff, long yRs, boolean accumulate, boolean simd) {
    if (simd) {
      Gemv.gemvRowsSimd(m, n, k, x, xOff, xRs, xCs, w, t, wOff, wRowStride, y, yOff, yRs, accumulate);
    } else {
      Gemv.gemvRowsScalar(m, n, k, x, xOff, xRs, xCs, w, t, wOff, wRowStride, y, yOff, yRs, accumulate);
    }
  }
}
