package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.BlockDecode.F32;
import static dev.fovea.tensor.cpu.BlockDecode.I16;
import static dev.fovea.tensor.cpu.BlockDecode.QK;

import dev.fovea.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector product against a weight stored [n, k] row-major (the Linear layout, y = x W^T):
 *
 * <pre>
 * y[j] = (accumulate ? y[j] : 0) + sum_k x[k] * W[j, k]      j in [0, n)
 * </pre>
 *
 * <p>This is the decode-time path, so it is memory-bandwidth bound: W is read once, directly from
 * its (memory-mapped) storage, and F16/BF16/Q8_0/Q4_0 are converted to f32 inside the dot product;
 * nothing is dequantized into a buffer. x is first copied into a per-thread, 64-byte aligned native
 * buffer (for BF16 and F16 in the even/odd order that the kernels' shift trick needs). Each row is
 * one contiguous weight stream read with long byte offsets. {@link #gemvRows} (and {@link
 * #gemvMany} with m rows) runs up to four rows of x against one weight, each weight row read once
 * for all of them and each row's result bit-identical to this one-row GEMV's ({@link GemvRows}).
 *
 * <p>Determinism: each row's dot product runs in a fixed order (fixed lane accumulators, then
 * {@link CpuMath#hsum}'s fixed tree over the lanes), and a row's result never depends on the chunk
 * that holds it, so results are bit-identical for any thread count. {@code -Dfovea.simd=false} selects the scalar twin.
 *
 * <p>Inlining: C2 inlines a call to one of our own methods (f32, i32, q8, q4, hsum, ...) only
 * while its parse of the compiled method stays under a node-count cut-off (NodeCountInliningCutoff,
 * 18,000 nodes; a product build cannot change it, and the launch flags' CompileCommand=inline does
 * not lift it). A Vector API operation parses to 350-650 nodes, so a kernel with a few dozen of them
 * reaches the cut-off, and a call past it stays a call: a vector crossing it is boxed (96 bytes per
 * call; per iteration in a loop). Where it lies depends on the profile: in runs of
 * KernelAllocationTest with -XX:+LogCompilation (2026-12-07), the BF16 pair kernel's final hsum was
 * parsed at 16,179 to 18,316 nodes and in one run of six was refused (197 KB per 2048-row GEMV; the
 * CI failure of that day). The JDK's own vector methods are force-inlined, never refused, so the
 * largest kernels (the pair and quad kernels, dotF16, GemvRows' four-row kernels and its Q4_0 ones)
 * call them directly in their loops and reduce with {@link CpuMath#FOLDS} instead of hsum (the same
 * tree). The Q4_0 kernels' second-half loops, which run only below 16 lanes, called q4Bytes / q4 /
 * f32 until 2026-12-08, when the first AVX2 machine (Zen 3) showed those calls boxing: 18-36 MB a
 * one-row Q4_0 GEMV in KernelAllocationTest, decode 1,010 ms a step. With only the BF16 pair kernel
 * changed, one run still parsed the Q4_0 pair kernel's q4Bytes call at 14,855 nodes; with all of
 * them changed, no call of ours that takes or returns a vector was parsed past 7,342 nodes in any
 * GEMV kernel (17 runs); {@code bench/inline-margin.sh} prints the figures.
 *
 * <p>Trap budget: C2 adds up the deoptimization counts recorded in the profile of every method it
 * parses into a compilation, once per inlining, and once the total for a reason reaches
 * PerMethodTrapLimit (default 100) it stops speculating: a force-inlined vector call whose receiver
 * type comes from the profile is then guarded by a real virtual call instead of a trap, and the
 * boxed vector it returns merges with the inlined one. The Vector API's shared helpers collect a
 * few class_check deoptimizations each (VectorOperators.opKind had 5 in one process), and the
 * larger kernels inline them dozens of times (dotF16Quad: 53 opKind parses, 265 in all, against
 * none in a good process): in about one process in five the F16 quad kernel then ran at 7.5-8.7
 * GB/s instead of 30-44 (LogCompilation, 2026-12-07; dotQ8_0Oct, siluRow and softmaxRow reached the
 * limit too). The launch flags (pom.xml's fovea.jvm.flags, the launcher, the JMH forks) raise it to
 * 10000; an embedder should pass it as well.
 */
public final class Gemv {
  static final boolean SIMD = !"false".equalsIgnoreCase(System.getProperty("fovea.simd", "true"));

  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
  static final int L = S.length();
  static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  /** Bytes as L lanes, for the quantized kernels (they need L >= 8 and 32 % L == 0). */
  static final VectorSpecies<Byte> BS =
      L >= 8 && QK % L == 0 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;

  /**
   * The k that x's buffers hold from the start (LLaMA-13B's 13824 and 7B's 11008 fit): growing them
   * is a branch a warmed-up process has not taken, and C2 compiled it as an uncommon trap, so the
   * first GEMV of a real model after the tiny JIT warm-up deoptimized {@code prepareX} and its
   * callers ({@code -Xlog:deoptimization=debug}). 64 KiB of x and 256 KiB of prepared rows a thread.
   */
  private static final int X_INITIAL = 16384;

  private static final ThreadLocal<float[]> XBUF = ThreadLocal.withInitial(() -> new float[X_INITIAL]);
  /**
   * x as the kernels read it: native and 64-byte aligned, so each vector load of x is one cache
   * line (a float[] is 16-byte aligned, and its split loads measured ~10% slower from DRAM).
   */
  private static final ThreadLocal<MemorySegment> XSEG = ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(Gemv.X_ROWS * xRowBytes(X_INITIAL), 64));

  /**
   * BF16 rows read two weight vectors per loop iteration (default) or one ({@code
   * -Dfovea.gemv.bf16.narrow=true}); both give bit-identical results (each accumulator sees the same
   * sequence of fmas). Measured on Zen 4 from DRAM: 36 GB/s wide, 28 narrow. The guard itself is
   * part of the measured shape: the same wide loop without it compiled to 29 GB/s. (Four
   * accumulators, so that each fma chain advances once per iteration, measured the same in
   * 2026-11: 1 thread 33 GB/s at k 2048 and 24 at k 5632 either way; narrow was slower again.)
   */
  static final boolean BF16_WIDE = !Boolean.getBoolean("fovea.gemv.bf16.narrow");
  /**
   * Always true; a term of the four-row 16-bit kernels' loop conditions only to shape the loop C2
   * compiles (as {@link #BF16_WIDE} shapes the pair kernels'): javac keeps the read of a field that
   * is not a compile-time constant, C2 folds it, and the loop is compiled as a plain loop, not a
   * counted one that C2 unrolls. Unrolled, four weight streams read slower from DRAM: BF16 fours at
   * 2048 x 5632, 2 threads, 23.4 GB/s counted against 28.4 guarded (28.5 with extra work in the
   * loop instead, 33.8 with -XX:LoopUnrollLimit=1; 1 thread 13.5 / 16.5 / 19.0 / 20.6; a scratch
   * copy of the kernels, Zen 4, 2026-12-07). F16 fours (Gemv.gemv, alternating pass by pass) 1-8%
   * faster guarded in all six cases (three shapes, 1 and 2 threads), and the TinyLlama F16 step
   * 54.3 -> 51.9 and 70.5 -> 67.8 ms; the same guard in dotF32Quad moved the F32 step within noise
   * (123.8 / 124.5 and 106.9 / 117.1 ms), so F32 keeps its counted loop, and so do GemvRows'
   * two-row fours, which ran twice as fast counted.
   */
  static final boolean UNCOUNTED = Boolean.parseBoolean("true");
  /**
   * From this k on (default: every k), BF16 rows that {@link #BF16_QUAD_K}'s fours leave go in
   * pairs that share each x load ({@link #dotBf16Pair}): rows j and j + half of a chunk, two
   * weight streams a chunk-half apart; pairs are bit-identical to single rows. Until 2026-11-24
   * pairs began at k 4096; what changed is the pair loop's shape: with the {@link #BF16_WIDE} guard
   * in its condition (as {@link #dotBf16} has) C2 compiles it as a plain loop with a range check per
   * load and a safepoint poll, and without it as a counted, strip-mined loop with bare loads, which
   * is faster from L2 but slower from DRAM.
   * Measured on this project's 2-core Zen 5 VM (GB/s of weights, standalone harness, 22 separate
   * weights per pass, variants alternating pass by pass in one process, means of 20-25 passes;
   * "read" is a plain SIMD read of the same bytes):
   *
   * <pre>
   * k      threads  read   single rows  pair, counted  pair, guarded
   * 2048   1        41     32.9         25.2           37.8
   * 2048   2        47     41.6         38.3           44.2
   * 5632   1        42     26.1         26.8           29.0
   * 5632   2        48     38.2         40.2           43.0
   * 4096   2        50                  39.1           47.6
   * 512    2        76     51.2                        67.9   (fast memory phase)
   * 1024   2        76     50.0                        65.4   (fast memory phase)
   * </pre>
   *
   * The same TinyLlama GEMVs in the model (all GEMVs of a step, the two settings alternating step
   * by step in one process, 6 processes): gate/up 2-5% faster in 6 of 6, o_proj in 5, q/k/v in 4.
   * What limits the kernel from DRAM is x's footprint in L1, not arithmetic: x (4k bytes) is read
   * again for every row, and with x reads wrapped into 16 KB (wrong sums, for the measurement only)
   * k 5632 reads 34 GB/s on one thread against 26; blocking k to keep x small breaks the weight
   * stream into short runs and reads 12 GB/s. (Pairs were first adopted for LLaMA-7B's down_proj,
   * 8 x [4096, 11008], separate processes: 1 thread 16.3 -> 24.3 GB/s, 2 threads 30 -> 39.) F16
   * kept single rows (an F16 pair kernel, four conversions in one method, crossed C2's inlining
   * budget and boxed its vectors: 8 GB/s) until its cheaper scaled form took fours (F16_QUAD_K);
   * F32 keeps single rows in a counted loop (the guard makes F32 slower: 42.8 against 47.2 GB/s at
   * 2 threads).
   */
  static final int BF16_PAIR_K = Integer.getInteger("fovea.gemv.bf16.pairK", 0);
  /**
   * From this k on (default 256; {@code -Dfovea.gemv.bf16.quadK}), BF16 rows go in fours a quarter
   * chunk apart sharing each x load ({@link #dotBf16Quad}, its loop {@link #UNCOUNTED}); the rows
   * left over take pairs and a lone row as before. Zen 4, 2026-12-07, Gemv.gemv over 400 MB of
   * weights in an arena, fours and pairs alternating pass by pass in one process (medians of 15
   * passes, GB/s, pairs / fours; 2 threads, then 1): 2048 x 5632 28.4 / 37.3, 16.4 / 20.2; 5632 x
   * 2048 25.5 / 29.9, 21.6 / 25.2; 32000 x 2048 35.5 / 43.4, 21.4 / 25.4; 4096 x 1024 39.9 / 45.3,
   * 24.1 / 26.5; 8192 x 512 39.3 / 44.6, 21.4 / 22.8; 8192 x 256 31.7 / 34.7, 19.7 / 22.1; 16384 x
   * 128 32.4 / 33.2, 24.0 / 25.0. The TinyLlama BF16 GGUF loaded from its file (decode steps at
   * context 600, 2 threads, alternating every 8 steps, 24 rounds, two processes): 68.8 -> 65.3 and
   * 67.5 -> 64.0 ms a step (fours from k 4096 only, i.e. down_proj: 66.8 and 65.5). Earlier fours
   * without the guard (a counted loop) were slower in the model than pairs (65.4 against 87.1 ms):
   * the "BF16 fours" tried and dropped in QUANT_QUAD_K's notes were that form.
   */
  static final int BF16_QUAD_K = Integer.getInteger("fovea.gemv.bf16.quadK", 256);
  /** Bytes per Q8_0 / Q4_0 block (constants to C2: the block loops step by them). */
  static final int Q8_BYTES = DType.Q8_0.blockBytes(), Q4_BYTES = DType.Q4_0.blockBytes();
  /**
   * Weight bytes per parallel chunk, about (see {@link #chunks}; the scalar twin uses it as is).
   * Long chunks matter at two threads: each chunk is a fresh stream for the prefetchers plus a
   * hand-off on the shared counter. On Zen 4 (4096 x 11008, 2 threads, JMH): 64K-element chunks
   * gave F32 0.91x sgemv and BF16 1.32x F32 rows/s; 2 MiB chunks 0.94-1.12x and 1.7-2.0x.
   */
  private static final long CHUNK_BYTES = Long.getLong("fovea.gemv.chunkBytes", 1L << 21);
  /**
   * Rows of x that {@link #gemvRows} takes at once, and so the most rows {@link Gemm} and {@code
   * CpuBackend.linearShared} send here instead of to the packed GEMM (1 to 4, default 4; {@code
   * -Dfovea.gemv.maxRows=1} restores the GEMM for every m >= 2, for comparisons).
   */
  public static final int MAX_ROWS = Math.clamp(Integer.getInteger("fovea.gemv.maxRows", 4), 1, 4);
  /**
   * Rows of x a thread's buffer holds: MAX_ROWS and at least four (a one-row F16 GEMV keeps x 2^112
   * in row 1, a two-row one its two rows times 2^112 in rows 2 and 3).
   */
  private static final int X_ROWS = Math.max(4, MAX_ROWS);

  private Gemv() {}

  /** y[j] = (accumulate ? y[j] : 0) + sum_k x[xOff + k] * W[j, k]; contiguous x. */
  public static void gemv(int n, int k, MemorySegment x, long xOff, MemorySegment w, DType wType, long wOff,
      long wRowStride, MemorySegment y, long yOff, boolean accumulate) {
    gemv(n, k, x, xOff, 1, w, wType, wOff, wRowStride, y, yOff, accumulate);
  }

  /**
   * y[yOff + j] = (accumulate ? y[yOff + j] : 0) + sum_k x[xOff + k * xStride] * W[j, k], j in [0, n).
   *
   * <p>W: dtype {@code wType} in segment {@code w}; row j starts at element {@code wOff + j *
   * wRowStride} and is contiguous along k. For Q8_0/Q4_0, k, wOff and wRowStride must be multiples
   * of 32 (whole blocks). x and y are F32; all offsets and strides are in elements.
   */
  public static void gemv(int n, int k, MemorySegment x, long xOff, long xStride, MemorySegment w, DType wType,
      long wOff, long wRowStride, MemorySegment y, long yOff, boolean accumulate) {
    check(n, k, wType, wOff, wRowStride);
    if (SIMD) {
      gemvSimd(n, k, x, xOff, xStride, w, wType, wOff, wRowStride, y, yOff, accumulate);
    } else {
      gemvScalar(n, k, x, xOff, xStride, w, wType, wOff, wRowStride, y, yOff, accumulate);
    }
  }

  static void check(int n, int k, DType wType, long wOff, long wRowStride) {
    if (n < 0 || k < 0) {
      throw new IllegalArgumentException("gemv: negative size n=" + n + ", k=" + k);
    }
    if (!wType.isFloatingPoint()) {
      throw new IllegalArgumentException("gemv: weight dtype " + wType + " is not a floating-point storage type");
    }
    if (wType.isQuantized() && (k % QK != 0 || wOff % QK != 0 || wRowStride % QK != 0)) {
      throw new IllegalArgumentException("gemv: " + wType + " weights are read in whole blocks of " + QK
          + " along k, so k, wOff and wRowStride must be multiples of " + QK + "; got k=" + k + ", wOff=" + wOff
          + ", wRowStride=" + wRowStride);
    }
  }

  private static long rowsPerChunk(int k, DType t) {
    return Math.max(1, CHUNK_BYTES / Math.max(1, t.byteOffset(Math.max(QK, k))));
  }

  // ---------------------------------------------------------------------------------------------
  // Scalar twin: one sequential fma chain per row.

  static void gemvScalar(int n, int k, MemorySegment x, long xOff, long xStride, MemorySegment w, DType wType,
      long wOff, long wRowStride, MemorySegment y, long yOff, boolean accumulate) {
    check(n, k, wType, wOff, wRowStride);
    Parallel.forRange(n, rowsPerChunk(k, wType), (j0, j1) -> {
      for (long j = j0; j < j1; j++) {
        long row = wOff + j * wRowStride;
        float s = 0f;
        for (int i = 0; i < k; i++) {
          s = Math.fma(x.get(F32, (xOff + i * xStride) * 4), BlockDecode.get(w, wType, row + i), s);
        }
        long yo = (yOff + j) * 4;
        y.set(F32, yo, accumulate ? y.get(F32, yo) + s : s);
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // SIMD path.

  static void gemvSimd(int n, int k, MemorySegment x, long xOff, long xStride, MemorySegment w, DType wType,
      long wOff, long wRowStride, MemorySegment y, long yOff, boolean accumulate) {
    check(n, k, wType, wOff, wRowStride);
    if (n == 0) {
      return;
    }
    if (wType.isQuantized() && BS == null) {
      gemvScalar(n, k, x, xOff, xStride, w, wType, wOff, wRowStride, y, yOff, accumulate);
      return;
    }
    MemorySegment xv = prepareX(1, k, x, xOff, 0, xStride, wType);
    boolean scaled = scaleF16(wType, 1, k, xv);
    int chunks = chunks(n, k, wType);
    Parallel.forChunks(chunks, (c, worker) -> {
      long j0 = (long) n * c / chunks;
      long j1 = (long) n * (c + 1) / chunks;
      rows(wType, w, wOff, wRowStride, xv, scaled, k, j0, j1, y, yOff, accumulate);
    });
  }

  /**
   * Chunks for n rows: about {@link #CHUNK_BYTES} of weight each, their count rounded up to a
   * multiple of the thread count so every thread streams the same share (a BF16 down_proj of
   * TinyLlama was 11 chunks: one thread read the last alone; the step time did not move measurably
   * on this VM, whose memory speed itself shifts by 1.5x between runs). A row's result does not
   * depend on which chunk holds it, so this split may follow the thread count.
   */
  private static int chunks(long n, int k, DType t) {
    long bytes = n * t.byteOffset(Math.max(QK, k));
    long c = Math.max(1, (bytes + CHUNK_BYTES - 1) / CHUNK_BYTES);
    // Rounded to a multiple of the threads from half a chunk of weight on, without a branch: a
    // process warmed up on small shapes (JitWarmUp) never took one, C2 made it an uncommon trap, and
    // the first real GEMV deoptimized every compiled caller (bytes >= 0, far below 2^62).
    long big = (CHUNK_BYTES / 2 - 1 - bytes) >>> 63; // 1 when bytes >= CHUNK_BYTES / 2, else 0
    long per = 1 + big * (Parallel.threads() - 1);
    c = (c + per - 1) / per * per;
    return (int) Math.max(1, Math.min(n, c));
  }

  /**
   * Y[r, j] = (accumulate ? Y[r, j] : 0) + sum_k X[r, k] * W[j, k] for m rows of x (1 <= m <=
   * {@link #MAX_ROWS}) against the same W: X[r, i] is x[xOff + r * xRs + i * xCs] and Y[r, j] is
   * y[yOff + r * yRs + j]; W as in {@link #gemv(int, int, MemorySegment, long, long, MemorySegment,
   * DType, long, long, MemorySegment, long, boolean)}. Each weight row is read once for all m rows
   * (contrastive decoding's branches stepped as one batch read the weights once, not once per
   * branch). Row r's result is bit-identical to a one-row gemv of X[r] (same operations in the same
   * order; see {@link GemvRows}).
   */
  public static void gemvRows(int m, int n, int k, MemorySegment x, long xOff, long xRs, long xCs, MemorySegment w,
      DType wType, long wOff, long wRowStride, MemorySegment y, long yOff, long yRs, boolean accumulate) {
    if (SIMD) {
      gemvRowsSimd(m, n, k, x, xOff, xRs, xCs, w, wType, wOff, wRowStride, y, yOff, yRs, accumulate);
    } else {
      gemvRowsScalar(m, n, k, x, xOff, xRs, xCs, w, wType, wOff, wRowStride, y, yOff, yRs, accumulate);
    }
  }

  private static void checkRows(int m) {
    if (m < 1 || m > MAX_ROWS) {
      throw new IllegalArgumentException("gemvRows: m=" + m + " rows of x; it takes 1 to " + MAX_ROWS
          + " (fovea.gemv.maxRows), larger batches go through Gemm's packed path");
    }
  }

  /** The scalar twin of {@link #gemvRows}: one {@link #gemvScalar} per row of x. */
  static void gemvRowsScalar(int m, int n, int k, MemorySegment x, long xOff, long xRs, long xCs, MemorySegment w,
      DType wType, long wOff, long wRowStride, MemorySegment y, long yOff, long yRs, boolean accumulate) {
    checkRows(m);
    for (int r = 0; r < m; r++) {
      gemvScalar(n, k, x, xOff + r * xRs, xCs, w, wType, wOff, wRowStride, y, yOff + r * yRs, accumulate);
    }
  }

  static void gemvRowsSimd(int m, int n, int k, MemorySegment x, long xOff, long xRs, long xCs, MemorySegment w,
      DType wType, long wOff, long wRowStride, MemorySegment y, long yOff, long yRs, boolean accumulate) {
    checkRows(m);
    check(n, k, wType, wOff, wRowStride);
    if (m == 1) {
      gemvSimd(n, k, x, xOff, xCs, w, wType, wOff, wRowStride, y, yOff, accumulate);
      return;
    }
    if (n == 0) {
      return;
    }
    if (wType.isQuantized() && BS == null) {
      gemvRowsScalar(m, n, k, x, xOff, xRs, xCs, w, wType, wOff, wRowStride, y, yOff, yRs, accumulate);
      return;
    }
    MemorySegment xv = prepareX(m, k, x, xOff, xRs, xCs, wType);
    boolean scaled = scaleF16(wType, m, k, xv);
    int chunks = chunks(n, k, wType);
    Parallel.forChunks(chunks, (c, worker) -> {
      long j0 = (long) n * c / chunks;
      long j1 = (long) n * (c + 1) / chunks;
      GemvRows.rows(m, wType, w, wOff, wRowStride, xv, scaled, xRowBytes(k), k, j0, j1, y, yOff, yRs, accumulate);
    });
  }

  /**
   * One weight of {@link #gemvMany}: W [n, k] from element wOff with row stride wRowStride
   * (elements); y row r (of x's rows) from element yOff + r * yRowStride.
   */
  public record Rows(int n, MemorySegment w, long wOff, long wRowStride, MemorySegment y, long yOff, long yRowStride) {
    /** For one row of x (yRowStride n, unused). */
    public Rows(int n, MemorySegment w, long wOff, long wRowStride, MemorySegment y, long yOff) {
      this(n, w, wOff, wRowStride, y, yOff, n);
    }
  }

  /**
   * y_i = x W_i^T for several weights of one dtype that share x (a layer's q/k/v or gate/up
   * projections at a decode step): x is prepared once and one parallel pass runs every weight's
   * rows laid end to end, split into chunks as one GEMV of all of them; each y_i is bit-identical
   * to a separate call (a row's result never depends on its chunk). Small weights (a GQA k/v
   * projection is one chunk) then run beside the others instead of alone on one thread, and the
   * pass pays one fork/join instead of several (TinyLlama F32 step: q/k/v 11.9 -> 11.5 ms, within
   * noise on 2 threads; the point is more threads).
   */
  public static void gemvMany(int k, MemorySegment x, long xOff, long xStride, DType wType, Rows... weights) {
    gemvMany(1, k, x, xOff, 0, xStride, wType, weights);
  }

  /**
   * {@link #gemvMany(int, MemorySegment, long, long, DType, Rows...)} for m rows of x (1 <= m <=
   * {@link #MAX_ROWS}; row r at element xOff + r * xRs, strided by xCs along k): each weight row is
   * read once for all m rows, and each y row is bit-identical to a one-row gemv of that x row.
   */
  public static void gemvMany(int m, int k, MemorySegment x, long xOff, long xRs, long xCs, DType wType, Rows... weights) {
    checkRows(m);
    for (Rows r : weights) {
      check(r.n(), k, wType, r.wOff(), r.wRowStride());
    }
    if (!SIMD || (wType.isQuantized() && BS == null)) {
      for (Rows r : weights) {
        gemvRows(m, r.n(), k, x, xOff, xRs, xCs, r.w(), wType, r.wOff(), r.wRowStride(), r.y(), r.yOff(), r.yRowStride(), false);
      }
      return;
    }
    long[] first = new long[weights.length + 1]; // virtual row where each weight's rows start
    for (int i = 0; i < weights.length; i++) {
      first[i + 1] = first[i] + weights[i].n();
    }
    long total = first[weights.length];
    if (total == 0) {
      return;
    }
    MemorySegment xv = prepareX(m, k, x, xOff, xRs, xCs, wType);
    boolean scaled = scaleF16(wType, m, k, xv);
    long xRowBytes = xRowBytes(k);
    int chunks = chunks(total, k, wType);
    Parallel.forChunks(chunks, (c, worker) -> {
      // the chunk's share [lo, hi) of the weights' rows laid end to end
      long lo = total * c / chunks;
      long hi = total * (c + 1) / chunks;
      for (int i = 0; i < weights.length && lo < hi; i++) {
        if (lo < first[i + 1]) {
          Rows r = weights[i];
          long end = Math.min(hi, first[i + 1]);
          if (m == 1) {
            rows(wType, r.w(), r.wOff(), r.wRowStride(), xv, scaled, k, lo - first[i], end - first[i], r.y(), r.yOff(), false);
          } else {
            GemvRows.rows(m, wType, r.w(), r.wOff(), r.wRowStride(), xv, scaled, xRowBytes, k, lo - first[i], end - first[i], r.y(),
                r.yOff(), r.yRowStride(), false);
          }
          lo = end;
        }
      }
    });
  }

  /** Bytes from one prepared row of x to the next: k floats rounded up to whole 64-byte lines. */
  static long xRowBytes(int k) {
    return 4L * ((k + 15) & ~15);
  }

  /**
   * x's m rows (row r from element xOff + r * xRs, element i at + i * xCs) copied into this
   * thread's aligned buffer, row r from byte r * {@link #xRowBytes} (each in even/odd order for
   * the 16-bit kernels); valid until this thread's next GEMV.
   */
  private static MemorySegment prepareX(int m, int k, MemorySegment x, long xOff, long xRs, long xCs, DType wType) {
    float[] xs = XBUF.get();
    if (xs.length < k) {
      xs = new float[k];
      XBUF.set(xs);
    }
    long rowBytes = xRowBytes(k);
    MemorySegment xseg = XSEG.get();
    if (xseg.byteSize() < X_ROWS * rowBytes) {
      xseg = Arena.ofAuto().allocate(X_ROWS * rowBytes, 64);
      XSEG.set(xseg);
    }
    for (int r = 0; r < m; r++) {
      long o = xOff + r * xRs;
      if (xCs == 1) {
        MemorySegment.copy(x, F32, o * 4, xs, 0, k);
      } else {
        for (int i = 0; i < k; i++) {
          xs[i] = x.get(F32, (o + i * xCs) * 4);
        }
      }
      if (wType == DType.BF16 || wType == DType.F16) {
        deinterleave(xs, k);
      }
      MemorySegment.copy(xs, 0, xseg, F32, r * rowBytes, k);
    }
    return xseg;
  }

  /**
   * For F16 weights, k from {@link #F16_QUAD_K} and one or two prepared rows of x (the kernels that
   * take a scaled x: {@link #rowsF16}, GemvRows' dotF16x2Quad): when every |x| those kernels' vector
   * loops read (the first k - k % 2L of each row; their scalar tails read x itself) is below 2^16,
   * so no NaN or infinity either, writes it times 2^112 (exact: a change of exponent that cannot
   * overflow) into the buffer's rows m to 2m - 1 and returns true; otherwise false, and the rows take
   * the unscaled kernels.
   */
  private static boolean scaleF16(DType wType, int m, int k, MemorySegment xv) {
    if (wType != DType.F16 || k < F16_QUAD_K || m > 2) {
      return false;
    }
    long rowBytes = xRowBytes(k);
    int kv = k - k % (2 * L);
    for (int r = 0; r < m; r++) {
      FloatVector big = FloatVector.zero(S);
      for (int i = 0; i < kv; i += L) {
        big = big.max(FloatVector.fromMemorySegment(S, xv, r * rowBytes + 4L * i, LE).abs());
      }
      if (!(big.reduceLanes(VectorOperators.MAX) < 0x1p16f)) { // NaN if any lane was
        return false;
      }
    }
    for (int r = 0; r < m; r++) {
      for (int i = 0; i < kv; i += L) {
        FloatVector.fromMemorySegment(S, xv, r * rowBytes + 4L * i, LE).mul(F16_X_SCALE)
            .intoMemorySegment(xv, (m + r) * rowBytes + 4L * i, LE);
      }
    }
    return true;
  }

  /** Rows [j0, j1) of one weight against the prepared x (scaled: an F16 x times 2^112 is in the buffer's row 1). */
  private static void rows(DType wType, MemorySegment w, long wOff, long wRowStride, MemorySegment xv, boolean scaled, int k,
      long j0, long j1, MemorySegment y, long yOff, boolean accumulate) {
    switch (wType) {
      case F32 -> rowsF32(w, wOff * 4, wRowStride * 4, xv, k, j0, j1, y, yOff, accumulate);
      case BF16 -> rows16(false, w, wOff * 2, wRowStride * 2, xv, k, j0, j1, y, yOff, accumulate);
      case F16 -> {
        if (scaled) {
          rowsF16(w, wOff * 2, wRowStride * 2, xv, k, j0, j1, y, yOff, accumulate);
        } else {
          rows16(true, w, wOff * 2, wRowStride * 2, xv, k, j0, j1, y, yOff, accumulate);
        }
      }
      case Q8_0, Q4_0 -> rowsBlocks(wType == DType.Q8_0, w, wType.byteOffset(wOff),
          wType.byteOffset(wRowStride), xv, k, j0, j1, y, yOff, accumulate);
      case I32, I64 -> throw new IllegalStateException("unreachable: checked above");
    }
  }

  static void store(MemorySegment y, long j, float s, boolean accumulate) {
    long yo = j * 4;
    y.set(F32, yo, accumulate ? y.get(F32, yo) + s : s);
  }

  static FloatVector f32(MemorySegment w, long o) {
    return FloatVector.fromMemorySegment(S, w, o, ByteOrder.LITTLE_ENDIAN);
  }

  static IntVector i32(MemorySegment w, long o) {
    return IntVector.fromMemorySegment(IS, w, o, ByteOrder.LITTLE_ENDIAN);
  }

  /*
   * Row kernels: one row at a time, one weight stream. (In 2026-11 four rows sharing each x load
   * measured the same in cache but about 30% slower from DRAM on Zen 4, for F32 and BF16 alike; two
   * rows, on this project's 2-core EPYC VM, ~10% slower in a counted loop. The exceptions, each
   * measured: BF16 rows (at every k since 2026-11-24, in a guarded loop) and Q8_0 / Q4_0 rows run in
   * pairs half a chunk apart; Q8_0 / Q4_0 rows from k 4096 on, F32 rows from k 2048 on and F16 and
   * BF16 rows from k 256 on (since 2026-12-07; the 16-bit ones in guarded loops) in fours a quarter
   * chunk apart; see BF16_PAIR_K, BF16_QUAD_K, F16_QUAD_K, QUANT_QUAD_K, F32_QUAD_K and
   * rowsBlocks.) Per row, F32:
   *
   *   a += w[i, i+L) * x[i, i+L)                      for i = 0, L, 2L, ...
   *   s = hsum(a), then s = fma(w[i], x[i], s) for the rest
   *
   * One accumulator: from DRAM at 2 threads the one-chain loop read 65-68 GB/s where two
   * accumulators (even and odd vectors) read 60-63 (1 GiB of 2048-wide rows, same process, the
   * two alternating; read bandwidth 76 GB/s); the fma latency chain (64 bytes per 4 cycles) is
   * still far above one core's share of DRAM bandwidth, though in cache two chains would be faster.
   * For BF16/F16 a pair (a, b) holds the even and odd elements of each 2L group (x is
   * deinterleaved to match). Each kernel is one small method whose vectors never cross a call that
   * C2 might not inline: a vector API loop expands into many IR nodes, and past
   * NodeCountInliningCutoff (reached by three F16 conversions in one method) C2 stops inlining,
   * which boxes every vector handed to a helper. Offsets are in bytes: o0 is the row's, rs the row
   * stride.
   */

  /**
   * From this k on (default 2048; {@code -Dfovea.gemv.f32.quadK}), F32 rows go in fours a quarter
   * chunk apart that share each x load ({@link #dotF32Quad}); each row's sum is bit-identical to
   * {@link #dotF32}'s. Zen 4 VM, 2026-12-07: the TinyLlama-shaped F32 GGUF loaded from its file,
   * decode steps at context 600 on 2 threads with one, two and four rows at once alternating every
   * 8 steps in one process (16 rounds): 231.9, 219.1 and 197.1 ms a step (medians). Per weight,
   * medians of 12-15 passes over 400 MB in an arena (GB/s; one row / pairs / fours / a plain
   * 4-accumulator read of the same bytes): n 2048 x k 2048 2 threads 18.9 / 24.1 / 23.6 / 30.4, 1
   * thread 9.8 / 11.8 / 15.5 / 23.3; n 32000 x k 2048 2 threads 19.4 / 22.4 / 23.2 / 29.4. One row
   * with four accumulators (other bits) read like pairs. This VM's memory speed shifts between
   * minutes: sorted by the plain read of the same round (1,348 rounds of n 32000 x k 2048, 2
   * threads), fours read 21.6, 25.7 and 31.5 GB/s in the slow, middle and fast thirds against one
   * row's 18.5, 19.3 and 19.7; an earlier fast spell had one row ahead (n 32000 x k 2048, 28.0
   * against 24.2 on 1 thread, 46.7 against 41.3 on 2), and at n 2048 x k 5632 with 4 weights one
   * row read 17.6-19.3 against fours' 16.1-18.3. The model's step decides it; below k 2048 (k 768:
   * 26.0 against 25.3 on 1 thread, 26.4 against 24.7 on 2; k 128 20.2 against 16.6) one row stays.
   * All of these were the fours' first loop, one vector a row per iteration; the loop now takes
   * two (see dotF32Quad), which may move the threshold down: not measured below k 2048.
   */
  static final int F32_QUAD_K = Integer.getInteger("fovea.gemv.f32.quadK", 2048);

  private static void rowsF32(MemorySegment w, long wOffB, long rs, MemorySegment x, int k, long j0, long j1,
      MemorySegment y, long yOff, boolean accumulate) {
    if (k >= F32_QUAD_K) {
      long q = (j1 - j0) / 4;
      for (long j = j0; j < j0 + q; j++) {
        dotF32Quad(w, wOffB + j * rs, q * rs, x, k, y, yOff + j, q, accumulate);
      }
      j0 += 4 * q;
    }
    for (long j = j0; j < j1; j++) {
      store(y, yOff + j, dotF32(w, wOffB + j * rs, x, k), accumulate);
    }
  }

  private static float dotF32(MemorySegment w, long o0, MemorySegment x, int k) {
    FloatVector a0 = FloatVector.zero(S);
    long kb = 4L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      a0 = f32(w, o0 + d).fma(f32(x, d), a0);
    }
    return tailF32(CpuMath.hsum(a0), w, o0, x, 0, (int) (d / 4), k);
  }

  /**
   * Four F32 rows at byte offsets o0 + i dw sharing each x load; each row's accumulator sees the
   * fmas of {@link #dotF32} in the same order. The loop takes two vectors of each row per
   * iteration: with one (the form of dotF32), C2's loop read 9.6 GB/s on one thread at 4096 x 11008
   * and 18.9 on two; with two, 23.5 and 44.4 (Zen 4, 2026-12-07, both forms alternating pass by pass
   * over 400 MB in one process; 2048 x 2048 12.3 -> 23.9 and 22.7 -> 32.8, 5632 x 2048 12.7 -> 24.6
   * and 24.3 -> 46.1). OpenBLAS's sgemv read the 4096 x 11008 weight at 23.7 and 35.1 that day. The
   * TinyLlama F32 GGUF's decode step, both forms alternating in one process: 155.4 -> 125.9 ms.
   */
  private static void dotF32Quad(MemorySegment w, long o0, long dw, MemorySegment x, int k, MemorySegment y, long j,
      long dj, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    long o1 = o0 + dw, o2 = o1 + dw, o3 = o2 + dw;
    long kb = 4L * k;
    long d = 0;
    for (; d <= kb - 8L * L; d += 8L * L) {
      FloatVector xv = FloatVector.fromMemorySegment(S, x, d, LE);
      FloatVector xw = FloatVector.fromMemorySegment(S, x, d + 4L * L, LE);
      FloatVector w0 = FloatVector.fromMemorySegment(S, w, o0 + d, LE);
      FloatVector w1 = FloatVector.fromMemorySegment(S, w, o1 + d, LE);
      FloatVector w2 = FloatVector.fromMemorySegment(S, w, o2 + d, LE);
      FloatVector w3 = FloatVector.fromMemorySegment(S, w, o3 + d, LE);
      FloatVector u0 = FloatVector.fromMemorySegment(S, w, o0 + d + 4L * L, LE);
      FloatVector u1 = FloatVector.fromMemorySegment(S, w, o1 + d + 4L * L, LE);
      FloatVector u2 = FloatVector.fromMemorySegment(S, w, o2 + d + 4L * L, LE);
      FloatVector u3 = FloatVector.fromMemorySegment(S, w, o3 + d + 4L * L, LE);
      a0 = u0.fma(xw, w0.fma(xv, a0));
      a1 = u1.fma(xw, w1.fma(xv, a1));
      a2 = u2.fma(xw, w2.fma(xv, a2));
      a3 = u3.fma(xw, w3.fma(xv, a3));
    }
    for (; d <= kb - 4L * L; d += 4L * L) {
      FloatVector xv = FloatVector.fromMemorySegment(S, x, d, LE);
      a0 = FloatVector.fromMemorySegment(S, w, o0 + d, LE).fma(xv, a0);
      a1 = FloatVector.fromMemorySegment(S, w, o1 + d, LE).fma(xv, a1);
      a2 = FloatVector.fromMemorySegment(S, w, o2 + d, LE).fma(xv, a2);
      a3 = FloatVector.fromMemorySegment(S, w, o3 + d, LE).fma(xv, a3);
    }
    int i = (int) (d / 4);
    for (int r = 0; r < 4; r++) { // one reduction site, see dotBf16Pair
      FloatVector s = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        s = s.add(s.rearrange(f));
      }
      store(y, j + r * dj, tailF32(s.lane(0), w, o0 + r * dw, x, 0, i, k), accumulate);
    }
  }

  /** s plus the scalar fmas of elements [i, k) of the row at byte o of w and the x row at byte xo. */
  static float tailF32(float s, MemorySegment w, long o, MemorySegment x, long xo, int i, int k) {
    for (; i < k; i++) {
      s = Math.fma(w.get(F32, o + (long) i * 4), x.get(F32, xo + (long) i * 4), s);
    }
    return s;
  }

  /**
   * Reorders x in place, per group of 2L elements, into [even elements, odd elements]: the BF16
   * and F16 kernels read 2L 16-bit values as L ints, whose low halves are the even elements and
   * high halves the odd ones. A tail shorter than 2L keeps its order.
   */
  private static void deinterleave(float[] x, int k) {
    float[] tmp = new float[2 * L];
    for (int g = 0; g + 2 * L <= k; g += 2 * L) {
      for (int i = 0; i < L; i++) {
        tmp[i] = x[g + 2 * i];
        tmp[L + i] = x[g + 2 * i + 1];
      }
      System.arraycopy(tmp, 0, x, g, 2 * L);
    }
  }

  private static void rows16(boolean f16, MemorySegment w, long wOffB, long rs, MemorySegment x, int k, long j0, long j1,
      MemorySegment y, long yOff, boolean accumulate) {
    if (!f16 && k >= BF16_QUAD_K) {
      long q = (j1 - j0) / 4;
      for (long j = j0; j < j0 + q; j++) {
        dotBf16Quad(w, wOffB + j * rs, q * rs, x, k, y, yOff + j, q, accumulate);
      }
      j0 += 4 * q;
    }
    if (!f16 && k >= BF16_PAIR_K) {
      // rows j and j + half share each x load: two weight streams half a chunk apart
      long half = (j1 - j0) / 2;
      for (long j = j0; j < j0 + half; j++) {
        dotBf16Pair(w, wOffB + j * rs, half * rs, x, k, y, yOff + j, yOff + j + half, accumulate);
      }
      j0 += 2 * half;
    }
    for (long j = j0; j < j1; j++) {
      float s = f16 ? dotF16(w, wOffB + j * rs, x, k) : dotBf16(w, wOffB + j * rs, x, k);
      store(y, yOff + j, s, accumulate);
    }
  }

  /**
   * Four BF16 rows at byte offsets o0 + i dw sharing each x load, each with the fmas of {@link
   * #dotBf16} in its order (its wide loop gives each accumulator the same sequence as this one
   * vector a row), into y[j + i dj].
   */
  private static void dotBf16Quad(MemorySegment w, long o0, long dw, MemorySegment x, int k, MemorySegment y,
      long j, long dj, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    long o1 = o0 + dw, o2 = o1 + dw, o3 = o2 + dw;
    long kb = 2L * k;
    long d = 0;
    for (; UNCOUNTED && d <= kb - 4L * L; d += 4L * L) {
      FloatVector x0 = FloatVector.fromMemorySegment(S, x, 2 * d, LE);
      FloatVector x1 = FloatVector.fromMemorySegment(S, x, 2 * d + 4L * L, LE);
      IntVector v0 = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      IntVector v1 = IntVector.fromMemorySegment(IS, w, o1 + d, LE);
      IntVector v2 = IntVector.fromMemorySegment(IS, w, o2 + d, LE);
      IntVector v3 = IntVector.fromMemorySegment(IS, w, o3 + d, LE);
      a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
      b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b0);
      a1 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a1);
      b1 = v1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b1);
      a2 = v2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a2);
      b2 = v2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b2);
      a3 = v3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a3);
      b3 = v3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b3);
    }
    int i = (int) (d / 2);
    FloatVector s0 = a0.add(b0), s1 = a1.add(b1), s2 = a2.add(b2), s3 = a3.add(b3); // see dotF16Quad
    for (int r = 0; r < 4; r++) { // one reduction site, see dotBf16Pair
      FloatVector s = r == 0 ? s0 : r == 1 ? s1 : r == 2 ? s2 : s3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        s = s.add(s.rearrange(f));
      }
      store(y, j + r * dj, tail16(s.lane(0), w, o0 + r * dw, x, 0, i, k, false), accumulate);
    }
  }

  private static float dotBf16(MemorySegment w, long o0, MemorySegment x, int k) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0;
    long kb = 2L * k;
    long d = 0;
    for (; BF16_WIDE && d <= kb - 8L * L; d += 8L * L) {
      IntVector v0 = i32(w, o0 + d), v1 = i32(w, o0 + d + 4L * L);
      a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(f32(x, 2 * d), a0);
      b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(f32(x, 2 * d + 4L * L), b0);
      a0 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(f32(x, 2 * d + 8L * L), a0);
      b0 = v1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(f32(x, 2 * d + 12L * L), b0);
    }
    for (; d <= kb - 4L * L; d += 4L * L) {
      IntVector v0 = i32(w, o0 + d);
      a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(f32(x, 2 * d), a0);
      b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(f32(x, 2 * d + 4L * L), b0);
    }
    return tail16(CpuMath.hsum(a0.add(b0)), w, o0, x, 0, (int) (d / 2), k, false);
  }

  /**
   * Rows at byte offsets o0 and o0 + d1 at once, sharing the x loads; each row sees exactly the fma
   * sequence of {@link #dotBf16}, so the results are bit-identical to two separate calls.
   */
  private static void dotBf16Pair(MemorySegment w, long o0, long d1, MemorySegment x, int k, MemorySegment y, long j0,
      long j1, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0, a1 = a0, b1 = a0;
    long o1 = o0 + d1;
    long kb = 2L * k;
    long d = 0;
    for (; BF16_WIDE && d <= kb - 8L * L; d += 8L * L) {
      FloatVector x0 = FloatVector.fromMemorySegment(S, x, 2 * d, LE);
      FloatVector x1 = FloatVector.fromMemorySegment(S, x, 2 * d + 4L * L, LE);
      FloatVector x2 = FloatVector.fromMemorySegment(S, x, 2 * d + 8L * L, LE);
      FloatVector x3 = FloatVector.fromMemorySegment(S, x, 2 * d + 12L * L, LE);
      IntVector v0 = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      IntVector v1 = IntVector.fromMemorySegment(IS, w, o0 + d + 4L * L, LE);
      IntVector u0 = IntVector.fromMemorySegment(IS, w, o1 + d, LE);
      IntVector u1 = IntVector.fromMemorySegment(IS, w, o1 + d + 4L * L, LE);
      a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
      b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b0);
      a1 = u0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a1);
      b1 = u0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b1);
      a0 = v1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x2, a0);
      b0 = v1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x3, b0);
      a1 = u1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x2, a1);
      b1 = u1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x3, b1);
    }
    for (; d <= kb - 4L * L; d += 4L * L) {
      FloatVector x0 = FloatVector.fromMemorySegment(S, x, 2 * d, LE);
      FloatVector x1 = FloatVector.fromMemorySegment(S, x, 2 * d + 4L * L, LE);
      IntVector v0 = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      IntVector u0 = IntVector.fromMemorySegment(IS, w, o1 + d, LE);
      a0 = v0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a0);
      b0 = v0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b0);
      a1 = u0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, a1);
      b1 = u0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(x1, b1);
    }
    int i = (int) (d / 2);
    FloatVector s0 = a0.add(b0), s1 = a1.add(b1);
    // One reduction site for the two rows (with two, the second's lane shuffle was sometimes left
    // un-intrinsified, 2026-11-24), written out with FOLDS: a call to hsum here lay past C2's
    // node-count cut-off in one run of six and boxed a vector per row (see the class comment).
    for (int r = 0; r < 2; r++) {
      FloatVector s = r == 0 ? s0 : s1;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        s = s.add(s.rearrange(f));
      }
      store(y, r == 0 ? j0 : j1, tail16(s.lane(0), w, r == 0 ? o0 : o1, x, 0, i, k, false), accumulate);
    }
  }

  /** As {@link #tailF32} for a BF16 (or, f16, F16) row. */
  static float tail16(float s, MemorySegment w, long o, MemorySegment x, long xo, int i, int k, boolean f16) {
    for (; i < k; i++) {
      short h = w.get(I16, o + (long) i * 2);
      s = Math.fma(f16 ? BlockDecode.f16ToFloat(h) : BlockDecode.bf16ToFloat(h), x.get(F32, xo + (long) i * 4), s);
    }
    return s;
  }

  /*
   * F16 to F32 on int lanes that each hold two halves, exactly: with m the half's 15 exponent and
   * mantissa bits, (m << 13) read as a float and multiplied by 2^112 is the value for normal and
   * subnormal halves alike; exponent 31 (inf, NaN) is first widened to exponent 255; the sign bit is
   * then or-ed in. Low halves are the even elements, high halves the odd ones.
   */
  static final int F16_MAG = 0x7FFF << 13;
  static final int F16_INF = 0x7C00 << 13;
  static final int SIGN = 0x80000000;
  static final float F16_SCALE = 0x1p112f;

  static FloatVector f16Lo(IntVector v) {
    IntVector m = v.lanewise(VectorOperators.LSHL, 13).lanewise(VectorOperators.AND, F16_MAG);
    m = m.lanewise(VectorOperators.OR, 0x7F800000, m.compare(VectorOperators.GE, F16_INF));
    IntVector sign = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.AND, SIGN);
    return m.reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().lanewise(VectorOperators.OR, sign)
        .reinterpretAsFloats();
  }

  static FloatVector f16Hi(IntVector v) {
    IntVector m = v.lanewise(VectorOperators.LSHR, 3).lanewise(VectorOperators.AND, F16_MAG);
    m = m.lanewise(VectorOperators.OR, 0x7F800000, m.compare(VectorOperators.GE, F16_INF));
    IntVector sign = v.lanewise(VectorOperators.AND, SIGN);
    return m.reinterpretAsFloats().mul(F16_SCALE).reinterpretAsInts().lanewise(VectorOperators.OR, sign)
        .reinterpretAsFloats();
  }

  private static float dotF16(MemorySegment w, long o0, MemorySegment x, int k) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0;
    long kb = 2L * k;
    long d = 0;
    for (; d <= kb - 4L * L; d += 4L * L) {
      IntVector v0 = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      a0 = f16Lo(v0).fma(FloatVector.fromMemorySegment(S, x, 2 * d, LE), a0);
      b0 = f16Hi(v0).fma(FloatVector.fromMemorySegment(S, x, 2 * d + 4L * L, LE), b0);
    }
    FloatVector h = a0.add(b0);
    for (VectorShuffle<Float> f : CpuMath.FOLDS) {
      h = h.add(h.rearrange(f));
    }
    return tail16(h.lane(0), w, o0, x, 0, (int) (d / 2), k, true);
  }

  /*
   * F16 rows in fours against a scaled x (one-row GEMVs from F16_QUAD_K on whose |x| < 2^16, see
   * scaleF16). The half at the top of an int lane, shifted right arithmetically by 3 and masked
   * with 0x8FFFE000, is the f32 with the half's sign, its 5 exponent bits as the f32 exponent and
   * its mantissa at the top of the f32's: read as a float it is the half's value times 2^-112,
   * exactly, normal and subnormal alike (an f32 subnormal for a half subnormal). fma(that, x 2^112,
   * a) is fma(w, x, a) bit for bit: both products are the same real number and the fma rounds once.
   * Two or three integer ops a half where f16Lo / f16Hi take seven or eight, and few enough nodes
   * that four rows fit one kernel (an F16 pair kernel with dotF16's conversions crossed C2's
   * inlining budget). Exponent 31 (infinities, NaN) would come out finite: the kernel ors (h &
   * 0x7C00) + 0x0400 of every half into a vector whose bits 15 and 31 then say whether any had it,
   * and those four rows are computed again by dotF16 (such a row's sum is an infinity or NaN in any
   * order: no sum of finite products, each below 2^32, can overflow).
   *
   * Zen 4, 2026-12-07 (Gemv.gemv over 400 MB of F16 weights in an arena, fours and dotF16's single
   * rows alternating pass by pass in one process, medians of 15 passes, GB/s; 2 threads / 1
   * thread): 2048 x 5632 17.0 -> 30.9 / 9.0 -> 17.5; 5632 x 2048 35.3 -> 40.1 / 22.4 -> 25.9;
   * 4096 x 1024 32.7 -> 33.0 / 21.0 -> 26.6; 8192 x 512 29.0 -> 31.7 / 17.1 -> 22.8; 8192 x 256
   * 25.9 -> 27.4 / 14.3 -> 18.2; 16384 x 128 20.2 -> 20.0 / 10.5 -> 12.7. The TinyLlama-shaped F16
   * GGUF loaded from its file, decode steps at context 600 on 2 threads, the two alternating every
   * 8 steps (30 rounds, two processes): 57.7 -> 52.3 and 58.3 -> 51.2 ms a step (medians);
   * LlamaProfile (arena weights, old and new in alternate processes) put the gain in down_proj (k
   * 5632: 25.1-25.8 -> 19.0-19.2 ms). Single rows of the scaled form (with the check) were no
   * faster than dotF16 at k 2048 and slower in the model, and pairs of them slower than fours: the
   * rows that are not a four's take dotF16.
   */
  private static final float F16_X_SCALE = 0x1p112f;
  static final int F16_RAW = 0x8FFFE000;
  static final int F16_EXP = 0x7C007C00, F16_EXP_ONE = 0x04000400, F16_EXP_CARRY = 0x80008000;

  /**
   * From this k on (default 256; {@code -Dfovea.gemv.f16.quadK}), one-row F16 GEMVs take their
   * rows in fours a quarter chunk apart against x 2^112 ({@link #dotF16Quad}); below it, or when
   * some |x| >= 2^16, every row takes {@link #dotF16}. Each row's sum is bit-identical either way.
   */
  static final int F16_QUAD_K = Integer.getInteger("fovea.gemv.f16.quadK", 256);

  /** F16 rows [j0, j1) against x (even/odd order) with x 2^112 in the buffer's row 1: fours, dotF16 for the rest. */
  private static void rowsF16(MemorySegment w, long wOffB, long rs, MemorySegment x, int k, long j0, long j1,
      MemorySegment y, long yOff, boolean accumulate) {
    long xs = xRowBytes(k);
    long q = (j1 - j0) / 4;
    for (long j = j0; j < j0 + q; j++) {
      if (!dotF16Quad(w, wOffB + j * rs, q * rs, x, xs, k, y, yOff + j, q, accumulate)) {
        for (int r = 0; r < 4; r++) {
          store(y, yOff + j + r * q, dotF16(w, wOffB + (j + r * q) * rs, x, k), accumulate);
        }
      }
    }
    for (long j = j0 + 4 * q; j < j1; j++) {
      store(y, yOff + j, dotF16(w, wOffB + j * rs, x, k), accumulate);
    }
  }

  /**
   * Four F16 rows at byte offsets o0 + i dw sharing each load of x 2^112, each with the fmas of
   * {@link #dotF16} in its order, into y[j + i dj]; false, storing nothing, when a half in the four
   * rows' vector parts is an infinity or NaN.
   */
  private static boolean dotF16Quad(MemorySegment w, long o0, long dw, MemorySegment x, long xs, int k, MemorySegment y,
      long j, long dj, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    IntVector e = IntVector.zero(IS);
    long o1 = o0 + dw, o2 = o1 + dw, o3 = o2 + dw;
    long kb = 2L * k;
    long d = 0;
    for (; UNCOUNTED && d <= kb - 4L * L; d += 4L * L) {
      FloatVector x0 = FloatVector.fromMemorySegment(S, x, xs + 2 * d, LE);
      FloatVector x1 = FloatVector.fromMemorySegment(S, x, xs + 2 * d + 4L * L, LE);
      IntVector v0 = IntVector.fromMemorySegment(IS, w, o0 + d, LE);
      IntVector v1 = IntVector.fromMemorySegment(IS, w, o1 + d, LE);
      IntVector v2 = IntVector.fromMemorySegment(IS, w, o2 + d, LE);
      IntVector v3 = IntVector.fromMemorySegment(IS, w, o3 + d, LE);
      a0 = v0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW)
          .reinterpretAsFloats().fma(x0, a0);
      b0 = v0.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW).reinterpretAsFloats().fma(x1, b0);
      a1 = v1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW)
          .reinterpretAsFloats().fma(x0, a1);
      b1 = v1.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW).reinterpretAsFloats().fma(x1, b1);
      a2 = v2.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW)
          .reinterpretAsFloats().fma(x0, a2);
      b2 = v2.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW).reinterpretAsFloats().fma(x1, b2);
      a3 = v3.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW)
          .reinterpretAsFloats().fma(x0, a3);
      b3 = v3.lanewise(VectorOperators.ASHR, 3).lanewise(VectorOperators.AND, F16_RAW).reinterpretAsFloats().fma(x1, b3);
      e = e.lanewise(VectorOperators.OR, v0.lanewise(VectorOperators.AND, F16_EXP).add(F16_EXP_ONE))
          .lanewise(VectorOperators.OR, v1.lanewise(VectorOperators.AND, F16_EXP).add(F16_EXP_ONE))
          .lanewise(VectorOperators.OR, v2.lanewise(VectorOperators.AND, F16_EXP).add(F16_EXP_ONE))
          .lanewise(VectorOperators.OR, v3.lanewise(VectorOperators.AND, F16_EXP).add(F16_EXP_ONE));
    }
    if ((e.reduceLanes(VectorOperators.OR) & F16_EXP_CARRY) != 0) {
      return false;
    }
    int i = (int) (d / 2);
    // the sums before the ternary, not inside it: C2 ran such a form at half speed (2026-12-07)
    FloatVector s0 = a0.add(b0), s1 = a1.add(b1), s2 = a2.add(b2), s3 = a3.add(b3);
    for (int r = 0; r < 4; r++) { // one reduction site, see dotBf16Pair
      FloatVector s = r == 0 ? s0 : r == 1 ? s1 : r == 2 ? s2 : s3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        s = s.add(s.rearrange(f));
      }
      store(y, j + r * dj, tail16(s.lane(0), w, o0 + r * dw, x, 0, i, k, true), accumulate);
    }
    return true;
  }

  /*
   * Q8_0 rows (34-byte blocks: f16 scale d, then 32 int8). Per row and block: s = q[0, L) * x,
   * s = fma(q[p, p + L), x, s) for the next parts (each an L-byte load widened to f32), then
   * a = fma(s, d, a) into the row's one accumulator; the row's result is hsum(a).
   *
   * Rows run in pairs ({@link #rowsBlocks}, {@link #dotQ8_0Pair}): rows j and j + h of a chunk of
   * 2h (+ 1) rows, two weight streams half a chunk apart sharing each x load, with two accumulator
   * chains; an odd last row runs alone ({@link #dotQ8_0}) with the same operations, so every row's
   * bits are those of the row computed alone. Measured on this project's 2-core Zen 5 VM (2026-11,
   * ~150 MB of Q8_0 rows from DRAM, through Gemv.gemv; 2 threads, 1 thread in brackets):
   *
   *   k      previous kernel   one block per iteration, single rows   pairs
   *   2048   27 GB/s           39-43 (24)                             51 (33)
   *   5632   36                32-35 (17.8)                           34 (20.6)
   *   8192   -                 19.8 (11.9)                            29 (15.6)
   *
   * The previous kernel stepped two blocks per iteration with a long byte offset as its loop
   * variable, which C2 compiled into a clamp-and-cmov sequence around every bounds check (~200
   * instructions per two blocks). A lone row reads x (4k bytes) once per weight byte, and once x
   * crowds L1 it slows down (k 8192). TinyLlama Q8_0 decode step (LlamaProfile, 2 threads): 54 ->
   * 40 ms. Tried and dropped: rows in fours (a quarter chunk apart) were no faster in the model, and
   * C2 left one widening conversion per call un-intrinsified (a heap float[] each, caught by
   * KernelAllocationTest); four ADJACENT rows (2176 bytes apart) read 7.6 GB/s at 1 thread; one
   * 32-byte load per block with its part 1 converted costs a byte shuffle per part and, in the
   * four-row kernel, boxed vectors (8 GB/s).
   */

  /**
   * From this k on (default 4096; {@code -Dfovea.gemv.quant.quadK}), Q8_0 and Q4_0 rows go in fours that
   * share each x load ({@link #dotQ8_0Quad}, {@link #dotQ4_0Quad}): rows j, j + q, j + 2q and j +
   * 3q of a chunk, q a quarter of its rows, four weight streams; the rest, and every row below this
   * k, in pairs as before. Every row sees exactly the operations of the one-row kernel either way
   * (GemvTest). Long rows are where x (4k bytes, read again for every row) crowds the weights out
   * of a 32 KB L1, and four rows per x load halve those reads. Measured on Zen 4 (2026-12-07, 2
   * cores; {@code Gemv.gemv} over 400 MB of weights in an arena, pairs and fours alternating pass
   * by pass in one process, medians of 20 passes, GB/s of weights, "fours faster" in how many of
   * the 20):
   *
   * <pre>
   * dtype  n x k          1 thread pairs / fours   2 threads pairs / fours
   * Q8_0   2048 x 2048    18.3 / 16.1  (2/20)      20.9 / 19.4  (5/20)
   * Q8_0   5632 x 2048     9.8 /  8.4  (1/20)      28.4 / 25.4  (2/20)
   * Q8_0   2048 x 5632     7.7 /  8.4 (20/20)      19.6 / 21.8 (19/20)
   * Q8_0   4096 x 4096    11.8 / 13.5 (20/20)      19.7 / 20.5 (17/20)
   * Q8_0  11008 x 4096    11.0 / 11.2 (16/20)      22.1 / 24.6 (19/20)
   * Q8_0   4096 x 11008   10.1 / 11.9 (18/20)      18.9 / 25.6 (19/20)
   * Q4_0   2048 x 2048     7.9 /  7.0  (1/20)      14.6 / 15.8  (7/20)
   * Q4_0   5632 x 2048     8.0 /  7.6  (6/20)      13.0 / 12.4  (3/20)
   * Q4_0   2048 x 5632     7.5 /  8.1 (19/20)      15.1 / 16.3 (17/20)
   * Q4_0   4096 x 4096     7.6 /  8.2 (20/20)      15.2 / 15.7 (14/20)
   * Q4_0  11008 x 4096     7.7 /  8.2 (16/20)      15.6 / 16.6 (15/20)
   * Q4_0   4096 x 11008    7.0 /  8.2 (20/20)      14.2 / 16.4 (20/20)
   * </pre>
   *
   * (TinyLlama's down_proj is 2048 x 5632; LLaMA-7B's are the last three.) Fours were tried twice
   * before and dropped because KernelAllocationTest, extended to k 4096, reported boxed vectors;
   * that was its warm-up, not the kernels: warmed on 64 rows, the single-row kernel that takes a
   * chunk's odd last row had never been compiled and ran in the interpreter in the measured call.
   * Later the same day, with the VM in a slower state (pairs 12-18 GB/s), three more processes at 2
   * threads: Q8_0 fours still ahead at 2048 x 5632, 4096 x 4096 and 4096 x 11008 (7-10 of 10,
   * +5-25%), Q4_0 ahead at 4096 x 11008 (9-10 of 10) and even at the other two (3-7 of 10). On the
   * user's path (the TinyLlama GGUFs loaded from their files, decode steps at context 600, 2
   * threads, pairs and fours alternating every 8 steps in one process, medians of 20 rounds), where
   * only down_proj takes fours: Q8_0 41.0 -> 39.0 ms a step, Q4_0 39.8 -> 39.9 (no change).
   *
   * <p>Tried the same day and not kept: BF16 fours (the one-vector loop of dotBf16 for four rows,
   * in a counted loop) were 8-28% faster at k >= 4096 in two processes and 12-45% slower (0-1 of
   * 10) in three later ones; the same fours in a guarded loop were kept later that day
   * (BF16_QUAD_K). F32 fours depend on this VM's memory phase and were taken on the model's step
   * (see F32_QUAD_K).
   */
  static final int QUANT_QUAD_K = Integer.getInteger("fovea.gemv.quant.quadK", 4096);

  /**
   * From this k on (default 4096; {@code -Dfovea.gemv.quant.octK}), Q8_0 rows go in eights an eighth
   * of a chunk apart sharing each x load ({@link #dotQ8_0Oct}) instead of fours, and pairs and a lone
   * row take the rest; every row's sum is bit-identical to {@link #dotQ8_0}'s. Long rows are where x
   * (4k bytes, read again for every row) crowds the weights out of a 32 KB L1: at k 5632 the Q8_0
   * fours read at ~0.6 of a plain read of the same bytes (jmh's InterleavedQuantBench), and eight
   * rows a load halve x's reads again. Zen 4, 2026-12-07, a standalone copy of the kernels over 300
   * MB of weights, forms alternating pass by pass in one process (GB/s, medians of 10 passes; fours
   * / eights / plain read): 2048 x 5632 (down_proj), 2 threads 15.8 / 17.9 / 20.3, 20.2 / 24.0 /
   * 33.8, 16.8 / 19.3 / 22.8 (three processes), 1 thread 13.1 / 15.1 / 18.2; 5632 x 2048 (below
   * this k) 16.7 / 19.0 / 21.1, pairs 19.2. The model's step: see the README ("Zen 4, tenth
   * session"). Q4_0 keeps its fours: its nibble decode, not x, limits it, and eights made its step
   * slower (the same in-process alternation, two processes: paired ratios 1.035 and 1.021, eights
   * faster in 7 of 24 rounds each). BF16 eights (a four-row dotBf16Quad made eight) were level on
   * the BF16 step (1.009, 1.003): not kept either.
   */
  static final int QUANT_OCT_K = Integer.getInteger("fovea.gemv.quant.octK", 4096);

  /**
   * The k from which rows of {@code t} go in fours ({@link #F32_QUAD_K} for F32, {@link
   * #F16_QUAD_K} for F16, {@link #BF16_QUAD_K} for BF16, {@link #QUANT_QUAD_K} for Q8_0, and for
   * Q4_0 where L is 16), rounded up to whole blocks for the quantized types and kept within [32,
   * 16384]; 0 for a type that never takes fours (Q4_0 below 16 lanes).
   * llm's {@code JitWarmUp} runs a GEMV this long so that a one-shot run compiles the four-row
   * branch and kernel (and for Q8_0 the eight-row ones, {@link #QUANT_OCT_K}) before the real model's
   * first decode step takes them.
   */
  public static int fourRowK(DType t) {
    int k = switch (t) {
      case F32 -> F32_QUAD_K;
      case F16 -> F16_QUAD_K;
      case BF16 -> BF16_QUAD_K;
      case Q8_0 -> QUANT_QUAD_K;
      case Q4_0 -> L == 16 ? QUANT_QUAD_K : 0;
      default -> 0;
    };
    if (k <= 0) {
      return 0;
    }
    k = Math.clamp(k, QK, 16384);
    return t.isQuantized() ? (k + QK - 1) / QK * QK : k;
  }

  /**
   * Q8_0 (q8) or Q4_0 rows [j0, j1): Q8_0 from {@link #QUANT_OCT_K} on (where L is 16), eights j + i e
   * (i = 0..7, e an eighth of the rows); otherwise from {@link #QUANT_QUAD_K} on, fours j + i q (i =
   * 0..3, q a quarter of the rows); the rest in pairs j and j + h, then an odd last row alone. (Eights
   * leave at most seven rows, which take pairs: a four after the eights would run about once a
   * chunk, too rarely for C2 to compile it soon; KernelAllocationTest saw it boxing in C1.)
   */
  private static void rowsBlocks(boolean q8, MemorySegment w, long wOffB, long rs, MemorySegment x, int k, long j0,
      long j1, MemorySegment y, long yOff, boolean accumulate) {
    if (q8 && L == 16 && k >= QUANT_OCT_K) {
      long e = (j1 - j0) / 8;
      for (long j = j0; j < j0 + e; j++) {
        dotQ8_0Oct(w, wOffB + j * rs, e * rs, x, k, y, yOff + j, e, accumulate);
      }
      j0 += 8 * e;
    } else if (k >= QUANT_QUAD_K && (q8 || L == 16)) {
      long q = (j1 - j0) / 4;
      for (long j = j0; j < j0 + q; j++) {
        if (q8) {
          dotQ8_0Quad(w, wOffB + j * rs, q * rs, x, k, y, yOff + j, q, accumulate);
        } else {
          dotQ4_0Quad(w, wOffB + j * rs, q * rs, x, k, y, yOff + j, q, accumulate);
        }
      }
      j0 += 4 * q;
    }
    long h = (j1 - j0) / 2;
    for (long j = j0; j < j0 + h; j++) {
      if (q8) {
        dotQ8_0Pair(w, wOffB + j * rs, h * rs, x, k, y, yOff + j, h, accumulate);
      } else {
        dotQ4_0Pair(w, wOffB + j * rs, h * rs, x, k, y, yOff + j, h, accumulate);
      }
    }
    for (long j = j0 + 2 * h; j < j1; j++) {
      store(y, yOff + j, q8 ? dotQ8_0(w, wOffB + j * rs, x, k) : dotQ4_0(w, wOffB + j * rs, x, k), accumulate);
    }
  }

  /** L int8 from byte o of w, as f32 (one vector load and a widening conversion of its part 0). */
  static FloatVector q8(MemorySegment w, long o) {
    return (FloatVector) ByteVector.fromMemorySegment(BS, w, o, ByteOrder.LITTLE_ENDIAN)
        .convertShape(VectorOperators.B2F, S, 0);
  }

  /** Dot of the Q8_0 row starting at byte {@code off} with x (see the comment above). */
  private static float dotQ8_0(MemorySegment w, long off, MemorySegment x, int k) {
    FloatVector a0 = FloatVector.zero(S);
    long end = off + (long) (k / QK) * Q8_BYTES;
    long xo = 0;
    for (long o = off; o < end; o += Q8_BYTES, xo += 4L * QK) {
      FloatVector s = q8(w, o + 2).mul(f32(x, xo));
      for (int p = L; p < QK; p += L) {
        s = q8(w, o + 2 + p).fma(f32(x, xo + 4L * p), s);
      }
      a0 = s.fma(FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o))), a0);
    }
    return CpuMath.hsum(a0);
  }

  /**
   * Rows at byte offsets o0 and o0 + d at once, sharing the x loads; results go to y[j] and
   * y[j + dj]. Each row sees exactly the operations of {@link #dotQ8_0}.
   */
  private static void dotQ8_0Pair(MemorySegment w, long o0, long d, MemorySegment x, int k, MemorySegment y, long j,
      long dj, boolean accumulate) {
    // q8 and f32 written out: see the class comment on C2's inlining cut-off
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    long end = o0 + (long) (k / QK) * Q8_BYTES;
    long xo = 0;
    for (long o = o0; o < end; o += Q8_BYTES, xo += 4L * QK) {
      long o1 = o + d;
      FloatVector xp = FloatVector.fromMemorySegment(S, x, xo, LE);
      FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o1 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      for (int p = L; p < QK; p += L) {
        xp = FloatVector.fromMemorySegment(S, x, xo + 4L * p, LE);
        s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2 + p, LE)
            .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s0);
        s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o1 + 2 + p, LE)
            .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s1);
      }
      a0 = s0.fma(FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o))), a0);
      a1 = s1.fma(FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o1))), a1);
    }
    for (int r = 0; r < 2; r++) { // one reduction site, see dotBf16Pair
      FloatVector h = r == 0 ? a0 : a1;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, r == 0 ? j : j + dj, h.lane(0), accumulate);
    }
  }


  /**
   * Four Q8_0 rows at byte offsets o0 + i d (i = 0..3) at once, sharing the x loads; results go to
   * y[j + i dj]. Each row sees exactly the operations of {@link #dotQ8_0}. Everything is written
   * out with the JDK's force-inlined vector methods (no helper of ours takes or returns a vector:
   * this method parses to about C2's inlining cut-off by itself).
   */
  private static void dotQ8_0Quad(MemorySegment w, long o0, long d, MemorySegment x, int k, MemorySegment y, long j,
      long dj, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    long end = o0 + (long) (k / QK) * Q8_BYTES;
    long xo = 0;
    for (long o = o0; o < end; o += Q8_BYTES, xo += 4L * QK) {
      long o1 = o + d, o2 = o1 + d, o3 = o2 + d;
      FloatVector xp = FloatVector.fromMemorySegment(S, x, xo, LE);
      FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o1 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s2 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o2 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s3 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o3 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      for (int p = L; p < QK; p += L) {
        xp = FloatVector.fromMemorySegment(S, x, xo + 4L * p, LE);
        s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2 + p, LE)
            .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s0);
        s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o1 + 2 + p, LE)
            .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s1);
        s2 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o2 + 2 + p, LE)
            .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s2);
        s3 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o3 + 2 + p, LE)
            .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s3);
      }
      a0 = s0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o))), a0);
      a1 = s1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o1))), a1);
      a2 = s2.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o2))), a2);
      a3 = s3.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o3))), a3);
    }
    for (int r = 0; r < 4; r++) { // one reduction site, see dotBf16Pair
      FloatVector h = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, j + r * dj, h.lane(0), accumulate);
    }
  }

  /**
   * Eight Q8_0 rows at byte offsets o0 + i d (i = 0..7) at once, sharing the x loads; results go to
   * y[j + i dj]. Each row sees exactly the operations of {@link #dotQ8_0}; written out as {@link
   * #dotQ8_0Quad} (only the JDK's force-inlined vector methods in the loop). Needs L = 16 (one
   * vector per half block); rowsBlocks sends nothing here otherwise.
   */
  private static void dotQ8_0Oct(MemorySegment w, long o0, long d, MemorySegment x, int k, MemorySegment y, long j,
      long dj, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    long end = o0 + (long) (k / QK) * Q8_BYTES;
    long xo = 0;
    for (long o = o0; o < end; o += Q8_BYTES, xo += 4L * QK) {
      long o1 = o + d, o2 = o1 + d, o3 = o2 + d, o4 = o3 + d, o5 = o4 + d, o6 = o5 + d, o7 = o6 + d;
      FloatVector xp = FloatVector.fromMemorySegment(S, x, xo, LE);
      FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o1 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s2 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o2 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s3 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o3 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s4 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o4 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s5 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o5 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s6 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o6 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      FloatVector s7 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o7 + 2, LE)
          .convertShape(VectorOperators.B2F, S, 0)).mul(xp);
      xp = FloatVector.fromMemorySegment(S, x, xo + 4L * L, LE);
      s0 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s0);
      s1 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o1 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s1);
      s2 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o2 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s2);
      s3 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o3 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s3);
      s4 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o4 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s4);
      s5 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o5 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s5);
      s6 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o6 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s6);
      s7 = ((FloatVector) ByteVector.fromMemorySegment(BS, w, o7 + 2 + L, LE)
          .convertShape(VectorOperators.B2F, S, 0)).fma(xp, s7);
      a0 = s0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o))), a0);
      a1 = s1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o1))), a1);
      a2 = s2.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o2))), a2);
      a3 = s3.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o3))), a3);
      a4 = s4.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o4))), a4);
      a5 = s5.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o5))), a5);
      a6 = s6.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o6))), a6);
      a7 = s7.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o7))), a7);
    }
    for (int r = 0; r < 8; r++) { // one reduction site, see dotBf16Pair
      FloatVector h = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : r == 3 ? a3 : r == 4 ? a4 : r == 5 ? a5 : r == 6 ? a6 : a7;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, j + r * dj, h.lane(0), accumulate);
    }
  }

  /**
   * L bytes from byte o of w, each widened to an int lane (zero-extended): {@link #q4} takes the
   * low and high nibbles out of them.
   */
  static IntVector q4Bytes(MemorySegment w, long o) {
    return (IntVector) ByteVector.fromMemorySegment(BS, w, o, ByteOrder.LITTLE_ENDIAN)
        .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
  }

  /** The bits of 2^23 as f32: or-ed onto an int 0 <= v < 2^23 they give the f32 2^23 + v. */
  static final int Q4_OR = 0x4B00_0000;
  /** 2^23 + 8: subtracted from 2^23 + v it leaves v - 8, exactly. */
  static final float Q4_MAGIC = 0x1p23f + 8;

  /**
   * The low (hi false) or high nibbles of {@link #q4Bytes} lanes minus 8, as f32, without an int to
   * float conversion: the nibble v (and 0xF, or a logical shift right by 4) or-ed with the bits of
   * 2^23 reads as the f32 2^23 + v, and subtracting 2^23 + 8 leaves v - 8 exactly, the values
   * the earlier forms gave (so the same bits: GemvTest). Nibbles are taken in int lanes: x86 has no
   * byte shift (C2 widens, shifts and narrows). GemvStreamBench, Q4_0, k 2048 x n 5632, 2 threads,
   * 2026-11-24: shifting bytes, each block loaded once per nibble half, 22 GB/s; nibbles in int
   * lanes 25; and each block loaded once for both halves (the kernels below) 26-26.6. Then the
   * per-nibble arithmetic (a standalone copy of the pair kernel in each form, 6.5 MB of rows in an
   * arena, 1 thread, forms alternating in one process): on Zen 5 (2026-12-06) sign-extended bytes
   * xor 0x88 and arithmetic shifts 13.1-13.6 GB/s against 12.7-13.1 for mask-and-subtract; on Zen 4
   * (2026-12-07, best of 50 passes, two processes) this form 8.23-8.44 against xor-and-shift's
   * 7.40-7.57, with the same bits: Zen 4 runs a 512-bit int to float conversion as two halves, and
   * this form has none. TinyLlama Q4_0 decode step (LlamaProfile, arena weights, 2 threads, old and
   * new classes alternating process by process): see the README.
   */
  static FloatVector q4(IntVector q, boolean hi) {
    IntVector v = hi ? q.lanewise(VectorOperators.LSHR, 4) : q.lanewise(VectorOperators.AND, 0xF);
    return v.lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats().sub(Q4_MAGIC);
  }

  /**
   * Dot of the Q4_0 row starting at byte {@code off} with x (18-byte blocks: f16 scale d, then 16
   * bytes whose low nibbles are elements 0..15 and high nibbles 16..31, each minus 8; rows run in
   * pairs as Q8_0's, for the same reasons): per block, each L bytes are loaded once and give an fma
   * of their low nibbles and then one of their high nibbles into s (the first a mul), then a =
   * fma(s, d, a); the result is hsum(a).
   */
  private static float dotQ4_0(MemorySegment w, long off, MemorySegment x, int k) {
    FloatVector a0 = FloatVector.zero(S);
    long end = off + (long) (k / QK) * Q4_BYTES;
    long xo = 0;
    for (long o = off; o < end; o += Q4_BYTES, xo += 4L * QK) {
      IntVector q = q4Bytes(w, o + 2);
      FloatVector s = q4(q, false).mul(f32(x, xo));
      s = q4(q, true).fma(f32(x, xo + 4L * (QK / 2)), s);
      for (int p = L; p < QK / 2; p += L) {
        q = q4Bytes(w, o + 2 + p);
        s = q4(q, false).fma(f32(x, xo + 4L * p), s);
        s = q4(q, true).fma(f32(x, xo + 4L * (QK / 2 + p)), s);
      }
      a0 = s.fma(FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o))), a0);
    }
    return CpuMath.hsum(a0);
  }

  /** Q4_0 rows at byte offsets o0 and o0 + d at once, each with exactly the operations of {@link #dotQ4_0}. */
  private static void dotQ4_0Pair(MemorySegment w, long o0, long d, MemorySegment x, int k, MemorySegment y, long j,
      long dj, boolean accumulate) {
    // q4Bytes, q4 and f32 written out: see the class comment on C2's inlining cut-off
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    long end = o0 + (long) (k / QK) * Q4_BYTES;
    long xo = 0;
    for (long o = o0; o < end; o += Q4_BYTES, xo += 4L * QK) {
      long o1 = o + d;
      IntVector q0 = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      IntVector q1 = (IntVector) ByteVector.fromMemorySegment(BS, w, o1 + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      FloatVector xp = FloatVector.fromMemorySegment(S, x, xo, LE);
      FloatVector s0 = q0.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).mul(xp);
      FloatVector s1 = q1.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).mul(xp);
      xp = FloatVector.fromMemorySegment(S, x, xo + 4L * (QK / 2), LE);
      s0 = q0.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).fma(xp, s0);
      s1 = q1.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).fma(xp, s1);
      for (int p = L; p < QK / 2; p += L) { // L < 16 only (AVX2: once, p = 8); written out as above
        q0 = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2 + p, LE)
            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
        q1 = (IntVector) ByteVector.fromMemorySegment(BS, w, o1 + 2 + p, LE)
            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
        xp = FloatVector.fromMemorySegment(S, x, xo + 4L * p, LE);
        s0 = q0.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC).fma(xp, s0);
        s1 = q1.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC).fma(xp, s1);
        xp = FloatVector.fromMemorySegment(S, x, xo + 4L * (QK / 2 + p), LE);
        s0 = q0.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC).fma(xp, s0);
        s1 = q1.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
            .sub(Q4_MAGIC).fma(xp, s1);
      }
      a0 = s0.fma(FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o))), a0);
      a1 = s1.fma(FloatVector.broadcast(S, BlockDecode.f16ToFloat(w.get(I16, o1))), a1);
    }
    for (int r = 0; r < 2; r++) { // one reduction site, see dotBf16Pair
      FloatVector h = r == 0 ? a0 : a1;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, r == 0 ? j : j + dj, h.lane(0), accumulate);
    }
  }


  /**
   * Four Q4_0 rows at byte offsets o0 + i d (i = 0..3) at once, each with exactly the operations of
   * {@link #dotQ4_0}; written out as {@link #dotQ8_0Quad}. Needs L = 16 (one L-byte load per block
   * holds both nibble halves); rowsBlocks sends nothing here otherwise.
   */
  private static void dotQ4_0Quad(MemorySegment w, long o0, long d, MemorySegment x, int k, MemorySegment y, long j,
      long dj, boolean accumulate) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    long end = o0 + (long) (k / QK) * Q4_BYTES;
    long xo = 0;
    for (long o = o0; o < end; o += Q4_BYTES, xo += 4L * QK) {
      long o1 = o + d, o2 = o1 + d, o3 = o2 + d;
      IntVector q0 = (IntVector) ByteVector.fromMemorySegment(BS, w, o + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      IntVector q1 = (IntVector) ByteVector.fromMemorySegment(BS, w, o1 + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      IntVector q2 = (IntVector) ByteVector.fromMemorySegment(BS, w, o2 + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      IntVector q3 = (IntVector) ByteVector.fromMemorySegment(BS, w, o3 + 2, LE)
          .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
      FloatVector xp = FloatVector.fromMemorySegment(S, x, xo, LE);
      FloatVector s0 = q0.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).mul(xp);
      FloatVector s1 = q1.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).mul(xp);
      FloatVector s2 = q2.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).mul(xp);
      FloatVector s3 = q3.lanewise(VectorOperators.AND, 0xF).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).mul(xp);
      xp = FloatVector.fromMemorySegment(S, x, xo + 4L * (QK / 2), LE);
      s0 = q0.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).fma(xp, s0);
      s1 = q1.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).fma(xp, s1);
      s2 = q2.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).fma(xp, s2);
      s3 = q3.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.OR, Q4_OR).reinterpretAsFloats()
          .sub(Q4_MAGIC).fma(xp, s3);
      a0 = s0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o))), a0);
      a1 = s1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o1))), a1);
      a2 = s2.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o2))), a2);
      a3 = s3.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(I16, o3))), a3);
    }
    for (int r = 0; r < 4; r++) { // one reduction site, see dotBf16Pair
      FloatVector h = r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3;
      for (VectorShuffle<Float> f : CpuMath.FOLDS) {
        h = h.add(h.rearrange(f));
      }
      store(y, j + r * dj, h.lane(0), accumulate);
    }
  }


}
