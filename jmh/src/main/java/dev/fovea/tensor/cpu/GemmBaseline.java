package dev.fovea.tensor.cpu;

// Frozen copy of Gemm as of dd2a1ad, so GemmBench can compare old and new in one JMH run.

import static dev.fovea.tensor.cpu.BlockDecode.F32;
import static dev.fovea.tensor.cpu.BlockDecode.I16;
import static dev.fovea.tensor.cpu.BlockDecode.QK;

import dev.fovea.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * f32 matrix multiply, C[m,n] = (accumulate ? C : 0) + sum_k A[m,k] * B[k,n], with B in any float
 * storage dtype (F32, F16, BF16, or GGUF Q8_0/Q4_0 weights read block by block).
 *
 * <p>Structure (GotoBLAS/BLIS loop order, sized for one Zen 4 core: 32 KiB L1d, 1 MiB L2):
 *
 * <pre>
 * chunk = (column block of NC columns) x (group of rows)            -- the parallel unit
 *   for pc in k by KC:       pack B[pc:pc+KC, block] into Bp         -- KC x NC floats, L2 resident
 *     for each MR rows i:    pack A[i:i+MR, pc:pc+KC] into Ap        -- MR x KC floats, L1 resident
 *       for each NR cols jr: C[i:i+MR, jr:jr+NR] += Ap * Bp[:, jr]   -- micro-kernel, MR x NR in registers
 * </pre>
 *
 * Packing converts every dtype to f32 one KC x NC panel at a time in small per-thread buffers; a
 * weight is never copied or dequantized whole. The micro-kernel keeps MR x (NR / L) = 8 x 2 vector
 * accumulators in registers and does one broadcast of A and one fma per accumulator per k.
 *
 * <p>One row against a weight stored [n, k] (m == 1, bRs == 1: the decode step) goes to {@link
 * Gemv}, which streams the weight once instead of packing it; so does one F32 column against a
 * row-major A (n == 1), with A as the weight.
 *
 * <p>Determinism: chunk boundaries depend on m, n and k only, and every C element is summed in the
 * same order (k in order inside a KC panel, panels in order), so results are bit-identical for any
 * thread count. {@code -Dfovea.simd=false} selects the scalar twin ({@link #sgemmScalar}).
 */
public final class GemmBaseline {
  static final boolean SIMD = Gemv.SIMD;

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Micro-tile: MR rows by NR = 2 vectors of columns. */
  static final int MR = 8;
  static final int NR = 2 * L;
  /** Depth of a packed panel; a multiple of 32 so quantized blocks never straddle panels. */
  static final int KC = roundUp(Integer.getInteger("fovea.gemm.kc", 256), QK);
  /** Columns per block (and per parallel chunk); a multiple of NR. */
  static final int NC = roundUp(Integer.getInteger("fovea.gemm.nc", 256), NR);
  /** Row groups are added until there are at least this many chunks (for load balance). */
  private static final int MIN_CHUNKS = 8;

  private static final class Scratch {
    final float[] ap = new float[MR * KC];
    final float[] bp = new float[KC * NC];
    /** Native, like C usually is, so the kernel's C accesses see one segment class. */
    final MemorySegment tile = java.lang.foreign.Arena.ofAuto().allocate(4L * MR * NR, 64);
  }

  // Per thread rather than per Parallel worker: two callers on different threads both run as worker 0.
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private GemmBaseline() {}

  /**
   * C[m,n] = (accumulate ? C : 0) + sum_k A[m,k] * B[k,n].
   *
   * <p>A: F32 in segment a, element offset aOff, element strides aRs (along m), aCs (along k). Any
   * strides (transposed/sliced views).
   *
   * <p>B: dtype bType in segment b. For F32/F16/BF16: element offset bOff, element strides bRs (along
   * k) and bCs (along n), any strides. For Q8_0/Q4_0: B is a weight stored [n, k] row-major in
   * 32-element blocks along k (the GGUF/HF Linear layout, y = x W^T): requires bRs == 1, k % 32 == 0,
   * bCs = row stride in elements (multiple of 32), bOff in elements (multiple of 32).
   *
   * <p>C: F32, element offset cOff, row stride cRs, unit column stride.
   */
  public static void sgemm(int m, int n, int k, MemorySegment a, long aOff, long aRs, long aCs,
      MemorySegment b, DType bType, long bOff, long bRs, long bCs,
      MemorySegment c, long cOff, long cRs, boolean accumulate) {
    if (SIMD) {
      sgemmSimd(m, n, k, a, aOff, aRs, aCs, b, bType, bOff, bRs, bCs, c, cOff, cRs, accumulate);
    } else {
      sgemmScalar(m, n, k, a, aOff, aRs, aCs, b, bType, bOff, bRs, bCs, c, cOff, cRs, accumulate);
    }
  }

  static void check(int m, int n, int k, DType bType, long bOff, long bRs, long bCs) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException("sgemm: negative size m=" + m + ", n=" + n + ", k=" + k);
    }
    if (!bType.isFloatingPoint()) {
      throw new IllegalArgumentException("sgemm: B dtype " + bType + " is not a floating-point storage type");
    }
    if (bType.isQuantized() && (bRs != 1 || k % QK != 0 || bCs % QK != 0 || bOff % QK != 0)) {
      throw new IllegalArgumentException("sgemm: " + bType + " B must be a weight stored [n, k] in blocks of " + QK
          + " along k (bRs == 1, k, bCs and bOff multiples of " + QK + "); got k=" + k + ", bOff=" + bOff
          + ", bRs=" + bRs + ", bCs=" + bCs);
    }
  }

  private static int roundUp(int v, int to) {
    return Math.max(to, (v + to - 1) / to * to);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  // ---------------------------------------------------------------------------------------------
  // Scalar twin: one sequential fma chain per C element, rows in fixed chunks.

  static void sgemmScalar(int m, int n, int k, MemorySegment a, long aOff, long aRs, long aCs,
      MemorySegment b, DType bType, long bOff, long bRs, long bCs,
      MemorySegment c, long cOff, long cRs, boolean accumulate) {
    check(m, n, k, bType, bOff, bRs, bCs);
    long grain = Math.max(1, (1 << 16) / Math.max(1L, (long) n * Math.max(1, k)));
    Parallel.forRange(m, grain, (i0, i1) -> {
      for (long i = i0; i < i1; i++) {
        for (int j = 0; j < n; j++) {
          float s = 0f;
          for (int p = 0; p < k; p++) {
            float av = a.get(F32, (aOff + i * aRs + p * aCs) * 4);
            s = Math.fma(av, BlockDecode.get(b, bType, bOff + p * bRs + j * bCs), s);
          }
          long co = (cOff + i * cRs + j) * 4;
          c.set(F32, co, accumulate ? c.get(F32, co) + s : s);
        }
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // SIMD path.

  static void sgemmSimd(int m, int n, int k, MemorySegment a, long aOff, long aRs, long aCs,
      MemorySegment b, DType bType, long bOff, long bRs, long bCs,
      MemorySegment c, long cOff, long cRs, boolean accumulate) {
    check(m, n, k, bType, bOff, bRs, bCs);
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      if (!accumulate) {
        for (int i = 0; i < m; i++) {
          c.asSlice((cOff + i * cRs) * 4, (long) n * 4).fill((byte) 0);
        }
      }
      return;
    }
    if (m == 1 && bRs == 1) {
      // One row against a weight stored [n, k]: the bandwidth-bound GEMV.
      Gemv.gemvSimd(n, k, a, aOff, aCs, b, bType, bOff, bCs, c, cOff, accumulate);
      return;
    }
    if (n == 1 && bType == DType.F32 && aCs == 1 && cRs == 1) {
      // One f32 column against a row-major A: a GEMV with A as the weight (not a 1-wide tile of NR).
      Gemv.gemvSimd(m, k, b, bOff, bRs, a, DType.F32, aOff, aRs, c, cOff, accumulate);
      return;
    }
    // Column blocks narrow enough that there are MIN_CHUNKS of them when n allows: each block of B
    // is then packed by exactly one chunk, instead of once per row group (for a 768-wide weight
    // and a few hundred rows, repacking B three times cost more than the multiply).
    int ncb = Math.min(NC, roundUp(ceilDiv(n, MIN_CHUNKS), NR));
    int nBlocks = ceilDiv(n, ncb);
    int mPanels = ceilDiv(m, MR);
    int groups = Math.min(mPanels, Math.max(1, ceilDiv(MIN_CHUNKS, nBlocks)));
    int panelsPerGroup = ceilDiv(mPanels, groups);
    int mGroups = ceilDiv(mPanels, panelsPerGroup);
    Parallel.forChunks(nBlocks * mGroups, (chunk, worker) -> {
      int jb = chunk / mGroups;
      int g = chunk % mGroups;
      int j0 = jb * ncb;
      int nc = Math.min(ncb, n - j0);
      int i0 = g * panelsPerGroup * MR;
      int i1 = Math.min(m, i0 + panelsPerGroup * MR);
      block(k, a, aOff, aRs, aCs, b, bType, bOff, bRs, bCs, c, cOff, cRs, accumulate, j0, nc, i0, i1);
    });
  }

  /** C[i0:i1, j0:j0+nc] over all of k, one KC panel at a time. */
  private static void block(int k, MemorySegment a, long aOff, long aRs, long aCs,
      MemorySegment b, DType bType, long bOff, long bRs, long bCs,
      MemorySegment c, long cOff, long cRs, boolean accumulate, int j0, int nc, int i0, int i1) {
    Scratch s = SCRATCH.get();
    for (int pc = 0; pc < k; pc += KC) {
      int kc = Math.min(KC, k - pc);
      packB(s.bp, b, bType, bOff, bRs, bCs, pc, kc, j0, nc);
      // The first panel overwrites C unless accumulating; later panels always add.
      boolean add = accumulate || pc > 0;
      for (int i = i0; i < i1; i += MR) {
        int mr = Math.min(MR, i1 - i);
        packA(s.ap, a, aOff, aRs, aCs, i, mr, pc, kc);
        for (int jp = 0; jp < nc; jp += NR) {
          int nr = Math.min(NR, nc - jp);
          long co = (cOff + i * cRs + j0 + jp) * 4;
          if (mr == MR && nr == NR) {
            kernel(kc, s.ap, s.bp, (jp / NR) * kc * NR, c, co, cRs * 4, add);
          } else {
            edgeKernel(kc, s.ap, s.bp, (jp / NR) * kc * NR, c, co, cRs * 4, mr, nr, add, s.tile);
          }
        }
      }
    }
  }

  /** Ap[p * MR + r] = A[i + r, pc + p] for r < mr, and 0 for the padding rows r in [mr, MR). */
  private static void packA(float[] ap, MemorySegment a, long aOff, long aRs, long aCs, int i, int mr, int pc, int kc) {
    if (aRs == 1 && aCs != 1) {
      // Column-major A: the MR values of one k are adjacent.
      for (int p = 0; p < kc; p++) {
        long base = aOff + i + (long) (pc + p) * aCs;
        for (int r = 0; r < mr; r++) {
          ap[p * MR + r] = a.get(F32, (base + r) * 4);
        }
      }
    } else {
      for (int r = 0; r < mr; r++) {
        long base = aOff + (long) (i + r) * aRs + (long) pc * aCs;
        for (int p = 0; p < kc; p++) {
          ap[p * MR + r] = a.get(F32, (base + p * aCs) * 4);
        }
      }
    }
    if (mr < MR) {
      for (int p = 0; p < kc; p++) {
        for (int r = mr; r < MR; r++) {
          ap[p * MR + r] = 0f;
        }
      }
    }
  }

  /**
   * Bp[q * kc * NR + p * NR + jj] = B[pc + p, j0 + q * NR + jj] for the NR-column panels q of the
   * block, converted to f32; columns past nc are 0.
   */
  private static void packB(float[] bp, MemorySegment b, DType t, long bOff, long bRs, long bCs, int pc, int kc,
      int j0, int nc) {
    for (int q = 0; q * NR < nc; q++) {
      int jq = j0 + q * NR;
      int nr = Math.min(NR, nc - q * NR);
      int base = q * kc * NR;
      switch (t) {
        case F32 -> {
          if (bCs == 1 && nr == NR) {
            for (int p = 0; p < kc; p++) {
              long o = (bOff + (long) (pc + p) * bRs + jq) * 4;
              FloatVector.fromMemorySegment(S, b, o, ByteOrder.LITTLE_ENDIAN).intoArray(bp, base + p * NR);
              FloatVector.fromMemorySegment(S, b, o + 4L * L, ByteOrder.LITTLE_ENDIAN).intoArray(bp, base + p * NR + L);
            }
          } else {
            for (int jj = 0; jj < nr; jj++) {
              long col = bOff + (long) (jq + jj) * bCs + (long) pc * bRs;
              for (int p = 0; p < kc; p++) {
                bp[base + p * NR + jj] = b.get(F32, (col + p * bRs) * 4);
              }
            }
          }
        }
        case F16 -> {
          for (int jj = 0; jj < nr; jj++) {
            long col = bOff + (long) (jq + jj) * bCs + (long) pc * bRs;
            for (int p = 0; p < kc; p++) {
              bp[base + p * NR + jj] = BlockDecode.f16ToFloat(b.get(I16, (col + p * bRs) * 2));
            }
          }
        }
        case BF16 -> {
          for (int jj = 0; jj < nr; jj++) {
            long col = bOff + (long) (jq + jj) * bCs + (long) pc * bRs;
            for (int p = 0; p < kc; p++) {
              bp[base + p * NR + jj] = BlockDecode.bf16ToFloat(b.get(I16, (col + p * bRs) * 2));
            }
          }
        }
        case Q8_0, Q4_0 -> {
          int blockBytes = t.blockBytes();
          for (int jj = 0; jj < nr; jj++) {
            long first = (bOff + (long) (jq + jj) * bCs + pc) / QK * blockBytes;
            for (int p = 0; p < kc; p += QK) {
              long o = first + (long) (p / QK) * blockBytes;
              if (t == DType.Q8_0) {
                BlockDecode.q8_0(b, o, bp, base + p * NR + jj, NR);
              } else {
                BlockDecode.q4_0(b, o, bp, base + p * NR + jj, NR);
              }
            }
          }
        }
        case I32, I64 -> throw new IllegalStateException("unreachable: checked in sgemm");
      }
      if (nr < NR) {
        for (int p = 0; p < kc; p++) {
          for (int jj = nr; jj < NR; jj++) {
            bp[base + p * NR + jj] = 0f;
          }
        }
      }
    }
  }

  /**
   * The micro-kernel: T = Ap[MR x kc] * Bp[kc x NR] in 16 vector registers, then the full MR x NR
   * tile at byte offset co (row stride cRsB bytes) becomes (add ? C : 0) + T. Everything is inline
   * in one method on purpose: a vector passed to a call that C2 does not inline is boxed, and the
   * box is then allocated inside the k loop.
   */
  private static void kernel(int kc, float[] ap, float[] bp, int bo, MemorySegment c, long co, long cRsB,
      boolean add) {
    // Each accumulator gets its own zero.
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S);
    FloatVector c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S);
    FloatVector c51 = FloatVector.zero(S);
    FloatVector c60 = FloatVector.zero(S);
    FloatVector c61 = FloatVector.zero(S);
    FloatVector c70 = FloatVector.zero(S);
    FloatVector c71 = FloatVector.zero(S);
    int ao = 0;
    for (int p = 0; p < kc; p++) {
      FloatVector b0 = FloatVector.fromArray(S, bp, bo);
      FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
      FloatVector av;
      av = FloatVector.broadcast(S, ap[ao + 0]);
      c00 = av.fma(b0, c00);
      c01 = av.fma(b1, c01);
      av = FloatVector.broadcast(S, ap[ao + 1]);
      c10 = av.fma(b0, c10);
      c11 = av.fma(b1, c11);
      av = FloatVector.broadcast(S, ap[ao + 2]);
      c20 = av.fma(b0, c20);
      c21 = av.fma(b1, c21);
      av = FloatVector.broadcast(S, ap[ao + 3]);
      c30 = av.fma(b0, c30);
      c31 = av.fma(b1, c31);
      av = FloatVector.broadcast(S, ap[ao + 4]);
      c40 = av.fma(b0, c40);
      c41 = av.fma(b1, c41);
      av = FloatVector.broadcast(S, ap[ao + 5]);
      c50 = av.fma(b0, c50);
      c51 = av.fma(b1, c51);
      av = FloatVector.broadcast(S, ap[ao + 6]);
      c60 = av.fma(b0, c60);
      c61 = av.fma(b1, c61);
      av = FloatVector.broadcast(S, ap[ao + 7]);
      c70 = av.fma(b0, c70);
      c71 = av.fma(b1, c71);
      ao += MR;
      bo += NR;
    }
    final long hi = 4L * L;
    if (add) {
      c00 = c00.add(FloatVector.fromMemorySegment(S, c, co, ByteOrder.LITTLE_ENDIAN));
      c01 = c01.add(FloatVector.fromMemorySegment(S, c, co + hi, ByteOrder.LITTLE_ENDIAN));
      c10 = c10.add(FloatVector.fromMemorySegment(S, c, co + cRsB, ByteOrder.LITTLE_ENDIAN));
      c11 = c11.add(FloatVector.fromMemorySegment(S, c, co + cRsB + hi, ByteOrder.LITTLE_ENDIAN));
      c20 = c20.add(FloatVector.fromMemorySegment(S, c, co + 2 * cRsB, ByteOrder.LITTLE_ENDIAN));
      c21 = c21.add(FloatVector.fromMemorySegment(S, c, co + 2 * cRsB + hi, ByteOrder.LITTLE_ENDIAN));
      c30 = c30.add(FloatVector.fromMemorySegment(S, c, co + 3 * cRsB, ByteOrder.LITTLE_ENDIAN));
      c31 = c31.add(FloatVector.fromMemorySegment(S, c, co + 3 * cRsB + hi, ByteOrder.LITTLE_ENDIAN));
      c40 = c40.add(FloatVector.fromMemorySegment(S, c, co + 4 * cRsB, ByteOrder.LITTLE_ENDIAN));
      c41 = c41.add(FloatVector.fromMemorySegment(S, c, co + 4 * cRsB + hi, ByteOrder.LITTLE_ENDIAN));
      c50 = c50.add(FloatVector.fromMemorySegment(S, c, co + 5 * cRsB, ByteOrder.LITTLE_ENDIAN));
      c51 = c51.add(FloatVector.fromMemorySegment(S, c, co + 5 * cRsB + hi, ByteOrder.LITTLE_ENDIAN));
      c60 = c60.add(FloatVector.fromMemorySegment(S, c, co + 6 * cRsB, ByteOrder.LITTLE_ENDIAN));
      c61 = c61.add(FloatVector.fromMemorySegment(S, c, co + 6 * cRsB + hi, ByteOrder.LITTLE_ENDIAN));
      c70 = c70.add(FloatVector.fromMemorySegment(S, c, co + 7 * cRsB, ByteOrder.LITTLE_ENDIAN));
      c71 = c71.add(FloatVector.fromMemorySegment(S, c, co + 7 * cRsB + hi, ByteOrder.LITTLE_ENDIAN));
    }
    c00.intoMemorySegment(c, co, ByteOrder.LITTLE_ENDIAN);
    c01.intoMemorySegment(c, co + hi, ByteOrder.LITTLE_ENDIAN);
    c10.intoMemorySegment(c, co + cRsB, ByteOrder.LITTLE_ENDIAN);
    c11.intoMemorySegment(c, co + cRsB + hi, ByteOrder.LITTLE_ENDIAN);
    c20.intoMemorySegment(c, co + 2 * cRsB, ByteOrder.LITTLE_ENDIAN);
    c21.intoMemorySegment(c, co + 2 * cRsB + hi, ByteOrder.LITTLE_ENDIAN);
    c30.intoMemorySegment(c, co + 3 * cRsB, ByteOrder.LITTLE_ENDIAN);
    c31.intoMemorySegment(c, co + 3 * cRsB + hi, ByteOrder.LITTLE_ENDIAN);
    c40.intoMemorySegment(c, co + 4 * cRsB, ByteOrder.LITTLE_ENDIAN);
    c41.intoMemorySegment(c, co + 4 * cRsB + hi, ByteOrder.LITTLE_ENDIAN);
    c50.intoMemorySegment(c, co + 5 * cRsB, ByteOrder.LITTLE_ENDIAN);
    c51.intoMemorySegment(c, co + 5 * cRsB + hi, ByteOrder.LITTLE_ENDIAN);
    c60.intoMemorySegment(c, co + 6 * cRsB, ByteOrder.LITTLE_ENDIAN);
    c61.intoMemorySegment(c, co + 6 * cRsB + hi, ByteOrder.LITTLE_ENDIAN);
    c70.intoMemorySegment(c, co + 7 * cRsB, ByteOrder.LITTLE_ENDIAN);
    c71.intoMemorySegment(c, co + 7 * cRsB + hi, ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * An edge tile (mr < MR or nr < NR): the kernel writes the full tile into the per-thread scratch
   * tile, and the valid mr x nr part is added into C here.
   */
  private static void edgeKernel(int kc, float[] ap, float[] bp, int bo, MemorySegment c, long co, long cRsB,
      int mr, int nr, boolean add, MemorySegment tile) {
    kernel(kc, ap, bp, bo, tile, 0, 4L * NR, false);
    for (int r = 0; r < mr; r++) {
      long ro = co + r * cRsB;
      for (int jj = 0; jj < nr; jj++) {
        float v = tile.get(F32, 4L * (r * NR + jj));
        long o = ro + jj * 4L;
        c.set(F32, o, add ? c.get(F32, o) + v : v);
      }
    }
  }
}
