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
 * {@link Gemv#gemv} (SIMD and scalar twin) against a naive double-precision reference, for every
 * weight dtype, strided x, offsets, padded rows and accumulate on/off.
 *
 * <p>Tolerance, per element: |y - ref| <= (k + 2) * u * (|y0| + sum_k |x| |w|) + 1e-30, u = 2^-24
 * (first-order bound of an f32 sum of k + 1 terms, in any order: the SIMD kernel sums in lanes).
 * 1 and 2 threads must give bit-identical y.
 */
class GemvTest {

  /** Q4_0 nibbles: every byte value gives its low and high nibble minus 8, exactly (the xor-and-shift unpacking). */
  @Test
  void q4NibblesOfEveryByte() {
    // The vector Q4_0 kernels exist only where bytes fill whole lanes (Gemv.BS); elsewhere the scalar path runs.
    org.junit.jupiter.api.Assumptions.assumeTrue(Gemv.BS != null, "no vector Q4_0 kernels at " + Gemv.L + " float lanes");
    int lanes = Gemv.IS.length();
    try (Arena a = Arena.ofConfined()) {
      MemorySegment w = a.allocate(256 + lanes);
      for (int b = 0; b < 256; b++) {
        w.set(java.lang.foreign.ValueLayout.JAVA_BYTE, b, (byte) b);
      }
      float[] lo = new float[lanes], hi = new float[lanes];
      for (int start = 0; start < 256; start += lanes) {
        var q = Gemv.q4Bytes(w, start);
        Gemv.q4(q, false).intoArray(lo, 0);
        Gemv.q4(q, true).intoArray(hi, 0);
        for (int l = 0; l < lanes && start + l < 256; l++) {
          int b = start + l;
          if (lo[l] != (b & 0xF) - 8 || hi[l] != (b >> 4) - 8) {
            fail("byte 0x" + Integer.toHexString(b) + ": low " + lo[l] + " high " + hi[l] + ", want " + ((b & 0xF) - 8) + " and " + ((b >> 4) - 8));
          }
        }
      }
    }
  }
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 200);
  private static final DType[] W_TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};
  private final int threadsBefore = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(threadsBefore);
  }

  @Test
  void simdMatchesReference() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 70), integers().between(1, 400), integers().between(0, W_TYPES.length - 1),
            longs().all())
        .checkAssert((n, k, t, seed) -> check(n, k, W_TYPES[t], seed, true));
  }

  @Test
  void scalarMatchesReference() {
    qt().withExamples(Math.max(1, EXAMPLES / 2))
        .forAll(integers().between(1, 40), integers().between(1, 200), integers().between(0, W_TYPES.length - 1),
            longs().all())
        .checkAssert((n, k, t, seed) -> check(n, k, W_TYPES[t], seed, false));
  }

  @Test
  void largeRowsSpanManyChunks() {
    Random rnd = new Random(7);
    for (DType t : W_TYPES) {
      check(1500, 4096 + 64, t, rnd.nextLong(), true);
    }
  }

  /**
   * Every one of the 65536 F16 and BF16 bit patterns (subnormals, infinities and NaNs included) is
   * converted exactly: row j holds pattern j at position j % 64 and zeros elsewhere, x is all ones,
   * so y[j] must be the pattern's value (+0 for -0; NaN for NaN). k = 64 keeps the patterns inside
   * the SIMD kernels' vector loop (there below the four-row kernels' k: single rows and pairs).
   */
  @Test
  void sixteenBitWeightsConvertEveryPatternExactly() {
    for (DType t : new DType[] {DType.F16, DType.BF16}) {
      for (boolean simd : new boolean[] {true, false}) {
        everyPattern(t, 64, 1 << 16, simd);
      }
    }
  }

  /**
   * The same where rows go in fours: F16 at {@link Gemv#F16_QUAD_K} (against a scaled x) and BF16
   * at {@link Gemv#BF16_QUAD_K} (at least 64 each), in 16 batches of 4096 rows.
   */
  @Test
  void sixteenBitPatternsExactlyInFours() {
    for (DType t : new DType[] {DType.F16, DType.BF16}) {
      everyPattern(t, Math.max(64, t == DType.F16 ? Gemv.F16_QUAD_K : Gemv.BF16_QUAD_K), 4096, true);
    }
  }

  /** All 65536 patterns of t in batches of n rows of length k: row j of batch b holds pattern n b + j at position j % k. */
  private static void everyPattern(DType t, int k, int n, boolean simd) {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment x = arena.allocate(4L * k, 64);
      for (int i = 0; i < k; i++) {
        x.set(KernelRef.F32, 4L * i, 1f);
      }
      MemorySegment w = arena.allocate(2L * n * k, 64);
      MemorySegment y = arena.allocate(4L * n, 64);
      for (int b = 0; b < (1 << 16) / n; b++) {
        w.fill((byte) 0);
        for (int j = 0; j < n; j++) {
          w.set(KernelRef.I16, 2L * ((long) j * k + j % k), (short) (b * n + j));
        }
        run(n, k, x, 0, 1, w, t, 0, k, y, 0, false, simd);
        for (int j = 0; j < n; j++) {
          int p = b * n + j;
          float want = t == DType.F16 ? Float.float16ToFloat((short) p) : Float.intBitsToFloat(p << 16);
          float got = y.get(KernelRef.F32, 4L * j);
          if (!(Float.isNaN(want) ? Float.isNaN(got) : got == want)) {
            fail(t + (simd ? " simd" : " scalar") + ", k=" + k + ": pattern 0x" + Integer.toHexString(p) + " gave " + got
                + ", want " + want);
          }
        }
      }
    }
  }

  /**
   * gemvMany (several weights of one dtype sharing x, one parallel pass) gives each y bit for bit
   * what a separate gemv gives, at 1 and 2 threads; weights of different heights (one smaller
   * than a chunk, one spanning several), padded rows and offsets.
   */
  @Test
  void manyWeightsEqualSeparateCalls() {
    Random rnd = new Random(5);
    for (DType t : W_TYPES) {
      for (int rep = 0; rep < 4; rep++) {
        int k = t.isQuantized() ? 32 * (1 + rnd.nextInt(70)) : 1 + rnd.nextInt(2200);
        int[] ns = {1 + rnd.nextInt(3000), 1 + rnd.nextInt(40), 1 + rnd.nextInt(600)};
        try (Arena arena = Arena.ofShared()) {
          KernelRef.Storage x = KernelRef.randomF32(k + 3, rnd, arena);
          Gemv.Rows[] rows = new Gemv.Rows[ns.length];
          MemorySegment[] want = new MemorySegment[ns.length];
          for (int i = 0; i < ns.length; i++) {
            long wOff = t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(4);
            long rs = k + (t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(3));
            KernelRef.Storage w = KernelRef.random(t, wOff + (ns[i] - 1) * rs + k, rnd, arena);
            want[i] = arena.allocate(4L * (ns[i] + 2), 64);
            Gemv.gemv(ns[i], k, x.seg(), 3, 1, w.seg(), t, wOff, rs, want[i], 1, false);
            rows[i] = new Gemv.Rows(ns[i], w.seg(), wOff, rs, arena.allocate(4L * (ns[i] + 2), 64), 1);
          }
          for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (Gemv.Rows r : rows) {
              r.y().fill((byte) 0);
            }
            Gemv.gemvMany(k, x.seg(), 3, 1, t, rows);
            for (int i = 0; i < ns.length; i++) {
              int diff = KernelRef.firstBitDifference(want[i], rows[i].y());
              if (diff >= 0) {
                fail("gemvMany " + t + " k=" + k + " weight " + i + " (n=" + ns[i] + ") at " + threads + " threads differs from gemv at "
                    + diff);
              }
            }
          }
        }
      }
    }
  }

  /**
   * BF16 rows run in pairs sharing the x loads (from {@link Gemv#BF16_PAIR_K}, by default every
   * k); each must equal, bit for bit, the same row computed alone (a one-row call never pairs), at
   * 1 and 2 threads, with an odd row count, padded rows, and k with only a tail (37), with the
   * one-vector loop and a tail (1061, 2053), and the model shapes (2048, 5632); from {@link
   * Gemv#BF16_QUAD_K} on they go in fours first (301 rows a chunk: 75 fours, then a lone row). F16,
   * whose rows go in fours against a scaled x from {@link Gemv#F16_QUAD_K}, and F32, whose rows go
   * in fours from {@link Gemv#F32_QUAD_K}, must hold the same.
   */
  @Test
  void unquantizedRowGroupsEqualSingleRows() {
    Random rnd = new Random(11);
    for (DType t : new DType[] {DType.BF16, DType.F16, DType.F32}) {
      for (int k : new int[] {37, 1061, 2048, 2053, 5632, Math.max(37, Gemv.BF16_PAIR_K), Math.max(37, Gemv.F32_QUAD_K),
          Math.max(37, Gemv.F16_QUAD_K), Math.max(37, Gemv.BF16_QUAD_K)}) {
        int n = 301;
        long rs = k + 3;
        try (Arena arena = Arena.ofShared()) {
          KernelRef.Storage x = KernelRef.randomF32(k, rnd, arena);
          KernelRef.Storage w = KernelRef.random(t, 2 + (n - 1) * rs + k, rnd, arena);
          MemorySegment want = arena.allocate(4L * n, 64);
          for (int j = 0; j < n; j++) {
            Gemv.gemv(1, k, x.seg(), 0, 1, w.seg(), t, 2 + j * rs, rs, want, j, false);
          }
          for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            MemorySegment got = arena.allocate(4L * n, 64);
            Gemv.gemv(n, k, x.seg(), 0, 1, w.seg(), t, 2, rs, got, 0, false);
            int diff = KernelRef.firstBitDifference(want, got);
            if (diff >= 0) {
              fail(t + " k=" + k + " at " + threads + " threads: row " + diff + " differs from the row computed alone");
            }
          }
        }
      }
    }
  }

  /**
   * One-row F16 GEMVs from {@link Gemv#F16_QUAD_K} on run their rows in fours against x scaled by
   * 2^112 when every |x| < 2^16 (Gemv.scaleF16), with the weights' halves read as value times
   * 2^-112 (and two-row gemvRows calls likewise, both rows or neither): rows must equal, bit for
   * bit, gemvRows' rows of a three-row call, which never scales, with
   * |x| just below 2^16 and from 2^16 on (the unscaled kernels), that x inside the vector part or in
   * the scalar tail (which reads x unscaled, so it may hold any value), at the threshold, at TinyLlama's k (2048, 5632) and with a tail (2053), 1 and 2
   * threads.
   */
  @Test
  void f16ScaledXEqualsUnscaledAtTheLimit() {
    Random rnd = new Random(23);
    for (float big : new float[] {Math.nextDown(0x1p16f), 0x1p16f, -0x1p16f, Float.MAX_VALUE}) {
      for (int k : new int[] {Math.max(64, Gemv.F16_QUAD_K), 2048, 2053, 5632}) {
        for (int at : new int[] {k / 3, k - 1}) {
          int n = 301;
          long rs = k + 3;
          try (Arena arena = Arena.ofShared()) {
            KernelRef.Storage x = KernelRef.randomF32(3L * k, rnd, arena);
            x.seg().set(KernelRef.F32, 4L * at, big); // row 0 of x; rows 1 and 2 are other x
            KernelRef.Storage w = KernelRef.random(DType.F16, (n - 1) * rs + k, rnd, arena);
            MemorySegment want = arena.allocate(12L * n, 64);
            Gemv.gemvRows(3, n, k, x.seg(), 0, k, 1, w.seg(), DType.F16, 0, rs, want, 0, n, false);
            for (int threads = 1; threads <= 2; threads++) {
              Parallel.setThreads(threads);
              MemorySegment got = arena.allocate(4L * n, 64);
              Gemv.gemv(n, k, x.seg(), 0, 1, w.seg(), DType.F16, 0, rs, got, 0, false);
              int diff = KernelRef.firstBitDifference(want.asSlice(0, 4L * n), got);
              if (diff >= 0) {
                fail("F16 k=" + k + " with x holding " + big + " at " + at + ", " + threads + " threads: row " + diff
                    + " differs from gemvRows'");
              }
              MemorySegment got2 = arena.allocate(8L * n, 64); // two rows of x, scaled together or not at all
              Gemv.gemvRows(2, n, k, x.seg(), 0, k, 1, w.seg(), DType.F16, 0, rs, got2, 0, n, false);
              diff = KernelRef.firstBitDifference(want.asSlice(0, 8L * n), got2);
              if (diff >= 0) {
                fail("F16 k=" + k + " two rows of x, row 0 holding " + big + " at " + at + ", " + threads
                    + " threads: y flat index " + diff + " differs from the three-row call's");
              }
            }
          }
        }
      }
    }
  }

  /**
   * F16 infinities and NaNs in rows that the scaled four-row kernels take (gemv's and, with two
   * equal rows of x, gemvRows'; at the threshold, 2048 and 5632; at 2053 also in the tail, and in
   * the first and last element of a row): each row holding one gives the IEEE result (NaN, or the
   * infinity of its product's sign), as the scalar twin does, and every other row, in the same four
   * or not, equals that row computed alone (one row: never in a four) bit for bit.
   */
  @Test
  void f16InfinitiesAndNanInScaledRows() {
    Random rnd = new Random(29);
    short[] specials = {(short) 0x7C00, (short) 0xFC00, (short) 0x7E00, (short) 0x7C01, (short) 0xFE12};
    for (int k : new int[] {Math.max(64, Gemv.F16_QUAD_K), 2048, 2053, 5632}) {
      int n = 301;
      long rs = k + 3;
      try (Arena arena = Arena.ofShared()) {
        KernelRef.Storage x = KernelRef.randomF32(2L * k, rnd, arena); // row 1 for gemvRows
        x.seg().set(KernelRef.F32, 0, 0f); // an infinity at element 0 gives NaN
        MemorySegment.copy(x.seg(), 0, x.seg(), 4L * k, 4L * k);
        KernelRef.Storage w = KernelRef.random(DType.F16, (n - 1) * rs + k, rnd, arena);
        int[] rows = {0, 1, 75, 76, 150, 299, 300};
        for (int r = 0; r < rows.length; r++) {
          int at = r == 0 ? 0 : r == rows.length - 1 ? k - 1 : 1 + rnd.nextInt(k - 1);
          w.seg().set(KernelRef.I16, 2L * (rows[r] * rs + at), specials[r % specials.length]);
        }
        MemorySegment scalar = arena.allocate(4L * n, 64);
        Gemv.gemvScalar(n, k, x.seg(), 0, 1, w.seg(), DType.F16, 0, rs, scalar, 0, false);
        MemorySegment alone = arena.allocate(4L * n, 64);
        for (int j = 0; j < n; j++) {
          Gemv.gemv(1, k, x.seg(), 0, 1, w.seg(), DType.F16, j * rs, rs, alone, j, false);
        }
        for (int threads = 1; threads <= 2; threads++) {
          Parallel.setThreads(threads);
          MemorySegment got = arena.allocate(12L * n, 64); // gemv's y, then gemvRows' two rows
          Gemv.gemv(n, k, x.seg(), 0, 1, w.seg(), DType.F16, 0, rs, got, 0, false);
          Gemv.gemvRows(2, n, k, x.seg(), 0, k, 1, w.seg(), DType.F16, 0, rs, got, n, n, false);
          for (int j = 0; j < 3 * n; j++) {
            float g = got.get(KernelRef.F32, 4L * j);
            String what = "F16 k=" + k + " row " + (j % n) + (j < n ? "" : " of gemvRows' x row " + (j / n - 1)) + " at "
                + threads + " threads: ";
            int row = j % n;
            float a = alone.get(KernelRef.F32, 4L * row);
            float sc = scalar.get(KernelRef.F32, 4L * row);
            boolean special = false;
            for (int r : rows) {
              special |= r == row;
            }
            if (special) {
              if (Float.isFinite(sc) || !(Float.isNaN(sc) ? Float.isNaN(g) && Float.isNaN(a) : g == sc && a == sc)) {
                fail(what + "got " + g + " (alone " + a + "), the scalar twin " + sc);
              }
            } else if (Float.floatToRawIntBits(g) != Float.floatToRawIntBits(a)) {
              fail(what + "got " + g + ", computed alone " + a);
            }
          }
        }
      }
    }
  }

  /**
   * Q8_0 and Q4_0 rows run in pairs, half a chunk apart, from {@link Gemv#QUANT_QUAD_K} on in fours a
   * quarter of a chunk apart, Q8_0 rows from {@link Gemv#QUANT_OCT_K} on in eights an eighth of a
   * chunk apart instead (the rest in pairs and a lone row), sharing the x loads; each must equal,
   * bit for bit, the same row computed alone, at 1 and 2 threads, with odd and even row counts (7:
   * a four, a pair and a lone row, or three pairs and a lone row; 15: an eight, three pairs and a
   * lone row), offset and padded rows, several chunks, and accumulate on.
   */
  @Test
  void quantizedRowPairsEqualSingleRows() {
    Random rnd = new Random(13);
    for (DType t : new DType[] {DType.Q8_0, DType.Q4_0}) {
      for (int k : new int[] {32, 2048, 4096, 5632, Math.max(32, Gemv.QUANT_QUAD_K / 32 * 32),
          Math.max(32, Gemv.QUANT_OCT_K / 32 * 32)}) {
        for (int n : new int[] {3, 4, 7, 15, 1501}) {
          long rs = k + 64;
          try (Arena arena = Arena.ofShared()) {
            KernelRef.Storage x = KernelRef.randomF32(k, rnd, arena);
            KernelRef.Storage w = KernelRef.random(t, 32 + (n - 1) * rs + k, rnd, arena);
            KernelRef.Storage y0 = KernelRef.randomF32(n, rnd, arena);
            MemorySegment want = arena.allocate(4L * n, 64);
            MemorySegment.copy(y0.seg(), 0, want, 0, 4L * n);
            for (int j = 0; j < n; j++) {
              Gemv.gemv(1, k, x.seg(), 0, 1, w.seg(), t, 32 + j * rs, rs, want, j, true);
            }
            for (int threads = 1; threads <= 2; threads++) {
              Parallel.setThreads(threads);
              MemorySegment got = arena.allocate(4L * n, 64);
              MemorySegment.copy(y0.seg(), 0, got, 0, 4L * n);
              Gemv.gemv(n, k, x.seg(), 0, 1, w.seg(), t, 32, rs, got, 0, true);
              int diff = KernelRef.firstBitDifference(want, got);
              if (diff >= 0) {
                fail(t + " k=" + k + " n=" + n + " at " + threads + " threads: row " + diff
                    + " differs from the row computed alone");
              }
            }
          }
        }
      }
    }
  }

  @Test
  void rejectsPartialBlocks() {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment s = arena.allocate(1 << 12);
      assertThrows(IllegalArgumentException.class, () -> Gemv.gemv(2, 48, s, 0, s, DType.Q4_0, 0, 64, s, 0, false));
      assertThrows(IllegalArgumentException.class, () -> Gemv.gemv(2, 64, s, 0, s, DType.Q8_0, 16, 64, s, 0, false));
    }
  }

  private static void check(int n, int kIn, DType t, long seed, boolean simd) {
    Random rnd = new Random(seed);
    int k = t.isQuantized() ? 32 * Math.max(1, (kIn + 31) / 32) : kIn;
    long xStride = 1 + rnd.nextInt(3);
    long xOff = rnd.nextInt(4);
    long wOff = t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(4);
    long wRowStride = k + (t.isQuantized() ? 32L * rnd.nextInt(2) : rnd.nextInt(3));
    long yOff = rnd.nextInt(4);
    boolean accumulate = rnd.nextBoolean();
    String what = "n=" + n + " k=" + k + " " + t + " xOff=" + xOff + " xStride=" + xStride + " wOff=" + wOff
        + " wRowStride=" + wRowStride + " yOff=" + yOff + " accumulate=" + accumulate;
    try (Arena arena = Arena.ofShared()) {
      KernelRef.Storage x = KernelRef.randomF32(xOff + (k - 1) * xStride + 1, rnd, arena);
      KernelRef.Storage w = KernelRef.random(t, wOff + (n - 1) * wRowStride + k, rnd, arena);
      KernelRef.Storage y0 = KernelRef.randomF32(yOff + n + 2, rnd, arena);
      MemorySegment y1 = KernelRef.copy(y0.seg(), arena);
      MemorySegment y2 = KernelRef.copy(y0.seg(), arena);
      Parallel.setThreads(1);
      run(n, k, x.seg(), xOff, xStride, w.seg(), t, wOff, wRowStride, y1, yOff, accumulate, simd);
      Parallel.setThreads(2);
      run(n, k, x.seg(), xOff, xStride, w.seg(), t, wOff, wRowStride, y2, yOff, accumulate, simd);
      int diff = KernelRef.firstBitDifference(y1, y2);
      if (diff >= 0) {
        fail("forward: 1 and 2 threads differ at y flat index " + diff + " for " + what);
      }
      float[] got = KernelRef.floats(y1);
      for (int i = 0; i < got.length; i++) {
        boolean inWindow = i >= yOff && i < yOff + n;
        if (!inWindow) {
          if (got[i] != (float) y0.values()[i]) {
            fail("forward: wrote y flat index " + i + " outside [yOff, yOff + n) for " + what);
          }
          continue;
        }
        long j = i - yOff;
        double ref = accumulate ? y0.values()[i] : 0;
        double mag = Math.abs(ref);
        for (int p = 0; p < k; p++) {
          double prod = x.values()[(int) (xOff + p * xStride)] * w.values()[(int) (wOff + j * wRowStride + p)];
          ref += prod;
          mag += Math.abs(prod);
        }
        double err = Math.abs(got[i] - ref);
        double tol = (k + 2) * U * mag + 1e-30;
        if (!(err <= tol)) {
          fail("forward (" + (simd ? "simd" : "scalar") + "): y[" + j + "] = " + got[i] + ", reference " + ref
              + ", |err| " + err + " > tol " + tol + " for " + what);
        }
      }
    }
  }

  private static void run(int n, int k, MemorySegment x, long xOff, long xStride, MemorySegment w, DType t, long wOff,
      long wRowStride, MemorySegment y, long yOff, boolean accumulate, boolean simd) {
    if (simd) {
      Gemv.gemvSimd(n, k, x, xOff, xStride, w, t, wOff, wRowStride, y, yOff, accumulate);
    } else {
      Gemv.gemvScalar(n, k, x, xOff, xStride, w, t, wOff, wRowStride, y, yOff, accumulate);
    }
  }
}
