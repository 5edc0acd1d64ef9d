package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.KernelRef.F32;
import static dev.fovea.tensor.cpu.KernelRef.U;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * {@link Gemm#sgemm} (SIMD and scalar twin) against a naive double-precision reference.
 *
 * <p>Tolerance, per element: |c - ref| <= (k + 2) * u * (|c0| + sum_k |a| |b|) + 1e-30, with u =
 * 2^-24: the first-order bound of a recursive f32 sum of k + 1 terms (the accumulate term c0 and k
 * products; fma rounds once per term). B's F16/BF16/Q values are decoded exactly in double first,
 * so the bound covers only the f32 arithmetic. Also checked: 1 and 2 threads give bit-identical C,
 * and C outside the m x n window (row padding) is never written.
 */
class GemmTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 200);
  private static final DType[] B_TYPES = {DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0};
  private final int threadsBefore = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(threadsBefore);
  }

  /** One random problem: sizes, layouts, offsets and dtype all come from the seed. */
  private record Case(int m, int n, int k, DType bType, long aOff, long aRs, long aCs, long bOff, long bRs, long bCs,
      long cOff, long cRs, boolean accumulate) {

    static Case random(int m, int n, int kIn, Random rnd) {
      return random(m, n, kIn, rnd, B_TYPES[rnd.nextInt(B_TYPES.length)]);
    }

    static Case random(int m, int n, int kIn, Random rnd, DType bType) {
      int k = bType.isQuantized() ? 32 * Math.max(1, (kIn + 31) / 32) : kIn;
      int padA = rnd.nextInt(3);
      boolean aTransposed = rnd.nextBoolean();
      long aRs = aTransposed ? 1 : k + padA;
      long aCs = aTransposed ? m + padA : 1;
      long aOff = rnd.nextInt(5);
      long bRs;
      long bCs;
      long bOff;
      if (bType.isQuantized()) {
        bRs = 1;
        bCs = k + 32L * rnd.nextInt(2);
        bOff = 32L * rnd.nextInt(2);
      } else {
        int layout = rnd.nextInt(3);
        int pad = rnd.nextInt(3);
        bOff = rnd.nextInt(5);
        if (layout == 0) { // row-major [k, n]
          bRs = n + pad;
          bCs = 1;
        } else if (layout == 1) { // [n, k] (Linear weight)
          bRs = 1;
          bCs = k + pad;
        } else { // strided in both, e.g. every other column of a wider matrix
          bRs = 2L * n + pad + 1;
          bCs = 2;
        }
      }
      long cRs = n + rnd.nextInt(4);
      long cOff = rnd.nextInt(5);
      return new Case(m, n, k, bType, aOff, aRs, aCs, bOff, bRs, bCs, cOff, cRs, rnd.nextBoolean());
    }
  }

  @Test
  void simdMatchesReferenceOnSmallShapes() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 20), integers().between(1, 70), integers().between(1, 300), longs().all())
        .checkAssert((m, n, k, seed) -> check(Case.random(m, n, k, new Random(seed)), seed, true));
  }

  @Test
  void scalarMatchesReferenceOnSmallShapes() {
    qt().withExamples(Math.max(1, EXAMPLES / 4))
        .forAll(integers().between(1, 12), integers().between(1, 40), integers().between(1, 80), longs().all())
        .checkAssert((m, n, k, seed) -> check(Case.random(m, n, k, new Random(seed)), seed, false));
  }

  @Test
  void simdMatchesReferenceAcrossBlocksAndChunks() {
    // Shapes that span several NC column blocks, KC panels and row groups, for every B dtype.
    Random rnd = new Random(42);
    int[][] shapes = {{67, 530, 300}, {9, 300, 520}, {130, 33, 64}, {2, 600, 96}};
    for (int[] s : shapes) {
      for (DType t : B_TYPES) {
        check(Case.random(s[0], s[1], s[2], rnd, t), rnd.nextLong(), true);
      }
    }
  }

  @Test
  void simdMatchesReferenceForLinearWeights() {
    // B stored [n, k] (bRs == 1), as Linear reads it, for the float dtypes: n and k odd or not
    // multiples of the 16 x 16 transpose, k across KC panels, B a window of a wider weight (row
    // stride past k, offset), A row-major with padding or transposed.
    DType[] types = {DType.F32, DType.F16, DType.BF16};
    qt().withExamples(Math.max(1, EXAMPLES / 4))
        .forAll(integers().between(1, 40), integers().between(1, 100), integers().between(1, 700), longs().all())
        .checkAssert((m, n, k, seed) -> {
          Random rnd = new Random(seed);
          DType t = types[rnd.nextInt(types.length)];
          boolean aTransposed = rnd.nextInt(4) == 0;
          int padA = rnd.nextInt(20);
          long aRs = aTransposed ? 1 : k + padA;
          long aCs = aTransposed ? m + padA : 1;
          Case cs = new Case(m, n, k, t, rnd.nextInt(5), aRs, aCs, rnd.nextInt(50), 1, k + rnd.nextInt(40),
              rnd.nextInt(5), n + rnd.nextInt(4), rnd.nextBoolean());
          check(cs, seed, true);
        });
  }

  @Test
  void linearWeightsAtVitShapes() {
    // A few hundred rows against [n, k] weights: several column blocks, KC panels and a short
    // last row panel, as in a ViT layer (197 = 24 * 8 + 5 tokens), for each float dtype; k = 1600
    // is split into three panels (544, 544, 512) and n = 70 ends in a group of 6 columns, for the
    // quantized types too (decoded L columns at a time, then transposed).
    Random rnd = new Random(7);
    int[][] shapes = {{197, 96, 300}, {61, 130, 530}, {37, 70, 1600}};
    for (int[] s : shapes) {
      for (DType t : B_TYPES) {
        int m = s[0];
        int n = s[1];
        int k = s[2];
        if (t.isQuantized() && k % 32 != 0) {
          continue;
        }
        long bOff = t.isQuantized() ? 32 : 5;
        long bCs = t.isQuantized() ? k + 32 : k + 7;
        Case cs = new Case(m, n, k, t, 3, k + 1, 1, bOff, 1, bCs, 2, n + 1, rnd.nextBoolean());
        check(cs, rnd.nextLong(), true);
      }
    }
  }

  @Test
  void oneColumnGoesThroughGemv() {
    // n == 1, F32 B, row-major A, unit C row stride: the GEMV fast path (A as the weight); the
    // strides of x (B's column) and A's padding still vary.
    Random rnd = new Random(11);
    int[][] shapes = {{1, 1, 1}, {5, 1, 17}, {300, 1, 70}, {2100, 1, 129}};
    for (int[] s : shapes) {
      for (int trial = 0; trial < 4; trial++) {
        int m = s[0];
        int k = s[2];
        long bRs = 1 + rnd.nextInt(3);
        Case cs = new Case(m, 1, k, DType.F32, rnd.nextInt(5), k + rnd.nextInt(3), 1, rnd.nextInt(5), bRs, 1,
            rnd.nextInt(5), 1, rnd.nextBoolean());
        check(cs, rnd.nextLong(), true);
      }
    }
  }

  @Test
  void rejectsBadQuantizedLayouts() {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment s = arena.allocate(1 << 12);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Gemm.sgemm(2, 2, 33, s, 0, 33, 1, s, DType.Q8_0, 0, 1, 64, s, 0, 2, false));
      assertEquals(true, e.getMessage().contains("Q8_0"), e.getMessage());
      assertThrows(IllegalArgumentException.class,
          () -> Gemm.sgemm(2, 2, 32, s, 0, 32, 1, s, DType.I32, 0, 1, 32, s, 0, 2, false));
    }
  }

  /**
   * Products whose A (m x k floats) is at least Gemm's pre-pack threshold and which span several
   * column blocks take the pre-packed A (packed once for every block): they must match the
   * reference for every B dtype, A row-major with padding or transposed, and equal bit for bit the
   * same product computed twelve rows at a time (each slice's A far below the threshold, so packed
   * per chunk as before): the same operations in the same order.
   */
  @Test
  void prePackedAMatchesReferenceAndTheUnpackedPath() {
    Random rnd = new Random(19);
    int m = 300;
    int n = 200;
    int k = 928; // 278,400 floats of A, three k panels
    for (DType t : B_TYPES) {
      for (boolean aTransposed : new boolean[] {false, true}) {
        long aRs = aTransposed ? 1 : k + 3;
        long aCs = aTransposed ? m + 5 : 1;
        long bCs = t.isQuantized() ? k + 32 : k + 7;
        Case cs = new Case(m, n, k, t, 2, aRs, aCs, t.isQuantized() ? 32 : 5, 1, bCs, 1, n + 2, rnd.nextBoolean());
        check(cs, rnd.nextLong(), true);
        try (Arena arena = Arena.ofShared()) {
          long aNumel = cs.aOff + (m - 1) * cs.aRs + (k - 1) * cs.aCs + 1;
          KernelRef.Storage a = KernelRef.randomF32(aNumel, rnd, arena);
          KernelRef.Storage b = KernelRef.random(t, cs.bOff + (n - 1) * cs.bCs + k, rnd, arena);
          long cNumel = cs.cOff + (m - 1) * cs.cRs + n;
          KernelRef.Storage c0 = KernelRef.randomF32(cNumel, rnd, arena);
          MemorySegment whole = KernelRef.copy(c0.seg(), arena);
          Gemm.sgemmSimd(m, n, k, a.seg(), cs.aOff, cs.aRs, cs.aCs, b.seg(), t, cs.bOff, 1, cs.bCs, whole, cs.cOff,
              cs.cRs, true);
          MemorySegment slices = KernelRef.copy(c0.seg(), arena);
          for (int i = 0; i < m; i += 12) { // 12 rows: a full and a padded micro-panel, never the GEMV (<= 4 rows)
            int rows = Math.min(12, m - i);
            Gemm.sgemmSimd(rows, n, k, a.seg(), cs.aOff + i * cs.aRs, cs.aRs, cs.aCs, b.seg(), t, cs.bOff, 1, cs.bCs,
                slices, cs.cOff + i * cs.cRs, cs.cRs, true);
          }
          int diff = KernelRef.firstBitDifference(whole, slices);
          if (diff >= 0) {
            fail(t + (aTransposed ? " transposed A" : "") + ": the pre-packed product differs from 12-row slices at C flat index " + diff);
          }
        }
      }
    }
  }

  private static void check(Case cs, long seed, boolean simd) {
    Random rnd = new Random(seed ^ 0x5DEECE66DL);
    int m = cs.m, n = cs.n, k = cs.k;
    try (Arena arena = Arena.ofShared()) {
      long aNumel = cs.aOff + (m - 1) * cs.aRs + (k - 1) * cs.aCs + 1;
      long bNumel = cs.bType.isQuantized()
          ? cs.bOff + (n - 1) * cs.bCs + k
          : cs.bOff + (k - 1) * cs.bRs + (n - 1) * cs.bCs + 1;
      long cNumel = cs.cOff + (m - 1) * cs.cRs + n + 3;
      KernelRef.Storage a = KernelRef.randomF32(aNumel, rnd, arena);
      KernelRef.Storage b = KernelRef.random(cs.bType, bNumel, rnd, arena);
      KernelRef.Storage c0 = KernelRef.randomF32(cNumel, rnd, arena);

      MemorySegment c1 = KernelRef.copy(c0.seg(), arena);
      Parallel.setThreads(1);
      run(cs, a.seg(), b.seg(), c1, simd);

      // 2 threads must reproduce 1 thread bit for bit.
      MemorySegment c2 = KernelRef.copy(c0.seg(), arena);
      Parallel.setThreads(2);
      run(cs, a.seg(), b.seg(), c2, simd);
      int diff = KernelRef.firstBitDifference(c1, c2);
      if (diff >= 0) {
        fail("forward: 1 and 2 threads differ at C flat index " + diff + " for " + cs);
      }

      float[] got = KernelRef.floats(c1);
      boolean[] inWindow = new boolean[got.length];
      double worst = 0;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          int ci = (int) (cs.cOff + i * cs.cRs + j);
          inWindow[ci] = true;
          double init = cs.accumulate ? c0.values()[ci] : 0;
          double ref = init;
          double mag = Math.abs(init);
          for (int p = 0; p < k; p++) {
            double av = a.values()[(int) (cs.aOff + i * cs.aRs + p * cs.aCs)];
            double bv = b.values()[(int) (cs.bOff + p * cs.bRs + j * cs.bCs)];
            ref += av * bv;
            mag += Math.abs(av * bv);
          }
          double err = Math.abs(got[ci] - ref);
          double tol = (k + 2) * U * mag + 1e-30;
          worst = Math.max(worst, err / tol);
          if (!(err <= tol)) {
            fail("forward (" + (simd ? "simd" : "scalar") + "): C[" + i + "," + j + "] = " + got[ci] + ", reference "
                + ref + ", |err| " + err + " > tol " + tol + " for " + cs);
          }
        }
      }
      for (int ci = 0; ci < got.length; ci++) {
        if (!inWindow[ci] && Float.floatToRawIntBits(got[ci]) != Float.floatToRawIntBits((float) c0.values()[ci])) {
          fail("forward: wrote C flat index " + ci + " outside the m x n window for " + cs);
        }
      }
    }
  }

  private static void run(Case cs, MemorySegment a, MemorySegment b, MemorySegment c, boolean simd) {
    if (simd) {
      Gemm.sgemmSimd(cs.m, cs.n, cs.k, a, cs.aOff, cs.aRs, cs.aCs, b, cs.bType, cs.bOff, cs.bRs, cs.bCs, c, cs.cOff,
          cs.cRs, cs.accumulate);
    } else {
      Gemm.sgemmScalar(cs.m, cs.n, cs.k, a, cs.aOff, cs.aRs, cs.aCs, b, cs.bType, cs.bOff, cs.bRs, cs.bCs, c, cs.cOff,
          cs.cRs, cs.accumulate);
    }
  }

  @Test
  void zeroDepthClearsOrKeepsC() {
    try (Arena arena = Arena.ofShared()) {
      MemorySegment a = arena.allocate(64);
      MemorySegment c = arena.allocate(4 * 6);
      for (int i = 0; i < 6; i++) {
        c.set(F32, 4L * i, 1f);
      }
      Gemm.sgemmSimd(2, 3, 0, a, 0, 0, 1, a, DType.F32, 0, 3, 1, c, 0, 3, true);
      assertEquals(1f, c.get(F32, 20));
      Gemm.sgemmSimd(2, 3, 0, a, 0, 0, 1, a, DType.F32, 0, 3, 1, c, 0, 3, false);
      assertEquals(0f, c.get(F32, 20));
    }
  }
}
