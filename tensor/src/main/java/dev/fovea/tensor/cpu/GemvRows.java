package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.BlockDecode.I16;
import static dev.fovea.tensor.cpu.BlockDecode.QK;
import static dev.fovea.tensor.cpu.Gemv.BS;
import static dev.fovea.tensor.cpu.Gemv.IS;
import static dev.fovea.tensor.cpu.Gemv.L;
import static dev.fovea.tensor.cpu.Gemv.LE;
import static dev.fovea.tensor.cpu.Gemv.Q4_BYTES;
import static dev.fovea.tensor.cpu.Gemv.Q8_BYTES;
import static dev.fovea.tensor.cpu.Gemv.S;
import static dev.fovea.tensor.cpu.Gemv.f32;
import static dev.fovea.tensor.cpu.Gemv.i32;
import static dev.fovea.tensor.cpu.Gemv.Q4_MAGIC;
import static dev.fovea.tensor.cpu.Gemv.Q4_OR;
import static dev.fovea.tensor.cpu.Gemv.q8;
import static dev.fovea.tensor.cpu.Gemv.store;

import dev.fovea.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * The row kernels of {@link Gemv#gemvRows}: one weight row against m = 2 to 4 rows of x, so each
 * weight row is read once for all of them (contrastive decoding steps its branches as one batch of
 * rows; a decode step reads the weights at the memory's bandwidth, so two rows cost about one).
 *
 * <pre>
 * Y[r, j] = (accumulate ? Y[r, j] : 0) + sum_k X[r, k] * W[j, k]      r in [0, m), j in [j0, j1)
 * </pre>
 *
 * <p>Bit-identity: for each row of x a kernel keeps the accumulators of the one-row kernel of
 * {@link Gemv} (F32: one; BF16/F16: the even and odd pair; Q8_0/Q4_0: one per block and one across
 * blocks) and feeds them exactly its sequence of fmas, then reduces them with the same {@link
 * CpuMath#hsum} and scalar tail. The weight vector (converted once) is shared; only x differs. So
 * Y[r] equals a one-row gemv of X[r] bit for bit, and every row of a contrastive batch equals its
 * branch stepped alone.
 *
 * <p>Shape: each family has a two-row kernel (m = 2) and a four-row one (m = 3 and 4; for m = 3 row
 * 3 reads row 2's x again and is not stored), with no test of m inside a loop. Measured on this
 * project's 2-core Zen 5 VM, TinyLlama gate/up (2048 x 5632), one thread, CPU time per call (the VM
 * was shared with other builds, so wall times moved 2x): the four-row kernel at m = 2 (rows 2 and 3
 * reading row 1) took 1.41-1.52x one row's time for F32 and 1.85-3.1x for Q8_0, two rows alone
 * 1.15-1.19x and 1.55-1.66x. One kernel with rows 2 and 3 behind the tests m > 2 and m > 3 (which
 * C2 unswitches) ran as fast, but boxed a vector per loop step now and then (12 MB per 2048 x 1024
 * call, KernelAllocationTest, a different dtype in each of 3 runs): its first compile, profiled at
 * m = 2 only, has uncommon traps for rows 2 and 3, and one of the recompiles after them went wrong.
 * Each kernel is one small method whose vectors never cross a call (Gemv's notes on C2's inlining
 * budget).
 *
 * <p>What limits m = 3 and 4 is x: four rows of k = 2048 are 32 KB of L1 (48 KB on Zen 5) beside
 * the weight stream, and are read again for every weight row. With every row reading row 0's x
 * (wrong sums, for the measurement only) Q8_0 at m = 4 took 1.11-1.21 ms instead of 1.84-1.91.
 *
 * <p>Offsets are in bytes: o0 is the weight row's, x1..x3 those of x rows 1..3 in the prepared x
 * (row 0 at 0), xs from one prepared row to the next.
 */
final class GemvRows {
  private GemvRows() {}

  /**
   * Rows [j0, j1) of one weight against the m prepared rows of x (row r from byte r * xs of xv;
   * scaled: m is 2, the weight F16, and rows 2 and 3 hold rows 0 and 1 times 2^112).
   */
  static void rows(int m, DType wType, MemorySegment w, long wOff, long wRowStride, MemorySegment xv, boolean scaled,
      long xs, int k, long j0, long j1, MemorySegment y, long yOff, long yRs, boolean accumulate) {
    boolean two = m == 2;
    long x2 = 2 * xs, x3 = (m - 1) * xs; // m = 3: row 3 reads row 2 again
    switch (wType) {
      case F32 -> {
        for (long j = j0; j < j1; j++) {
          long o = (wOff + j * wRowStride) * 4;
          if (two) {
            dotF32x2(w, o, xv, xs, k, y, yOff + j, yRs, accumulate);
          } else {
            dotF32x4(m, w, o, xv, xs, x2, x3, k, y, yOff + j, yRs, accumulate);
          }
        }
      }
      case BF16, F16 -> {
        boolean f16 = wType == DType.F16;
        MemorySegment row = rowBuffer(k);
        if (scaled) {
          // four weight rows a quarter chunk apart against both rows of x 2^112 (Gemv.dotF16Quad's form)
          long rs = 2 * wRowStride, o0 = 2 * wOff;
          long q = (j1 - j0) / 4;
          for (long j = j0; j < j0 + q; j++) {
            if (!dotF16x2Quad(w, o0 + j * rs, q * rs, xv, xs, k, y, yOff + j, q, yRs, accumulate)) {
              for (int r = 0; r < 4; r++) { // an infinity or NaN among them: one by one, as below
                long o = o0 + (j + r * q) * rs;
                f16Row(w, o, k, row);
                dot16x2(row, w, o, true, xv, xs, k, y, yOff + j + r * q, yRs, accumulate);
              }
            }
          }
          j0 += 4 * q;
        }
        if (two && !f16 && BF16_X2_PAIRS) {
          // weight rows j and j + half against both rows of x: every x load serves two weight rows
          long rs = 2 * wRowStride, o0 = 2 * wOff;
          if (BF16_X2_QUADS) {
            long q = (j1 - j0) / 4;
            for (long j = j0; j < j0 + q; j++) {
              dotBf16x2Quad(w, o0 + j * rs, q * rs, xv, xs, k, y, yOff + j, q, yRs, accumulate);
            }
            j0 += 4 * q;
          }
          long half = (j1 - j0) / 2;
          for (long j = j0; j < j0 + half; j++) {
            dotBf16x2Pair(w, o0 + j * rs, half * rs, xv, xs, k, y, yOff + j, yOff + j + half, yRs, accumulate);
          }
          j0 += 2 * half;
        }
        for (long j = j0; j < j1; j++) {
          long o = (wOff + j * wRowStride) * 2;
          if (f16) {
            f16Row(w, o, k, row);
          } else {
            bf16Row(w, o, k, row);
          }
          if (two) {
            dot16x2(row, w, o, f16, xv, xs, k, y, yOff + j, yRs, accumulate);
          } else {
            dot16x4(m, row, w, o, f16, xv, xs, x2, x3, k, y, yOff + j, yRs, accumulate);
          }
        }
      }
      case Q8_0 -> {
        long o = wType.byteOffset(wOff), rs = wType.byteOffset(wRowStride);
        for (long j = j0; j < j1; j++) {
          if (two) {
            dotQ8_0x2(w, o + j * rs, xv, xs, k, y, yOff + j, yRs, accumulate);
          } else {
            dotQ8_0x4(m, w, o + j * rs, xv, xs, x2, x3, k, y, yOff + j, yRs, accumulate);
          }
        }
      }
      case Q4_0 -> {
        long o = wType.byteOffset(wOff), rs = wType.byteOffset(wRowStride);
        for (long j = j0; j < j1; j++) {
          if (two) {
            dotQ4_0x2(w, o + j * rs, xv, xs, k, y, yOff + j, yRs, accumulate);
          } else {
            dotQ4_0x4(m, w, o + j * rs, xv, xs, x2, x3, k, y, yOff + j, yRs, accumulate);
          }
        }
      }
      case I32, I64 -> throw new IllegalStateException("unreachable: checked by Gemv");
    }
  }

  /*
   * F32: a_r = fma(w[i, i+L), x_r[i, i+L), a_r), then hsum(a_r) and the scalar tail, as Gemv's
   * dotF32. The results are stored from one hsum call site (see Gemv.dotBf16Pair).
   */

  private static void dotF32x2(MemorySegment w, long o0, MemorySegment x, long x1, int k, MemorySegment y, long yj,
      long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    long kb = 4L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      FloatVector v = f32(w, o0 + d);
      a0 = v.fma(f32(x, d), a0);
      a1 = v.fma(f32(x, x1 + d), a1);
    }
    int i = (int) (d / 4);
    for (int r = 0; r < 2; r++) {
      store(y, yj + r * yRs, Gemv.tailF32(CpuMath.hsum(r == 0 ? a0 : a1), w, o0, x, r * x1, i, k), accumulate);
    }
  }

  private static void dotF32x4(int m, MemorySegment w, long o0, MemorySegment x, long x1, long x2, long x3, int k,
      MemorySegment y, long yj, long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    long kb = 4L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      FloatVector v = f32(w, o0 + d);
      a0 = v.fma(f32(x, d), a0);
      a1 = v.fma(f32(x, x1 + d), a1);
      a2 = v.fma(f32(x, x2 + d), a2);
      a3 = v.fma(f32(x, x3 + d), a3);
    }
    int i = (int) (d / 4);
    for (int r = 0; r < m; r++) {
      FloatVector a = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
      store(y, yj + r * yRs, Gemv.tailF32(CpuMath.hsum(a), w, o0, x, r * x1, i, k), accumulate);
    }
  }

  /** Per thread: the vector part of one 16-bit weight row converted to f32 ({@link #f16Row}, {@link #bf16Row}). */
  private static final ThreadLocal<MemorySegment> ROW = ThreadLocal.withInitial(() -> MemorySegment.NULL);

  private static MemorySegment rowBuffer(int k) {
    MemorySegment row = ROW.get();
    if (row.byteSize() < 4L * k) {
      row = Arena.ofAuto().allocate(Gemv.xRowBytes(k), 64);
      ROW.set(row);
    }
    return row;
  }

  /*
   * 16-bit rows are converted to f32 first, one pass into L1 per row, exactly as Gemv's dotBf16 and
   * dotF16 convert them in registers: per L ints, the even elements (the low halves) at float d / 2
   * and the odd ones (the high halves) at d / 2 + L, the order of the prepared x; a tail under 2L
   * elements is left to the scalar tail. F16 must: its multi-row kernel once converted in its own
   * loop, beside four rows of fmas, which crossed C2's inlining budget and boxed a vector per step
   * (7 MB per 2048 x 1024 call, KernelAllocationTest). (Since 2026-12-07 two rows of x whose |x| <
   * 2^16 take dotF16x2Quad instead: Gemv.dotF16Quad's cheaper form converts in registers.) BF16
   * may: converting in registers measured the same (1.68-1.73 against 1.72-1.75 ms per call at m =
   * 2, conditions as above), and so both dtypes share dot16x2 / dot16x4: the even elements fma into
   * a_r and the odd ones into b_r against the deinterleaved x, then hsum(a_r + b_r) and the scalar
   * tail from the 16-bit row at
   * byte o0 of w, as Gemv's dotBf16 and dotF16 (whose wide and narrow loops give each accumulator
   * the same fmas).
   *
   * These are the slowest of the multi-row kernels: m = 2 took 1.7-2.8x one row's CPU time where
   * F32 took 1.0-1.2x (GemvRowsBench, one thread). A 16-bit weight byte holds twice the elements of
   * an F32 one, so two rows of x are read at twice the bytes per weight byte, and the one-row
   * kernels already found x's reads to be their limit (Gemv's notes on BF16_PAIR_K). Tried and
   * dropped: weight rows j and j + 1 converted into two rows and run against both rows of x at once
   * (x loads shared by two weight rows, as dotBf16Pair does): 2.0-2.4x against 1.9-2.1x. BF16 at
   * m = 2 now runs four weight rows at a time converted in registers (dotBf16x2Quad, below), which
   * reads x once per four weight rows; these row-buffer kernels keep F16, BF16 at m = 3 and 4, and
   * the last row of a chunk.
   */

  /**
   * BF16 at m = 2 (default on; {@code -Dfovea.gemv.bf16.x2Pairs=false} restores the row-buffer
   * kernel {@link #dot16x2} for every row): two weight rows (byte offsets o0 and o0 + d1, half a
   * chunk apart as {@link Gemv}'s one-row pairs) against the two rows of x, converted in registers.
   * Per 2L elements of each weight row: two x loads per row of x and one weight load per weight
   * row, shared by eight fmas (the row-buffer kernel loads six vectors and stores two for four
   * fmas). Each of the four outputs keeps the even/odd accumulators of {@link Gemv}'s dotBf16 and
   * its sequence of fmas, so the results stay bit-identical to one-row GEMVs.
   *
   * <p>Before pairs run, four weight rows at a time go through {@link #dotBf16x2Quad} (default
   * on; {@code -Dfovea.gemv.bf16.x2Quads=false} leaves them to pairs): four x loads per four weight
   * loads and sixteen fmas. GemvRowsBench, 2 rows over 1 row by wall time, one run per variant
   * with the machine loaded by other builds (load average 6-10), threads 1 / 2:
   *
   * <pre>
   * k x n         row buffer    pairs         quads
   * 2048 x 5632   1.45 / 1.44   0.97 / 0.91   0.90 / 0.92
   * 5632 x 2048   2.72 / 2.18   1.50 / 1.53   0.88 / 0.83
   * 2048 x 2048   1.62 / 1.31   1.04 / 1.11   0.99 / 0.89
   * </pre>
   *
   * At k = 5632 two rows of x are 45 KB, about L1's size: pairs read them from L2 for every two
   * weight rows, quads for every four.
   */
  static final boolean BF16_X2_PAIRS = !"false".equals(System.getProperty("fovea.gemv.bf16.x2Pairs"));

  private static void dotBf16x2Pair(MemorySegment w, long o0, long d1, MemorySegment x, long x1, int k, MemorySegment y,
      long yj0, long yj1, long yRs, boolean accumulate) {
    FloatVector a00 = FloatVector.zero(S), b00 = a00, a01 = a00, b01 = a00, a10 = a00, b10 = a00, a11 = a00, b11 = a00;
    long o1 = o0 + d1;
    long kb = 2L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      long e = 2 * d, f = 2 * d + 4L * L;
      IntVector v = i32(w, o0 + d), u = i32(w, o1 + d);
      FloatVector vl = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector vh = v.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      FloatVector ul = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector uh = u.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      FloatVector xl = f32(x, e), xh = f32(x, f);
      a00 = vl.fma(xl, a00); // weight row 0, x row 0
      b00 = vh.fma(xh, b00);
      a10 = ul.fma(xl, a10); // weight row 1, x row 0
      b10 = uh.fma(xh, b10);
      xl = f32(x, x1 + e);
      xh = f32(x, x1 + f);
      a01 = vl.fma(xl, a01); // weight row 0, x row 1
      b01 = vh.fma(xh, b01);
      a11 = ul.fma(xl, a11);
      b11 = uh.fma(xh, b11);
    }
    int i = (int) (d / 2);
    FloatVector s00 = a00.add(b00), s01 = a01.add(b01), s10 = a10.add(b10), s11 = a11.add(b11);
    for (int q = 0; q < 4; q++) { // one hsum call site (see Gemv.dotBf16Pair)
      int jr = q >> 1, xr = q & 1;
      FloatVector s = q == 0 ? s00 : q == 1 ? s01 : q == 2 ? s10 : s11;
      store(y, (jr == 0 ? yj0 : yj1) + xr * yRs,
          Gemv.tail16(CpuMath.hsum(s), w, jr == 0 ? o0 : o1, x, xr * x1, i, k, false), accumulate);
    }
  }

  static final boolean BF16_X2_QUADS = !"false".equals(System.getProperty("fovea.gemv.bf16.x2Quads"));

  /** As {@link #dotBf16x2Pair} for four weight rows o0 + r * d1 (outputs yj + r * dj), r in [0, 4). */
  private static void dotBf16x2Quad(MemorySegment w, long o0, long d1, MemorySegment x, long x1, int k, MemorySegment y,
      long yj, long dj, long yRs, boolean accumulate) {
    FloatVector a00 = FloatVector.zero(S), b00 = a00, a01 = a00, b01 = a00, a10 = a00, b10 = a00, a11 = a00, b11 = a00;
    FloatVector a20 = a00, b20 = a00, a21 = a00, b21 = a00, a30 = a00, b30 = a00, a31 = a00, b31 = a00;
    long o1 = o0 + d1, o2 = o1 + d1, o3 = o2 + d1;
    long kb = 2L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      long e = 2 * d, f = 2 * d + 4L * L;
      FloatVector xl = FloatVector.fromMemorySegment(S, x, e, LE);
      FloatVector xh = FloatVector.fromMemorySegment(S, x, f, LE);
      FloatVector yl = FloatVector.fromMemorySegment(S, x, x1 + e, LE);
      FloatVector yh = FloatVector.fromMemorySegment(S, x, x1 + f, LE);
      IntVector v = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      FloatVector lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector hi = v.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      a00 = lo.fma(xl, a00);
      b00 = hi.fma(xh, b00);
      a01 = lo.fma(yl, a01);
      b01 = hi.fma(yh, b01);
      v = IntVector.fromMemorySegment(IS, w, o1 + d, LE);
      lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      hi = v.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      a10 = lo.fma(xl, a10);
      b10 = hi.fma(xh, b10);
      a11 = lo.fma(yl, a11);
      b11 = hi.fma(yh, b11);
      v = IntVector.fromMemorySegment(IS, w, o2 + d, LE);
      lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      hi = v.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      a20 = lo.fma(xl, a20);
      b20 = hi.fma(xh, b20);
      a21 = lo.fma(yl, a21);
      b21 = hi.fma(yh, b21);
      v = IntVector.fromMemorySegment(IS, w, o3 + d, LE);
      lo = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      hi = v.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      a30 = lo.fma(xl, a30);
      b30 = hi.fma(xh, b30);
      a31 = lo.fma(yl, a31);
      b31 = hi.fma(yh, b31);
    }
    // The eight sums leave through a per-thread array, reduced in quadTails: selecting among
    // eight vectors in a store loop (as the pair kernels select between two) boxed them, and so
    // did reducing them here (C2 reached its node-count cut-off for inlining and left the vector
    // calls as calls). Nothing but the array crosses the call.
    float[] sums = SUMS.get();
    a00.add(b00).intoArray(sums, 0);
    a01.add(b01).intoArray(sums, L);
    a10.add(b10).intoArray(sums, 2 * L);
    a11.add(b11).intoArray(sums, 3 * L);
    a20.add(b20).intoArray(sums, 4 * L);
    a21.add(b21).intoArray(sums, 5 * L);
    a30.add(b30).intoArray(sums, 6 * L);
    a31.add(b31).intoArray(sums, 7 * L);
    quadTails(sums, (int) (d / 2), w, o0, d1, x, x1, k, y, yj, dj, yRs, accumulate, false);
  }

  /**
   * As {@link #dotBf16x2Quad} for F16 weight rows against both rows of x times 2^112 (from bytes 2
   * xs and 3 xs of x): each half read as its value times 2^-112 as in Gemv's dotF16Quad, so each
   * sum is bit-identical to dot16x2's. Returns false, storing nothing, when a half of the four rows'
   * vector parts is an infinity or NaN. A counted loop, unlike Gemv's dotF16Quad: with Gemv.UNCOUNTED
   * in its condition this kernel took twice as long (2 threads, 5632 x 2048: 1.445 against 0.722 ms;
   * 2048 x 5632 1.470 / 0.913; 32000 x 2048 7.76 / 4.60; one thread 2.0-2.3x; the two alternating
   * call by call in one process, Zen 4, 2026-12-07; dotBf16x2Quad the same, 1.441 / 0.749).
   */
  private static boolean dotF16x2Quad(MemorySegment w, long o0, long d1, MemorySegment x, long xs, int k,
      MemorySegment y, long yj, long dj, long yRs, boolean accumulate) {
    FloatVector a00 = FloatVector.zero(S), b00 = a00, a01 = a00, b01 = a00, a10 = a00, b10 = a00, a11 = a00, b11 = a00;
    FloatVector a20 = a00, b20 = a00, a21 = a00, b21 = a00, a30 = a00, b30 = a00, a31 = a00, b31 = a00;
    IntVector ex = IntVector.zero(IS);
    long o1 = o0 + d1, o2 = o1 + d1, o3 = o2 + d1;
    long s0 = 2 * xs, s1 = 3 * xs;
    long kb = 2L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      long e = 2 * d, f = 2 * d + 4L * L;
      FloatVector xl = FloatVector.fromMemorySegment(S, x, s0 + e, LE);
      FloatVector xh = FloatVector.fromMemorySegment(S, x, s0 + f, LE);
      FloatVector yl = FloatVector.fromMemorySegment(S, x, s1 + e, LE);
      FloatVector yh = FloatVector.fromMemorySegment(S, x, s1 + f, LE);
      IntVector v = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      ex = ex.lanewise(VectorOperators.OR, v.lanewise(VectorOperators.AND, Gemv.F16_EXP).add(Gemv.F16_EXP_ONE));
      FloatVector lo = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
          .lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      FloatVector hi = v.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      a00 = lo.fma(xl, a00);
      b00 = hi.fma(xh, b00);
      a01 = lo.fma(yl, a01);
      b01 = hi.fma(yh, b01);
      v = IntVector.fromMemorySegment(IS, w, o1 + d, LE);
      ex = ex.lanewise(VectorOperators.OR, v.lanewise(VectorOperators.AND, Gemv.F16_EXP).add(Gemv.F16_EXP_ONE));
      lo = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
          .lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      hi = v.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      a10 = lo.fma(xl, a10);
      b10 = hi.fma(xh, b10);
      a11 = lo.fma(yl, a11);
      b11 = hi.fma(yh, b11);
      v = IntVector.fromMemorySegment(IS, w, o2 + d, LE);
      ex = ex.lanewise(VectorOperators.OR, v.lanewise(VectorOperators.AND, Gemv.F16_EXP).add(Gemv.F16_EXP_ONE));
      lo = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
          .lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      hi = v.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      a20 = lo.fma(xl, a20);
      b20 = hi.fma(xh, b20);
      a21 = lo.fma(yl, a21);
      b21 = hi.fma(yh, b21);
      v = IntVector.fromMemorySegment(IS, w, o3 + d, LE);
      ex = ex.lanewise(VectorOperators.OR, v.lanewise(VectorOperators.AND, Gemv.F16_EXP).add(Gemv.F16_EXP_ONE));
      lo = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
          .lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      hi = v.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, Gemv.F16_RAW).reinterpretAsFloats();
      a30 = lo.fma(xl, a30);
      b30 = hi.fma(xh, b30);
      a31 = lo.fma(yl, a31);
      b31 = hi.fma(yh, b31);
    }
    if ((ex.reduceLanes(VectorOperators.OR) & Gemv.F16_EXP_CARRY) != 0) {
      return false;
    }
    float[] sums = SUMS.get(); // as dotBf16x2Quad
    a00.add(b00).intoArray(sums, 0);
    a01.add(b01).intoArray(sums, L);
    a10.add(b10).intoArray(sums, 2 * L);
    a11.add(b11).intoArray(sums, 3 * L);
    a20.add(b20).intoArray(sums, 4 * L);
    a21.add(b21).intoArray(sums, 5 * L);
    a30.add(b30).intoArray(sums, 6 * L);
    a31.add(b31).intoArray(sums, 7 * L);
    quadTails(sums, (int) (d / 2), w, o0, d1, x, xs, k, y, yj, dj, yRs, accumulate, true);
    return true;
  }


  /** Per thread: the eight sum vectors of {@link #dotBf16x2Quad}. */
  private static final ThreadLocal<float[]> SUMS = ThreadLocal.withInitial(() -> new float[8 * L]);

  /** Output (weight row q / 2, x row q % 2) = hsum(sums[q]) plus the scalar tail from element i. */
  private static void quadTails(float[] sums, int i, MemorySegment w, long o0, long d1, MemorySegment x, long x1, int k,
      MemorySegment y, long yj, long dj, long yRs, boolean accumulate, boolean f16) {
    for (int q = 0; q < 8; q++) {
      int jr = q >> 1, xr = q & 1;
      float s = CpuMath.hsum(FloatVector.fromArray(S, sums, q * L));
      store(y, yj + jr * dj + xr * yRs, Gemv.tail16(s, w, o0 + jr * d1, x, xr * x1, i, k, f16), accumulate);
    }
  }

  private static void bf16Row(MemorySegment w, long o0, int k, MemorySegment row) {
    long kb = 2L * k;
    for (long d = 0; d <= kb - 4L * L; d += 4L * L) {
      IntVector v = i32(w, o0 + d);
      v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(row, 2 * d, ByteOrder.LITTLE_ENDIAN);
      v.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
          .intoMemorySegment(row, 2 * d + 4L * L, ByteOrder.LITTLE_ENDIAN);
    }
  }

  private static void f16Row(MemorySegment w, long o0, int k, MemorySegment row) {
    long kb = 2L * k;
    for (long d = 0; d <= kb - 4L * L; d += 4L * L) {
      IntVector v = i32(w, o0 + d);
      Gemv.f16Lo(v).intoMemorySegment(row, 2 * d, ByteOrder.LITTLE_ENDIAN);
      Gemv.f16Hi(v).intoMemorySegment(row, 2 * d + 4L * L, ByteOrder.LITTLE_ENDIAN);
    }
  }

  private static void dot16x2(MemorySegment row, MemorySegment w, long o0, boolean f16, MemorySegment x, long x1, int k,
      MemorySegment y, long yj, long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0, a1 = a0, b1 = a0;
    long kb = 2L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      long e = 2 * d, f = 2 * d + 4L * L;
      FloatVector lo = f32(row, e), hi = f32(row, f);
      a0 = lo.fma(f32(x, e), a0);
      b0 = hi.fma(f32(x, f), b0);
      a1 = lo.fma(f32(x, x1 + e), a1);
      b1 = hi.fma(f32(x, x1 + f), b1);
    }
    int i = (int) (d / 2);
    FloatVector s0 = a0.add(b0), s1 = a1.add(b1);
    for (int r = 0; r < 2; r++) {
      store(y, yj + r * yRs, Gemv.tail16(CpuMath.hsum(r == 0 ? s0 : s1), w, o0, x, r * x1, i, k, f16), accumulate);
    }
  }

  private static void dot16x4(int m, MemorySegment row, MemorySegment w, long o0, boolean f16, MemorySegment x, long x1,
      long x2, long x3, int k, MemorySegment y, long yj, long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    long kb = 2L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      long e = 2 * d, f = 2 * d + 4L * L;
      FloatVector lo = FloatVector.fromMemorySegment(S, row, e, LE), hi = FloatVector.fromMemorySegment(S, row, f, LE);
      a0 = lo.fma(FloatVector.fromMemorySegment(S, x, e, LE), a0);
      b0 = hi.fma(FloatVector.fromMemorySegment(S, x, f, LE), b0);
      a1 = lo.fma(FloatVector.fromMemorySegment(S, x, x1 + e, LE), a1);
      b1 = hi.fma(FloatVector.fromMemorySegment(S, x, x1 + f, LE), b1);
      a2 = lo.fma(FloatVector.fromMemorySegment(S, x, x2 + e, LE), a2);
      b2 = hi.fma(FloatVector.fromMemorySegment(S, x, x2 + f, LE), b2);
      a3 = lo.fma(FloatVector.fromMemorySegment(S, x, x3 + e, LE), a3);
      b3 = hi.fma(FloatVector.fromMemorySegment(S, x, x3 + f, LE), b3);
    }
    int i = (int) (d / 2);
    FloatVector s0 = a0.add(b0), s1 = a1.add(b1), s2 = a2.add(b2), s3 = a3.add(b3);
    for (int r = 0; r < m; r++) {
      FloatVector h = r == 0 ? s0 : r == 1 ? s1 : r == 2 ? s2 : s3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, yj + r * yRs, Gemv.tail16(h.lane(0), w, o0, x, r * x1, i, k, f16), accumulate);
    }
  }

  /*
   * Q8_0: per block, s_r = q[0, L) * x_r then s_r = fma(q[p, p + L), x_r, s_r), then a_r =
   * fma(s_r, d, a_r); the result is hsum(a_r), as Gemv's dotQ8_0.
   */

  private static void dotQ8_0x2(MemorySegment w, long off, MemorySegment x, long x1, int k, MemorySegment y, long yj,
      long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    long end = off + (long) (k / QK) * Q8_BYTES;
    long xo = 0;
    for (long o = off; o < end; o += Q8_BYTES, xo += 4L * QK) {
      FloatVector q = q8(w, o + 2);
      FloatVector s0 = q.mul(f32(x, xo)), s1 = q.mul(f32(x, x1 + xo));
      for (int p = L; p < QK; p += L) {
        q = q8(w, o + 2 + p);
        long e = xo + 4L * p;
        s0 = q.fma(f32(x, e), s0);
        s1 = q.fma(f32(x, x1 + e), s1);
      }
      FloatVector dv = FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o)));
      a0 = s0.fma(dv, a0);
      a1 = s1.fma(dv, a1);
    }
    for (int r = 0; r < 2; r++) {
      FloatVector h = r == 0 ? a0 : a1;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, yj + r * yRs, h.lane(0), accumulate);
    }
  }

  private static void dotQ8_0x4(int m, MemorySegment w, long off, MemorySegment x, long x1, long x2, long x3, int k,
      MemorySegment y, long yj, long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    long end = off + (long) (k / QK) * Q8_BYTES;
    long xo = 0;
    for (long o = off; o < end; o += Q8_BYTES, xo += 4L * QK) {
      FloatVector q = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0));
      FloatVector s0 = q.mul(FloatVector.fromMemorySegment(S, x, xo, LE));
      FloatVector s1 = q.mul(FloatVector.fromMemorySegment(S, x, x1 + xo, LE));
      FloatVector s2 = q.mul(FloatVector.fromMemorySegment(S, x, x2 + xo, LE));
      FloatVector s3 = q.mul(FloatVector.fromMemorySegment(S, x, x3 + xo, LE));
      for (int p = L; p < QK; p += L) {
        q = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2 + p, LE).convertShape(VectorOperators.B2F, S, 0));
        long e = xo + 4L * p;
        s0 = q.fma(FloatVector.fromMemorySegment(S, x, e, LE), s0);
        s1 = q.fma(FloatVector.fromMemorySegment(S, x, x1 + e, LE), s1);
        s2 = q.fma(FloatVector.fromMemorySegment(S, x, x2 + e, LE), s2);
        s3 = q.fma(FloatVector.fromMemorySegment(S, x, x3 + e, LE), s3);
      }
      FloatVector dv = FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o)));
      a0 = s0.fma(dv, a0);
      a1 = s1.fma(dv, a1);
      a2 = s2.fma(dv, a2);
      a3 = s3.fma(dv, a3);
    }
    for (int r = 0; r < m; r++) {
      FloatVector h = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, yj + r * yRs, h.lane(0), accumulate);
    }
  }

  /*
   * Q4_0: per block and L bytes, the low nibbles fma against x_r[p, p + L) and then the high ones
   * against x_r[16 + p, 16 + p + L) into s_r (the first a mul), then a_r = fma(s_r, d, a_r); the
   * result is hsum(a_r), as Gemv's dotQ4_0. Both kernels call only the JDK's vector methods (see
   * Gemv's class comment on C2's inlining cut-off): with calls of q4Bytes / q4 / f32 the two-row
   * kernel boxed every vector on AVX2 (Zen 3, 2026-12-08: 4-8 MB a GEMV in KernelAllocationTest).
   */

  private static void dotQ4_0x2(MemorySegment w, long off, MemorySegment x, long x1, int k, MemorySegment y, long yj,
      long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    long end = off + (long) (k / QK) * Q4_BYTES;
    long xo = 0;
    for (long o = off; o < end; o += Q4_BYTES, xo += 4L * QK) {
      IntVector q = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      FloatVector lo = q.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC);
      FloatVector hi = q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC);
      long e = xo, f = xo + 4L * (QK / 2);
      FloatVector s0 = hi.fma(FloatVector.fromMemorySegment(S, x, f, LE),
          lo.mul(FloatVector.fromMemorySegment(S, x, e, LE)));
      FloatVector s1 = hi.fma(FloatVector.fromMemorySegment(S, x, x1 + f, LE),
          lo.mul(FloatVector.fromMemorySegment(S, x, x1 + e, LE)));
      for (int p = L; p < QK / 2; p += L) {
        q = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2 + p, LE)
            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
        lo = q.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC);
        hi = q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC);
        e = xo + 4L * p;
        f = xo + 4L * (QK / 2 + p);
        s0 = hi.fma(FloatVector.fromMemorySegment(S, x, f, LE), lo.fma(FloatVector.fromMemorySegment(S, x, e, LE), s0));
        s1 = hi.fma(FloatVector.fromMemorySegment(S, x, x1 + f, LE),
            lo.fma(FloatVector.fromMemorySegment(S, x, x1 + e, LE), s1));
      }
      FloatVector dv = FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o)));
      a0 = s0.fma(dv, a0);
      a1 = s1.fma(dv, a1);
    }
    for (int r = 0; r < 2; r++) {
      FloatVector h = r == 0 ? a0 : a1;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, yj + r * yRs, h.lane(0), accumulate);
    }
  }

  private static void dotQ4_0x4(int m, MemorySegment w, long off, MemorySegment x, long x1, long x2, long x3, int k,
      MemorySegment y, long yj, long yRs, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    long end = off + (long) (k / QK) * Q4_BYTES;
    long xo = 0;
    for (long o = off; o < end; o += Q4_BYTES, xo += 4L * QK) {
      IntVector q = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      FloatVector lo = q.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC);
      FloatVector hi = q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC);
      long e = xo, f = xo + 4L * (QK / 2);
      FloatVector s0 = hi.fma(FloatVector.fromMemorySegment(S, x, f, LE),
          lo.mul(FloatVector.fromMemorySegment(S, x, e, LE)));
      FloatVector s1 = hi.fma(FloatVector.fromMemorySegment(S, x, x1 + f, LE),
          lo.mul(FloatVector.fromMemorySegment(S, x, x1 + e, LE)));
      FloatVector s2 = hi.fma(FloatVector.fromMemorySegment(S, x, x2 + f, LE),
          lo.mul(FloatVector.fromMemorySegment(S, x, x2 + e, LE)));
      FloatVector s3 = hi.fma(FloatVector.fromMemorySegment(S, x, x3 + f, LE),
          lo.mul(FloatVector.fromMemorySegment(S, x, x3 + e, LE)));
      for (int p = L; p < QK / 2; p += L) {
        q = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2 + p, LE)
            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
        lo = q.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC);
        hi = q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC);
        e = xo + 4L * p;
        f = xo + 4L * (QK / 2 + p);
        s0 = hi.fma(FloatVector.fromMemorySegment(S, x, f, LE), lo.fma(FloatVector.fromMemorySegment(S, x, e, LE), s0));
        s1 = hi.fma(FloatVector.fromMemorySegment(S, x, x1 + f, LE),
            lo.fma(FloatVector.fromMemorySegment(S, x, x1 + e, LE), s1));
        s2 = hi.fma(FloatVector.fromMemorySegment(S, x, x2 + f, LE),
            lo.fma(FloatVector.fromMemorySegment(S, x, x2 + e, LE), s2));
        s3 = hi.fma(FloatVector.fromMemorySegment(S, x, x3 + f, LE),
            lo.fma(FloatVector.fromMemorySegment(S, x, x3 + e, LE), s3));
      }
      FloatVector dv = FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o)));
      a0 = s0.fma(dv, a0);
      a1 = s1.fma(dv, a1);
      a2 = s2.fma(dv, a2);
      a3 = s3.fma(dv, a3);
    }
    for (int r = 0; r < m; r++) {
      FloatVector h = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, yj + r * yRs, h.lane(0), accumulate);
    }
  }
}
