package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.BlockDecode.F32;
import static dev.fovea.tensor.cpu.BlockDecode.I16;
import static dev.fovea.tensor.cpu.BlockDecode.QK;

import dev.fovea.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
 * With several column blocks and an A larger than L2, A is packed once for all of them before the
 * chunks run (every micro-panel of every k panel, {@link #PREPACK_A}), and the chunks read their
 * Ap from there.
 *
 * Packing converts every dtype to f32 one KC x NC panel at a time in small per-thread buffers; a
 * weight is never copied or dequantized whole. The micro-kernel keeps MR x (NR / L) = 8 x 2 vector
 * accumulators in registers (6 x 2 with AVX2's 16 registers) and does one broadcast of A and one fma
 * per accumulator per k.
 *
 * <p>Packing has to keep up with the kernel: with a few hundred rows (a ViT's tokens) each Bp
 * panel serves only m / MR micro-panels of A, and each Ap only NC / NR kernel calls. So Ap holds
 * A row by row (a row-major A is packed with bulk copies), and a B stored [n, k] (a Linear weight,
 * bRs == 1, where each Bp row gathers one k from NR columns) is packed L columns at a time with
 * L x L transposes in registers ({@link #transpose}), F16/BF16/Q8_0/Q4_0 converted to f32 first,
 * vectorized.
 * On one Zen 5 core at 197 x 768 x 768 (ViT-B/16 q_proj) the call went from 1.7 to 1.05 ms, most of
 * it from packing A with copies instead of element by element (p-major); the transposes cut
 * packing B from 0.20 to 0.08 ms. The kernel alone runs at ~270 GFLOP/s there, the call at ~225.
 *
 * <p>Up to {@link Gemv#MAX_ROWS} (4) rows against a weight stored [n, k] (bRs == 1: a decode step,
 * or contrastive decoding's branches stepped as one batch) go to {@link Gemv}, which streams the
 * weight once for all rows instead of packing it (at TinyLlama's shapes, 2 rows through the packed
 * path took 1.6-2.8x one row's GEMV for F32, 3.6-6.4x for BF16/F16 and 5-15x for Q8_0/Q4_0: it
 * converts the whole weight into panels for them; GemvRowsBench); so does one F32 column against a
 * row-major A (n == 1), with A as the weight.
 *
 * <p>Determinism: the k panels depend on k only, and every C element is summed in the same order
 * (k in order inside a panel, panels in order) whatever chunk it falls in, so results are
 * bit-identical for any thread count (the chunks themselves follow the thread count). {@code
 * -Dfovea.simd=false} selects the scalar twin ({@link #sgemmScalar}).
 */
public final class Gemm {
  static final boolean SIMD = Gemv.SIMD;

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
  /** L 16-bit values, widened to the L int lanes of IS. */
  private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * L));
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  /**
   * Micro-tile: MR rows by NR = 2 vectors of columns, MR x 2 accumulators held in registers: 8 rows
   * (16 accumulators) with AVX-512's 32 vector registers, 6 (12) with AVX2's 16 ({@link #kernel6}),
   * where 16 accumulators plus the two B vectors and A's broadcast do not fit. Zen 3 (AVX2),
   * 2026-12-08, the micro-kernel alone on packed operands in L1/L2 (kc 768, one core, a scratch
   * program, kernels alternating in one process): 8 x 2 51-53 GFLOP/s, 6 x 2 92-98, 4 x 3 42.
   */
  static final int MR = L >= 16 ? 8 : 6;
  static final int NR = 2 * L;
  /**
   * Greatest depth of a packed panel; a multiple of 32 so quantized blocks never straddle panels.
   * k is split into ceil(k / KC) panels of equal depth (rounded up to 32), see {@link #panelDepth}.
   * Deeper panels mean fewer passes over C (each pass reads and writes the C tiles once). Zen 5, the
   * two settings interleaved call by call in one process (the machine's speed drifts between
   * processes by more than the gains), median per call: 768 x 128 against 256 x 256 ran the F32
   * ViT and 1024 shapes of GemmBench -1% to +17% faster on two threads; deeper panels alone 2-5% on
   * one.
   */
  static final int KC = roundUp(Integer.getInteger("fovea.gemm.kc", 768), QK);
  /** Greatest columns per block (and per parallel chunk); a multiple of NR. KC x NC floats of Bp stay in L2. */
  static final int NC = roundUp(Integer.getInteger("fovea.gemm.nc", 128), NR);
  /**
   * Row groups are added until there are at least this many chunks per thread beyond the first
   * (for load balance; one thread needs one chunk). Each row group packs its block of B again, so
   * more chunks cost packing: at 600 x 2048 x 256 (a k/v_proj of a 600-token prefill), 8 chunks in
   * all ran at 145 GFLOP/s on one thread against 163 for one chunk, and at 306 on two threads
   * against 327 for 4. Chunking never changes a result: every C element sums its k panels in the
   * same order whatever block it falls in.
   */
  private static final int CHUNKS_PER_THREAD = 2;
  /**
   * Cost of packing one element of B relative to copying one of A, for the choice of chunks: on
   * Zen 5, packing a [n, k] F32 B (transposes) ran at ~0.12 ns per element and copying A's rows
   * at ~0.04 (both from L2/L3).
   */
  private static final int B_WEIGHT = Integer.getInteger("fovea.gemm.bWeight", 3);
  /**
   * Whether packB transposes a B stored [n, k] (bRs == 1) L x L values at a time in registers;
   * the transpose is written for L == 16 (AVX-512, {@link #transpose}) and L == 8 (AVX2, {@link
   * #transpose8}: Zen 3, 2026-12-08, one 768 x 128 panel of a k 3072 weight, a scratch copy, 0.42-0.47
   * ns an element against the scalar loop's 0.78-0.80, same values). {@code
   * -Dfovea.gemm.scalarTranspose=true} selects the scalar loop (same packed values, for benchmarks).
   */
  static final boolean VECTOR_TRANSPOSE = (L == 16 || L == 8) && !Boolean.getBoolean("fovea.gemm.scalarTranspose");
  /**
   * Whether packB decodes Q8_0/Q4_0 weights L columns at a time with vectors into bt (then the
   * transpose) rather than element by element straight into the panel (the path before 2026-12-06,
   * and the only one where {@link Gemv}'s quantized loads do not exist: L < 8 or L > 16).
   * {@code -Dfovea.gemm.scalarQuantPack=true} selects the element path. 600 x 2048 x 2048, one
   * thread, a standalone program calling sgemm on arena buffers, processes alternated three times:
   * Q4_0 165-166 GFLOP/s (median) with vectors against 154-160, Q8_0 the same within noise.
   */
  static final boolean VECTOR_QUANT_PACK =
      Gemv.BS != null && L <= QK / 2 && !Boolean.getBoolean("fovea.gemm.scalarQuantPack");
  /**
   * Lane selects of the transpose: round b swaps bit b of the row (register) index with bit b of
   * the lane index, pairing registers r and r + d (d = 2^b, bit b of r clear); {@code TLO[b]} gives
   * the new register r and {@code THI[b]} the new register r + d, with indexes >= L taken from the
   * second register. After log2(L) rounds register r holds what was lane r of every register.
   */
  private static final int[][] TLO = new int[4][L];
  private static final int[][] THI = new int[4][L];

  static {
    for (int b = 0; b < 4; b++) {
      int d = 1 << b;
      for (int c = 0; c < L; c++) {
        boolean low = (c & d) == 0;
        TLO[b][c] = low ? c : L + c - d;
        THI[b][c] = low ? c + d : L + c;
      }
    }
  }

  private static final class Scratch {
    /** A micro-panel, row by row: ap[r * kc + p] = A[i + r, pc + p]. */
    final float[] ap = new float[MR * KC];
    final float[] bp = new float[KC * NC];
    /** L columns of an F16/BF16 B stored [n, k], converted to f32: float c * KC + p (the transpose's source). */
    final MemorySegment bt = java.lang.foreign.Arena.ofAuto().allocate(4L * L * KC, 64);
    /** Native, like C usually is, so the kernel's C accesses see one segment class. */
    final MemorySegment tile = java.lang.foreign.Arena.ofAuto().allocate(4L * MR * NR, 64);
  }

  // Per thread rather than per Parallel worker: two callers on different threads both run as worker 0.
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /**
   * Whether a product with more than one column block packs A once, before the chunks run, into
   * the calling thread's buffer, instead of each chunk copying its rows of A once per k panel
   * ({@code -Dfovea.gemm.prepackA=false} for the old path; same operations, same bits). With n /
   * ncb column blocks A was copied n / ncb times, from L3 or DRAM once it outgrew L2 (the long-k
   * shapes' weakness). Zen 4, 2026-12-07, a scratch program alternating both paths call by call on
   * arena buffers, B an F32 [n, k] weight, median of 20 calls (prepack faster in how many):
   *
   * <pre>
   * m x k x n          1 thread           2 threads
   * 197 x 768 x 3072   1.030 (17/20)      1.084 (15/20)
   * 197 x 3072 x 768   1.039 (18/20)      1.020 (15/20)
   * 577 x 1024 x 4096  1.037 (17/20)      1.035 (20/20)
   * 577 x 4096 x 1024  1.084 (20/20)      1.022 (15/20)
   * 600 x 2048 x 2048  1.101 (19/20)      1.046 (19/20), 1.077 (39/40)
   * 600 x 2048 x 256   1.015 (17/20)      1.023 (11/20)
   * 600 x 2048 x 5632  1.120 (20/20)      1.064 (18/20)
   * 600 x 5632 x 2048  1.087 (20/20)      1.109 (19/20)
   * </pre>
   *
   * (time old / new). Q4_0 B at 2 threads: 600 x 2048 x 2048 1.071, 600 x 5632 x 2048 1.078, 600 x
   * 2048 x 5632 1.075. Where A fits in L2 it did not pay (197 x 768 x 768 0.93 and 1.01, 64 x 768
   * x 768 0.99, 16 x 2048 x 2048 0.98: noise, and one more fork/join), hence {@link
   * #PREPACK_MIN_FLOATS}.
   */
  static final boolean PREPACK_A = !"false".equalsIgnoreCase(System.getProperty("fovea.gemm.prepackA"));
  /** The smallest A (m x k floats) pre-packed: 1 MiB, Zen 4's L2. */
  private static final long PREPACK_MIN_FLOATS = 1L << 18;
  /** The largest A (m x k floats) pre-packed: 64 MiB of buffer a calling thread; larger ones take the old path. */
  private static final long PREPACK_MAX_FLOATS = 16L << 20;
  /** The calling thread's pre-packed A (grows to the largest product it has run, up to PREPACK_MAX_FLOATS plus padding). */
  private static final ThreadLocal<float[]> PACKED_A = ThreadLocal.withInitial(() -> new float[0]);

  private Gemm() {}

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

  /** Depth of every KC panel of a k-long product but the last: k split evenly, rounded up to 32. */
  static int panelDepth(int k) {
    int panels = Math.max(1, ceilDiv(k, KC));
    return Math.min(KC, roundUp(ceilDiv(k, panels), QK));
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
    if (m <= Gemv.MAX_ROWS && bRs == 1) {
      // One to four rows against a weight stored [n, k] (a decode step; contrastive branches
      // stepped as one batch): the bandwidth-bound GEMV, each weight row read once for every row.
      Gemv.gemvRowsSimd(m, n, k, a, aOff, aRs, aCs, b, bType, bOff, bCs, c, cOff, cRs, accumulate);
      return;
    }
    if (n == 1 && bType == DType.F32 && aCs == 1 && cRs == 1) {
      // One f32 column against a row-major A: a GEMV with A as the weight (not a 1-wide tile of NR).
      Gemv.gemvSimd(m, k, b, bOff, bRs, a, DType.F32, aOff, aRs, c, cOff, accumulate);
      return;
    }
    // C is split into column blocks of ncb columns x row groups, at least minChunks chunks in all
    // when the sizes allow. A chunk copies its rows of A once per KC panel (unless A is pre-packed
    // once for all blocks, PREPACK_A; the split is chosen the same way) and packs its block of
    // B once, so the split moves the fewest elements: nBlocks * m of A plus groups * n of B, the
    // latter weighted by B_WEIGHT (packing B, a transpose or a conversion, costs more per element
    // than copying rows of A). With a few hundred rows that means narrow blocks and one row group
    // (each part of B packed once); with thousands, blocks of NC columns and several row groups
    // (A, then out of cache, streamed fewer times). Widest block wins a tie.
    int threads = Parallel.threads();
    int minChunks = threads == 1 ? 1 : CHUNKS_PER_THREAD * threads;
    int mPanels = ceilDiv(m, MR);
    int width = NR;
    int groups = 1;
    long best = Long.MAX_VALUE;
    for (int w = NR; w <= NC; w += NR) {
      int nb = ceilDiv(n, w);
      int g = Math.min(mPanels, Math.max(1, ceilDiv(minChunks, nb)));
      long cost = (long) nb * m + (long) B_WEIGHT * g * n;
      if (cost <= best) {
        best = cost;
        width = w;
        groups = g;
      }
      if (w >= n) {
        break;
      }
    }
    int ncb = width;
    int nBlocks = ceilDiv(n, ncb);
    int panelsPerGroup = ceilDiv(mPanels, groups);
    int mGroups = ceilDiv(mPanels, panelsPerGroup);
    long aFloats = (long) m * k;
    float[] packedA = PREPACK_A && nBlocks > 1 && aFloats >= PREPACK_MIN_FLOATS && aFloats <= PREPACK_MAX_FLOATS
        ? prepackA(m, k, a, aOff, aRs, aCs, mPanels) : null;
    Parallel.forChunks(nBlocks * mGroups, (chunk, worker) -> {
      int jb = chunk / mGroups;
      int g = chunk % mGroups;
      int j0 = jb * ncb;
      int nc = Math.min(ncb, n - j0);
      int i0 = g * panelsPerGroup * MR;
      int i1 = Math.min(m, i0 + panelsPerGroup * MR);
      block(k, a, aOff, aRs, aCs, b, bType, bOff, bRs, bCs, c, cOff, cRs, accumulate, j0, nc, i0, i1, packedA, mPanels);
    });
  }

  /** C[i0:i1, j0:j0+nc] over all of k, one KC panel at a time. */
  private static void block(int k, MemorySegment a, long aOff, long aRs, long aCs,
      MemorySegment b, DType bType, long bOff, long bRs, long bCs,
      MemorySegment c, long cOff, long cRs, boolean accumulate, int j0, int nc, int i0, int i1, float[] packedA,
      int mPanels) {
    Scratch s = SCRATCH.get();
    int depth = panelDepth(k);
    for (int pc = 0; pc < k; pc += depth) {
      int kc = Math.min(depth, k - pc);
      packB(s, b, bType, bOff, bRs, bCs, pc, kc, j0, nc);
      // The first panel overwrites C unless accumulating; later panels always add.
      boolean add = accumulate || pc > 0;
      for (int i = i0; i < i1; i += MR) {
        int mr = Math.min(MR, i1 - i);
        float[] ap;
        int ao;
        if (packedA != null) {
          ap = packedA;
          ao = packedOffset(pc / depth, i / MR, mPanels, depth);
        } else {
          ap = s.ap;
          ao = 0;
          packA(ap, 0, a, aOff, aRs, aCs, i, mr, pc, kc);
        }
        for (int jp = 0; jp < nc; jp += NR) {
          int nr = Math.min(NR, nc - jp);
          long co = (cOff + i * cRs + j0 + jp) * 4;
          if (mr == MR && nr == NR) {
            if (MR == 8) {
              kernel(kc, ap, ao, s.bp, (jp / NR) * kc * NR, c, co, cRs * 4, add);
            } else {
              kernel6(kc, ap, ao, s.bp, (jp / NR) * kc * NR, c, co, cRs * 4, add);
            }
          } else {
            edgeKernel(kc, ap, ao, s.bp, (jp / NR) * kc * NR, c, co, cRs * 4, mr, nr, add, s.tile);
          }
        }
      }
    }
  }

  /** Where micro-panel ip (rows ip * MR ..) of k panel t starts in a pre-packed A: MR x depth floats each. */
  private static int packedOffset(int t, int ip, int mPanels, int depth) {
    return (t * mPanels + ip) * MR * depth;
  }

  /**
   * A pre-packed once for every column block (see sgemmSimd): micro-panel by micro-panel, each k
   * panel's MR x kc floats as {@link #packA} lays them out, into the calling thread's buffer.
   */
  private static float[] prepackA(int m, int k, MemorySegment a, long aOff, long aRs, long aCs, int mPanels) {
    int depth = panelDepth(k);
    int panels = ceilDiv(k, depth);
    int size = panels * mPanels * MR * depth;
    float[] buf = PACKED_A.get();
    if (buf.length < size) {
      buf = new float[size];
      PACKED_A.set(buf);
    }
    float[] dst = buf;
    // Micro-panels in groups, each group's rows for every k panel (row copies of a row-major A).
    int groups = Math.min(mPanels, 4 * Parallel.threads());
    Parallel.forChunks(groups, (g, worker) -> {
      int ip0 = (int) ((long) mPanels * g / groups);
      int ip1 = (int) ((long) mPanels * (g + 1) / groups);
      for (int ip = ip0; ip < ip1; ip++) {
        int i = ip * MR;
        int mr = Math.min(MR, m - i);
        for (int pc = 0, t = 0; pc < k; pc += depth, t++) {
          packA(dst, packedOffset(t, ip, mPanels, depth), a, aOff, aRs, aCs, i, mr, pc, Math.min(depth, k - pc));
        }
      }
    });
    return dst;
  }

  /**
   * Ap[r * kc + p] = A[i + r, pc + p] for r < mr, and 0 for the padding rows r in [mr, MR). Rows of
   * a row-major A are bulk copies.
   */
  private static void packA(float[] ap, int ao, MemorySegment a, long aOff, long aRs, long aCs, int i, int mr, int pc,
      int kc) {
    if (aCs == 1) {
      for (int r = 0; r < mr; r++) {
        MemorySegment.copy(a, F32, (aOff + (long) (i + r) * aRs + pc) * 4, ap, ao + r * kc, kc);
      }
    } else if (aRs == 1) {
      // Column-major A: the mr values of one k are adjacent.
      for (int p = 0; p < kc; p++) {
        long base = aOff + i + (long) (pc + p) * aCs;
        for (int r = 0; r < mr; r++) {
          ap[ao + r * kc + p] = a.get(F32, (base + r) * 4);
        }
      }
    } else {
      for (int r = 0; r < mr; r++) {
        long base = aOff + (long) (i + r) * aRs + (long) pc * aCs;
        for (int p = 0; p < kc; p++) {
          ap[ao + r * kc + p] = a.get(F32, (base + p * aCs) * 4);
        }
      }
    }
    if (mr < MR) {
      Arrays.fill(ap, ao + mr * kc, ao + MR * kc, 0f);
    }
  }

  /**
   * Bp[q * kc * NR + p * NR + jj] = B[pc + p, j0 + q * NR + jj] for the NR-column panels q of the
   * block, converted to f32; columns past nc are 0.
   */
  private static void packB(Scratch s, MemorySegment b, DType t, long bOff, long bRs, long bCs, int pc, int kc,
      int j0, int nc) {
    float[] bp = s.bp;
    for (int q = 0; q * NR < nc; q++) {
      int jq = j0 + q * NR;
      int nr = Math.min(NR, nc - q * NR);
      int base = q * kc * NR;
      if (t.isQuantized() && VECTOR_QUANT_PACK) {
        // Stored [n, k] in blocks along k: L columns at a time decoded into bt with vectors, then
        // transposed as F16/BF16 columns are.
        for (int h = 0; h < nr; h += L) {
          packColumns(s, b, t, bOff, bCs, pc, kc, jq + h, Math.min(L, nr - h), base + h);
        }
      } else if (t.isQuantized()) {
        // Decoded element by element straight into the panel (see VECTOR_QUANT_PACK).
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
      } else if (bRs == 1 && bCs != 1) {
        // Stored [n, k] (a Linear weight).
        for (int h = 0; h < nr; h += L) {
          packColumns(s, b, t, bOff, bCs, pc, kc, jq + h, Math.min(L, nr - h), base + h);
        }
      } else if (bCs == 1 && nr == NR) {
        // Row-major [k, n]: each k is NR adjacent values (F16/BF16 converted through bt).
        for (int p = 0; p < kc; p++) {
          long o = bOff + (long) (pc + p) * bRs + jq;
          if (t == DType.F32) {
            MemorySegment.copy(b, F32, o * 4, bp, base + p * NR, NR);
          } else {
            if (t == DType.BF16) {
              bf16ToF32(b, o * 2, NR, s.bt, 0);
            } else {
              f16ToF32(b, o * 2, NR, s.bt, 0);
            }
            MemorySegment.copy(s.bt, F32, 0, bp, base + p * NR, NR);
          }
        }
      } else {
        for (int jj = 0; jj < nr; jj++) {
          long col = bOff + (long) (jq + jj) * bCs + (long) pc * bRs;
          for (int p = 0; p < kc; p++) {
            bp[base + p * NR + jj] = Elements.readFloat(b, t, col + p * bRs);
          }
        }
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
   * Bp[at + p * NR + c] = B[pc + p, j + c] for c < cols (at most L) and p < kc, B stored [n, k]:
   * column j + c is row j + c of the weight, contiguous along k. F32 columns are read in place;
   * F16/BF16 ones are first converted into bt (f32, column c at byte c * 4 * KC). Full groups of L
   * columns are then transposed L x L in registers, the rest (k past a multiple of L, or fewer
   * than L columns) element by element.
   */
  private static void packColumns(Scratch s, MemorySegment b, DType t, long bOff, long bCs, int pc, int kc, int j,
      int cols, int at) {
    MemorySegment src = b;
    long o0 = (bOff + (long) j * bCs + pc) * 4;
    long cs = bCs * 4;
    if (t != DType.F32) {
      src = s.bt;
      o0 = 0;
      cs = 4L * KC;
      for (int c = 0; c < cols; c++) {
        long e = bOff + (long) (j + c) * bCs + pc;
        switch (t) {
          case BF16 -> bf16ToF32(b, e * 2, kc, s.bt, c * cs);
          case F16 -> f16ToF32(b, e * 2, kc, s.bt, c * cs);
          case Q8_0 -> q8_0ToF32(b, e / QK * t.blockBytes(), kc, s.bt, c * cs);
          case Q4_0 -> q4_0ToF32(b, e / QK * t.blockBytes(), kc, s.bt, c * cs);
          default -> throw new IllegalStateException("packColumns: " + t);
        }
      }
    }
    int kv = VECTOR_TRANSPOSE && cols == L ? kc & -L : 0;
    if (kv > 0) {
      if (L == 16) {
        transpose(src, o0, cs, kv, s.bp, at);
      } else {
        transpose8(src, o0, cs, kv, s.bp, at);
      }
    }
    for (int c = 0; c < cols; c++) {
      for (int p = kv; p < kc; p++) {
        s.bp[at + p * NR + c] = src.get(F32, o0 + c * cs + 4L * p);
      }
    }
  }

  /**
   * f32 i of dst (from byte at) = element i of the Q8_0 blocks from byte o of b, for i < len (a
   * multiple of 32): d * q with both exact in f32, one rounding, as {@link BlockDecode#q8_0}.
   * Needs {@link #VECTOR_QUANT_PACK}.
   */
  private static void q8_0ToF32(MemorySegment b, long o, int len, MemorySegment dst, long at) {
    for (int i = 0; i < len; i += QK, o += Gemv.Q8_BYTES) {
      FloatVector d = FloatVector.broadcast(S, BlockDecode.f16ToFloat(b.get(I16, o)));
      for (int h = 0; h < QK; h += L) { // Gemv.q8 written out, as in f16ToF32
        ((FloatVector) ByteVector.fromMemorySegment(Gemv.BS, b, o + 2 + h, LE)
            .convertShape(VectorOperators.B2F, S, 0)).mul(d).intoMemorySegment(dst, at + 4L * (i + h), LE);
      }
    }
  }

  /**
   * f32 i of dst (from byte at) = element i of the Q4_0 blocks from byte o of b, for i < len (a
   * multiple of 32): d * (nibble - 8), as {@link BlockDecode#q4_0}; each L bytes give L low nibbles
   * (elements h..) and L high ones (elements 16 + h..). Needs {@link #VECTOR_QUANT_PACK}.
   */
  private static void q4_0ToF32(MemorySegment b, long o, int len, MemorySegment dst, long at) {
    for (int i = 0; i < len; i += QK, o += Gemv.Q4_BYTES) {
      FloatVector d = FloatVector.broadcast(S, BlockDecode.f16ToFloat(b.get(I16, o)));
      for (int h = 0; h < QK / 2; h += L) {
        // Gemv.q4Bytes and q4 written out, as in f16ToF32
        IntVector q = (IntVector) ByteVector.fromMemorySegment(Gemv.BS, b, o + 2 + h, LE)
            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
        q.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Gemv.Q4_OR).reinterpretAsFloats()
            .sub(Gemv.Q4_MAGIC).mul(d).intoMemorySegment(dst, at + 4L * (i + h), LE);
        q.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Gemv.Q4_OR).reinterpretAsFloats()
            .sub(Gemv.Q4_MAGIC).mul(d).intoMemorySegment(dst, at + 4L * (i + QK / 2 + h), LE);
      }
    }
  }

  /** f32 i of dst (from byte at) = the BF16 value at byte o + 2i of b, for i < len. */
  private static void bf16ToF32(MemorySegment b, long o, int len, MemorySegment dst, long at) {
    int i = 0;
    for (; i <= len - L; i += L) {
      IntVector v = (IntVector) ShortVector.fromMemorySegment(SS, b, o + 2L * i, LE)
          .convertShape(VectorOperators.S2I, IS, 0);
      v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoMemorySegment(dst, at + 4L * i, LE);
    }
    for (; i < len; i++) {
      dst.set(F32, at + 4L * i, BlockDecode.bf16ToFloat(b.get(I16, o + 2L * i)));
    }
  }

  /** f32 i of dst (from byte at) = the F16 value at byte o + 2i of b, for i < len (exact, as {@link Gemv}'s kernels). */
  private static void f16ToF32(MemorySegment b, long o, int len, MemorySegment dst, long at) {
    int i = 0;
    for (; i <= len - L; i += L) {
      IntVector v = (IntVector) ShortVector.fromMemorySegment(SS, b, o + 2L * i, LE)
          .convertShape(VectorOperators.S2I, IS, 0);
      // Gemv.f16Lo written out: a call of ours taking or returning a vector here can fall past
      // C2's inlining cut-off in the packing's compile and box (AVX2 Zen 3, 2026-12-08:
      // KernelAllocationTest saw 1.3 MB a 197 x 256 x 320 F16 product)
      IntVector m = v.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, Gemv.F16_MAG);
      m = m.lanewise(VectorOperators.OR, 0x7F800000, m.compare(VectorOperators.GE, Gemv.F16_INF));
      IntVector sign = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.AND, Gemv.SIGN);
      m.reinterpretAsFloats().mul(Gemv.F16_SCALE).reinterpretAsInts().lanewise(VectorOperators.OR, sign)
          .reinterpretAsFloats().intoMemorySegment(dst, at + 4L * i, LE);
    }
    for (; i < len; i++) {
      dst.set(F32, at + 4L * i, BlockDecode.f16ToFloat(b.get(I16, o + 2L * i)));
    }
  }

  /**
   * bp[at + p * NR + c] = the f32 at byte o0 + c * cs + 4 * p of src, for c < L and p < kv (a
   * multiple of L): each L x L block is loaded as L registers (register c = column c), transposed
   * by log2(L) rounds of two-register lane selects (see {@link #TLO}), and stored as L rows of the
   * panel. Written for L == 16; one method with every vector local, so none crosses a call.
   */
  private static void transpose(MemorySegment src, long o0, long cs, int kv, float[] bp, int at) {
    IntVector lo0 = IntVector.fromArray(IS, TLO[0], 0);
    IntVector hi0 = IntVector.fromArray(IS, THI[0], 0);
    IntVector lo1 = IntVector.fromArray(IS, TLO[1], 0);
    IntVector hi1 = IntVector.fromArray(IS, THI[1], 0);
    IntVector lo2 = IntVector.fromArray(IS, TLO[2], 0);
    IntVector hi2 = IntVector.fromArray(IS, THI[2], 0);
    IntVector lo3 = IntVector.fromArray(IS, TLO[3], 0);
    IntVector hi3 = IntVector.fromArray(IS, THI[3], 0);
    for (int p0 = 0; p0 < kv; p0 += 16) {
      IntVector r0 = FloatVector.fromMemorySegment(S, src, o0 + 4L * p0, LE).reinterpretAsInts();
      IntVector r1 = FloatVector.fromMemorySegment(S, src, o0 + 1 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r2 = FloatVector.fromMemorySegment(S, src, o0 + 2 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r3 = FloatVector.fromMemorySegment(S, src, o0 + 3 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r4 = FloatVector.fromMemorySegment(S, src, o0 + 4 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r5 = FloatVector.fromMemorySegment(S, src, o0 + 5 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r6 = FloatVector.fromMemorySegment(S, src, o0 + 6 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r7 = FloatVector.fromMemorySegment(S, src, o0 + 7 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r8 = FloatVector.fromMemorySegment(S, src, o0 + 8 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r9 = FloatVector.fromMemorySegment(S, src, o0 + 9 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r10 = FloatVector.fromMemorySegment(S, src, o0 + 10 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r11 = FloatVector.fromMemorySegment(S, src, o0 + 11 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r12 = FloatVector.fromMemorySegment(S, src, o0 + 12 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r13 = FloatVector.fromMemorySegment(S, src, o0 + 13 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r14 = FloatVector.fromMemorySegment(S, src, o0 + 14 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r15 = FloatVector.fromMemorySegment(S, src, o0 + 15 * cs + 4L * p0, LE).reinterpretAsInts();
      // round 0: pairs (r, r + 1)
      IntVector s0 = lo0.selectFrom(r0, r1);
      IntVector s1 = hi0.selectFrom(r0, r1);
      IntVector s2 = lo0.selectFrom(r2, r3);
      IntVector s3 = hi0.selectFrom(r2, r3);
      IntVector s4 = lo0.selectFrom(r4, r5);
      IntVector s5 = hi0.selectFrom(r4, r5);
      IntVector s6 = lo0.selectFrom(r6, r7);
      IntVector s7 = hi0.selectFrom(r6, r7);
      IntVector s8 = lo0.selectFrom(r8, r9);
      IntVector s9 = hi0.selectFrom(r8, r9);
      IntVector s10 = lo0.selectFrom(r10, r11);
      IntVector s11 = hi0.selectFrom(r10, r11);
      IntVector s12 = lo0.selectFrom(r12, r13);
      IntVector s13 = hi0.selectFrom(r12, r13);
      IntVector s14 = lo0.selectFrom(r14, r15);
      IntVector s15 = hi0.selectFrom(r14, r15);
      // round 1: pairs (r, r + 2)
      r0 = lo1.selectFrom(s0, s2);
      r2 = hi1.selectFrom(s0, s2);
      r1 = lo1.selectFrom(s1, s3);
      r3 = hi1.selectFrom(s1, s3);
      r4 = lo1.selectFrom(s4, s6);
      r6 = hi1.selectFrom(s4, s6);
      r5 = lo1.selectFrom(s5, s7);
      r7 = hi1.selectFrom(s5, s7);
      r8 = lo1.selectFrom(s8, s10);
      r10 = hi1.selectFrom(s8, s10);
      r9 = lo1.selectFrom(s9, s11);
      r11 = hi1.selectFrom(s9, s11);
      r12 = lo1.selectFrom(s12, s14);
      r14 = hi1.selectFrom(s12, s14);
      r13 = lo1.selectFrom(s13, s15);
      r15 = hi1.selectFrom(s13, s15);
      // round 2: pairs (r, r + 4)
      s0 = lo2.selectFrom(r0, r4);
      s4 = hi2.selectFrom(r0, r4);
      s1 = lo2.selectFrom(r1, r5);
      s5 = hi2.selectFrom(r1, r5);
      s2 = lo2.selectFrom(r2, r6);
      s6 = hi2.selectFrom(r2, r6);
      s3 = lo2.selectFrom(r3, r7);
      s7 = hi2.selectFrom(r3, r7);
      s8 = lo2.selectFrom(r8, r12);
      s12 = hi2.selectFrom(r8, r12);
      s9 = lo2.selectFrom(r9, r13);
      s13 = hi2.selectFrom(r9, r13);
      s10 = lo2.selectFrom(r10, r14);
      s14 = hi2.selectFrom(r10, r14);
      s11 = lo2.selectFrom(r11, r15);
      s15 = hi2.selectFrom(r11, r15);
      // round 3: pairs (r, r + 8), stored as rows p0 + r of the panel
      int o = at + p0 * NR;
      lo3.selectFrom(s0, s8).reinterpretAsFloats().intoArray(bp, o);
      hi3.selectFrom(s0, s8).reinterpretAsFloats().intoArray(bp, o + 8 * NR);
      lo3.selectFrom(s1, s9).reinterpretAsFloats().intoArray(bp, o + NR);
      hi3.selectFrom(s1, s9).reinterpretAsFloats().intoArray(bp, o + 9 * NR);
      lo3.selectFrom(s2, s10).reinterpretAsFloats().intoArray(bp, o + 2 * NR);
      hi3.selectFrom(s2, s10).reinterpretAsFloats().intoArray(bp, o + 10 * NR);
      lo3.selectFrom(s3, s11).reinterpretAsFloats().intoArray(bp, o + 3 * NR);
      hi3.selectFrom(s3, s11).reinterpretAsFloats().intoArray(bp, o + 11 * NR);
      lo3.selectFrom(s4, s12).reinterpretAsFloats().intoArray(bp, o + 4 * NR);
      hi3.selectFrom(s4, s12).reinterpretAsFloats().intoArray(bp, o + 12 * NR);
      lo3.selectFrom(s5, s13).reinterpretAsFloats().intoArray(bp, o + 5 * NR);
      hi3.selectFrom(s5, s13).reinterpretAsFloats().intoArray(bp, o + 13 * NR);
      lo3.selectFrom(s6, s14).reinterpretAsFloats().intoArray(bp, o + 6 * NR);
      hi3.selectFrom(s6, s14).reinterpretAsFloats().intoArray(bp, o + 14 * NR);
      lo3.selectFrom(s7, s15).reinterpretAsFloats().intoArray(bp, o + 7 * NR);
      hi3.selectFrom(s7, s15).reinterpretAsFloats().intoArray(bp, o + 15 * NR);
    }
  }

  /** {@link #transpose} for L == 8 (AVX2): 8 x 8 blocks, three rounds of the same lane selects. */
  private static void transpose8(MemorySegment src, long o0, long cs, int kv, float[] bp, int at) {
    IntVector lo0 = IntVector.fromArray(IS, TLO[0], 0);
    IntVector hi0 = IntVector.fromArray(IS, THI[0], 0);
    IntVector lo1 = IntVector.fromArray(IS, TLO[1], 0);
    IntVector hi1 = IntVector.fromArray(IS, THI[1], 0);
    IntVector lo2 = IntVector.fromArray(IS, TLO[2], 0);
    IntVector hi2 = IntVector.fromArray(IS, THI[2], 0);
    for (int p0 = 0; p0 < kv; p0 += 8) {
      IntVector r0 = FloatVector.fromMemorySegment(S, src, o0 + 4L * p0, LE).reinterpretAsInts();
      IntVector r1 = FloatVector.fromMemorySegment(S, src, o0 + 1 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r2 = FloatVector.fromMemorySegment(S, src, o0 + 2 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r3 = FloatVector.fromMemorySegment(S, src, o0 + 3 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r4 = FloatVector.fromMemorySegment(S, src, o0 + 4 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r5 = FloatVector.fromMemorySegment(S, src, o0 + 5 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r6 = FloatVector.fromMemorySegment(S, src, o0 + 6 * cs + 4L * p0, LE).reinterpretAsInts();
      IntVector r7 = FloatVector.fromMemorySegment(S, src, o0 + 7 * cs + 4L * p0, LE).reinterpretAsInts();
      // round 0: pairs (r, r + 1)
      IntVector s0 = lo0.selectFrom(r0, r1);
      IntVector s1 = hi0.selectFrom(r0, r1);
      IntVector s2 = lo0.selectFrom(r2, r3);
      IntVector s3 = hi0.selectFrom(r2, r3);
      IntVector s4 = lo0.selectFrom(r4, r5);
      IntVector s5 = hi0.selectFrom(r4, r5);
      IntVector s6 = lo0.selectFrom(r6, r7);
      IntVector s7 = hi0.selectFrom(r6, r7);
      // round 1: pairs (r, r + 2)
      r0 = lo1.selectFrom(s0, s2);
      r2 = hi1.selectFrom(s0, s2);
      r1 = lo1.selectFrom(s1, s3);
      r3 = hi1.selectFrom(s1, s3);
      r4 = lo1.selectFrom(s4, s6);
      r6 = hi1.selectFrom(s4, s6);
      r5 = lo1.selectFrom(s5, s7);
      r7 = hi1.selectFrom(s5, s7);
      // round 2: pairs (r, r + 4), stored as rows p0 + r of the panel
      int o = at + p0 * NR;
      lo2.selectFrom(r0, r4).reinterpretAsFloats().intoArray(bp, o);
      hi2.selectFrom(r0, r4).reinterpretAsFloats().intoArray(bp, o + 4 * NR);
      lo2.selectFrom(r1, r5).reinterpretAsFloats().intoArray(bp, o + NR);
      hi2.selectFrom(r1, r5).reinterpretAsFloats().intoArray(bp, o + 5 * NR);
      lo2.selectFrom(r2, r6).reinterpretAsFloats().intoArray(bp, o + 2 * NR);
      hi2.selectFrom(r2, r6).reinterpretAsFloats().intoArray(bp, o + 6 * NR);
      lo2.selectFrom(r3, r7).reinterpretAsFloats().intoArray(bp, o + 3 * NR);
      hi2.selectFrom(r3, r7).reinterpretAsFloats().intoArray(bp, o + 7 * NR);
    }
  }

  /**
   * The micro-kernel: T = Ap[MR x kc] * Bp[kc x NR] in 16 vector registers, then the full MR x NR
   * tile at byte offset co (row stride cRsB bytes) becomes (add ? C : 0) + T. Everything is inline
   * in one method on purpose: a vector passed to a call that C2 does not inline is boxed, and the
   * box is then allocated inside the k loop.
   */
  private static void kernel(int kc, float[] ap, int ao, float[] bp, int bo, MemorySegment c, long co, long cRsB,
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
    final int k1 = kc, k2 = 2 * kc, k3 = 3 * kc, k4 = 4 * kc, k5 = 5 * kc, k6 = 6 * kc, k7 = 7 * kc;
    for (int p = ao, end = ao + kc; p < end; p++) {
      FloatVector b0 = FloatVector.fromArray(S, bp, bo);
      FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
      FloatVector av;
      av = FloatVector.broadcast(S, ap[p]);
      c00 = av.fma(b0, c00);
      c01 = av.fma(b1, c01);
      av = FloatVector.broadcast(S, ap[p + k1]);
      c10 = av.fma(b0, c10);
      c11 = av.fma(b1, c11);
      av = FloatVector.broadcast(S, ap[p + k2]);
      c20 = av.fma(b0, c20);
      c21 = av.fma(b1, c21);
      av = FloatVector.broadcast(S, ap[p + k3]);
      c30 = av.fma(b0, c30);
      c31 = av.fma(b1, c31);
      av = FloatVector.broadcast(S, ap[p + k4]);
      c40 = av.fma(b0, c40);
      c41 = av.fma(b1, c41);
      av = FloatVector.broadcast(S, ap[p + k5]);
      c50 = av.fma(b0, c50);
      c51 = av.fma(b1, c51);
      av = FloatVector.broadcast(S, ap[p + k6]);
      c60 = av.fma(b0, c60);
      c61 = av.fma(b1, c61);
      av = FloatVector.broadcast(S, ap[p + k7]);
      c70 = av.fma(b0, c70);
      c71 = av.fma(b1, c71);
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

  /** {@link #kernel} for MR = 6 (AVX2: 12 accumulators, so that B, A's broadcast and all of them fit in 16 registers). */
  private static void kernel6(int kc, float[] ap, int ao, float[] bp, int bo, MemorySegment c, long co, long cRsB,
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
    final int k1 = kc, k2 = 2 * kc, k3 = 3 * kc, k4 = 4 * kc, k5 = 5 * kc;
    // Counted from 0 (p = ao + q), not from ao to ao + kc: in that form C2 compiled this kernel to
    // 43 GFLOP/s on Zen 3 against 97-100 (a scratch copy of both, one process, 2026-12-08).
    // kernel (AVX-512) keeps the ao..ao + kc form: the counted form is untried there (no AVX-512
    // machine in that session); its 8 x 2 tile ran at one core's FMA peak in that form on Zen 4.
    for (int q = 0; q < kc; q++) {
      int p = ao + q;
      FloatVector b0 = FloatVector.fromArray(S, bp, bo);
      FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
      FloatVector av;
      av = FloatVector.broadcast(S, ap[p]);
      c00 = av.fma(b0, c00);
      c01 = av.fma(b1, c01);
      av = FloatVector.broadcast(S, ap[p + k1]);
      c10 = av.fma(b0, c10);
      c11 = av.fma(b1, c11);
      av = FloatVector.broadcast(S, ap[p + k2]);
      c20 = av.fma(b0, c20);
      c21 = av.fma(b1, c21);
      av = FloatVector.broadcast(S, ap[p + k3]);
      c30 = av.fma(b0, c30);
      c31 = av.fma(b1, c31);
      av = FloatVector.broadcast(S, ap[p + k4]);
      c40 = av.fma(b0, c40);
      c41 = av.fma(b1, c41);
      av = FloatVector.broadcast(S, ap[p + k5]);
      c50 = av.fma(b0, c50);
      c51 = av.fma(b1, c51);
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
  }

  /**
   * An edge tile (mr < MR or nr < NR): the kernel writes the full tile into the per-thread scratch
   * tile, and the valid mr x nr part is added into C here.
   */
  private static void edgeKernel(int kc, float[] ap, int ao, float[] bp, int bo, MemorySegment c, long co, long cRsB,
      int mr, int nr, boolean add, MemorySegment tile) {
    if (MR == 8) {
      kernel(kc, ap, ao, bp, bo, tile, 0, 4L * NR, false);
    } else {
      kernel6(kc, ap, ao, bp, bo, tile, 0, 4L * NR, false);
    }
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
