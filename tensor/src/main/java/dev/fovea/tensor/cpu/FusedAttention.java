package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.CpuBackend.SIMD;
import static dev.fovea.tensor.cpu.Elements.F32;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention without the [B, H, Tq, Tk] probability tensor. Work is split into blocks of
 * {@value #BQ} queries of one (batch, head); for a block:
 *
 * <pre>
 *   S = Q_blk K^T               [bq, Tk]   GEMM (a GEMV when bq = 1, as in decoding)
 *   S = S * scale + bias        causal keys after i + (Tk - Tq) get -inf
 *   P = softmax(S) row by row   in place, our deterministic exp
 *   O_blk = P V                 [bq, D]    GEMM straight into the output
 * </pre>
 *
 * Scratch is one [bq, Tk] block per worker, so memory is O(threads * BQ * Tk) instead of
 * O(H * Tq * Tk). Keys and values may have fewer heads than queries (grouped-query attention):
 * query head h reads key/value head h / (H / Hkv), without copying them. The explicit path in
 * {@code ops.Attention} composes the same math; tests check both agree.
 *
 * <p>Blocks of fewer than {@value #SMALL_BQ} queries (decode steps) skip the GEMMs: per-key dot
 * products ({@code smallRow}), or, when keys are stored position-minor as {@code KvCache} keeps
 * them, a pass that scores every head of a GQA group without horizontal sums ({@code keyMajorDecode}).
 */
final class FusedAttention {
  static final int BQ = 32; // 64 measured the same on a 600-token prefill, 128 and 200 slower
  /**
   * Blocks of fewer queries (decode steps: one query per head) skip the two GEMMs, whose packing of
   * K and V per head cost more than the arithmetic: each query's scores are dot products with the
   * keys, its output an accumulation of value rows. Measured on the TinyLlama decode step (32
   * heads, 4 KV heads, D 64, 600 cached positions, 22 layers, 2 threads): 10-12 ms -> 5.5-6 ms.
   */
  static final int SMALL_BQ = 8;
  /**
   * Decode chunks whose kv head serves at least this many query heads take the register-tile scores
   * and the streaming read first ({@link #keyMajorDecode}); smaller groups (LLaMA-7B's one, Mistral's
   * four) keep the row-block scores. Their arithmetic per byte of K/V read is proportional to the
   * group; 22 layers at 600 positions, caches flushed, new / old time, paired medians (2026-12-07,
   * Zen 4): group 8, D 64 (TinyLlama) 0.77-0.93; group 4, D 128 1.08 with both, 1.04 with the tiles
   * alone; groups 2 and 1 slower as well (the streaming read, an extra pass, costs more than it
   * hides where the arithmetic is light).
   */
  static final int TILE_GROUP = 8;

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  private FusedAttention() {}

  static void run(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
    if (SIMD && q.size(2) < SMALL_BQ && k.strides()[2] == 1 && k.strides()[3] != 1) {
      keyMajorDecode(q, k, v, bias, scale, causal, out);
      return;
    }
    int B = q.size(0);
    int H = q.size(1);
    int Tq = q.size(2);
    int D = q.size(3);
    int Hkv = k.size(1);
    int Tk = k.size(2);
    int group = H / Hkv;
    MemorySegment qs = q.storage().segment();
    MemorySegment ks = k.storage().segment();
    MemorySegment vs = v.storage().segment();
    MemorySegment os = out.storage().segment();
    MemorySegment bsg = bias == null ? null : bias.storage().segment();
    long[] qst = q.strides();
    long[] kst = k.strides();
    long[] vst = v.strides();
    long[] ost = out.strides();
    long[] bst = bias == null ? null : bias.strides();
    int blocks = (Tq + BQ - 1) / BQ;
    int workers = Parallel.threads();
    int rows = Math.min(BQ, Tq);
    // per-worker score block, in the caller's scope (freed with it)
    MemorySegment scratch = Scope.current().allocate(DType.F32.byteSize((long) workers * rows * Math.max(1, Tk)));
    long blockFloats = (long) rows * Math.max(1, Tk);
    Parallel.forChunks(B * H * blocks, workers, (chunk, worker) -> {
      int blk = chunk % blocks;
      int h = (chunk / blocks) % H;
      int b = chunk / (blocks * H);
      int hk = h / group;
      int i0 = blk * BQ;
      int bq = Math.min(BQ, Tq - i0);
      // keys any query of this block may see
      int tk = causal ? Math.max(0, Math.min(Tk, i0 + bq + (Tk - Tq))) : Tk;
      long sOff = worker * blockFloats;
      long qe = q.offset() + b * qst[0] + h * qst[1] + i0 * qst[2];
      long ke = k.offset() + b * kst[0] + hk * kst[1];
      long ve = v.offset() + b * vst[0] + hk * vst[1];
      long oe = out.offset() + b * ost[0] + h * ost[1] + i0 * ost[2];
      if (bq < SMALL_BQ) {
        for (int r = 0; r < bq; r++) {
          int i = i0 + r;
          int visible = causal ? Math.max(0, Math.min(tk, i + (Tk - Tq) + 1)) : tk;
          long biasRow = bsg == null ? -1 : bias.offset() + b * bst[0] + h * bst[1] + i * bst[2];
          smallRow(qs, qe + r * qst[2], qst[3], ks, ke, kst[2], kst[3], vs, ve, vst[2], vst[3], os, oe + r * ost[2], ost[3], D, visible,
              scale, bsg, biasRow, bsg == null ? 0 : bst[3], scratch, sOff);
        }
        return;
      }
      if (tk > 0) {
        // S[bq, tk] = Q_blk [bq, D] @ K^T: B[d, j] = K[j, d]
        Gemm.sgemm(bq, tk, D, qs, qe, qst[2], qst[3], ks, DType.F32, ke, kst[3], kst[2], scratch, sOff, tk, false);
      }
      for (int r = 0; r < bq; r++) {
        int i = i0 + r;
        int visible = causal ? Math.max(0, Math.min(tk, i + (Tk - Tq) + 1)) : tk;
        long row = sOff + (long) r * tk;
        long biasRow = bsg == null ? -1 : bias.offset() + b * bst[0] + h * bst[1] + i * bst[2];
        softmaxRow(scratch, row, tk, visible, scale, bsg, biasRow, bsg == null ? 0 : bst[3]);
      }
      if (tk > 0) {
        // O_blk [bq, D] = P [bq, tk] @ V [tk, D]
        Gemm.sgemm(bq, D, tk, scratch, sOff, tk, 1, vs, DType.F32, ve, vst[2], vst[3], os, oe, ost[2], false);
      } else {
        for (int r = 0; r < bq; r++) {
          for (int d = 0; d < D; d++) {
            os.set(F32, (oe + r * ost[2] + d * ost[3]) * 4, 0f);
          }
        }
      }
    });
  }

  /**
   * One query row: s_j = (q . k_j) * scale + bias_j for the {@code visible} keys (in scratch at
   * sOff), softmax over them (a row with no visible key gives zeros, as the explicit path), then
   * o = sum_j p_j v_j. Each dot product (lanes, then CpuMath.hsum's tree, then the tail) and each
   * output element (even and odd j apart, ascending, then added) is summed in a fixed order,
   * independent of threads and JIT tier.
   */
  private static void smallRow(MemorySegment qs, long qe, long qd, MemorySegment ks, long ke, long kj, long kd, MemorySegment vs, long ve,
      long vj, long vd, MemorySegment os, long oe, long od, int D, int visible, float scale, MemorySegment bias, long biasRow,
      long biasStride, MemorySegment sc, long sOff) {
    if (visible == 0) {
      for (int d = 0; d < D; d++) {
        os.set(F32, (oe + d * od) * 4, 0f);
      }
      return;
    }
    boolean vecK = SIMD && qd == 1 && kd == 1 && D >= L;
    for (int j = 0; j < visible; j++) {
      long kr = ke + j * kj;
      float dot = vecK ? dotUnit(qs, qe, ks, kr, D) : dotStrided(qs, qe, qd, ks, kr, kd, D);
      float x = dot * scale;
      if (bias != null) {
        x += bias.get(F32, (biasRow + j * biasStride) * 4);
      }
      sc.set(F32, (sOff + j) * 4, x);
    }
    RowKernels.softmaxRow(sc, sOff, sc, sOff, visible, false);
    values(vs, ve, vj, vd, os, oe, od, D, visible, sc, sOff);
  }

  /** o = sum_j p_j v_j over the {@code visible} probabilities at sOff (see {@link #smallRow} for the order). */
  private static void values(MemorySegment vs, long ve, long vj, long vd, MemorySegment os, long oe, long od, int D,
      int visible, MemorySegment sc, long sOff) {
    int d = 0;
    if (SIMD && vd == 1 && od == 1) {
      for (; d + 4 * L <= D; d += 4 * L) {
        accumulateValues4(sc, sOff, vs, ve + d, vj, os, oe + d, visible);
      }
      for (; d + L <= D; d += L) {
        accumulateValues(sc, sOff, vs, ve + d, vj, os, oe + d, visible);
      }
    }
    for (; d < D; d++) {
      float acc = 0f;
      for (int j = 0; j < visible; j++) {
        acc = Math.fma(sc.get(F32, (sOff + j) * 4), vs.get(F32, (ve + j * vj + d * vd) * 4), acc);
      }
      os.set(F32, (oe + d * od) * 4, acc);
    }
  }

  /**
   * Decode steps (fewer than {@value #SMALL_BQ} queries) over keys stored position-minor (k [B, Hkv,
   * Tk, D] with unit stride along Tk, as {@code KvCache} keeps them: K^T [D, Tk] per kv head). A
   * chunk is one (batch, kv head, query row) and serves every query head of that kv head's group:
   *
   * <ul>
   *   <li>in groups of {@link #TILE_GROUP} heads and more, the chunk's keys and values read once as
   *       plain streams ({@link #warm});
   *   <li>scores without a horizontal sum per key ({@link #scores}): s[j..j+L) = fma(K^T[d,
   *       j..j+L), q[d], s) over the D rows of K^T, in register tiles of four heads x two key
   *       vectors (groups of {@link #TILE_GROUP} and more) or eight rows at a time for all keys with
   *       partial sums in scratch, so each score is one fma chain, d ascending from 0, whether a full
   *       vector or the scalar tail computes it: independent of Tk's alignment and of threads;
   *   <li>s * scale (+ bias), then each head's softmax row;
   *   <li>outputs four heads at a time ({@link #values4Heads2}): each value vector is loaded once for
   *       the four; the heads left over (groups not a multiple of four) use {@link #values}.
   * </ul>
   *
   * TinyLlama's decode attention (32 heads, 4 KV heads, D 64, 601 positions; this project's Zen 5
   * VM, 2026-11, op alone, mean): 1 thread 147 us with row-major keys (a horizontal sum per key) ->
   * 71-77 us; 2 threads 80-96 -> 49-52. 2026-12-06, one head's query values broadcast once for all
   * keys, two key vectors per step, and whole vectors into the cache's spare capacity instead of a
   * scalar tail: one layer, K/V in cache, 2 threads 82-116 -> 52 us; a step's 22 layers with K/V
   * read from memory, 4.9 / 5.0 -> 4.3 / 4.4 ms. 2026-12-07 (Zen 4), the scores as register tiles
   * over all D rows (they had been eight rows of K^T at a time for all keys, each head's partial
   * sums going through scratch: 8 heads x 600 keys of scratch beside the rows overflowed L1) and the
   * streaming read first (same bits: AttentionTest, and a scratch comparison of the old and new
   * kernels over 1,232 shapes, groups 1 to 12): 22 layers with caches flushed between passes,
   * paired with the old kernel, 0.77-0.93 of its time (tiles alone 0.94-0.99, the read alone 0.91);
   * one layer in cache 53 -> 44-49 us. In the model's step (the TinyLlama BF16 GGUF loaded from its
   * file, old and new alternating step by step, the time outside the GEMVs): 6.70 -> 6.15 ms a step
   * (paired median -0.58 ms, quartiles -0.99 .. -0.13), against 3.69 with no attention at all. What
   * is left is mostly the read of the cache itself (27 MB a step; the streaming read alone runs at
   * ~19 GB/s on two threads, far from the weights' 30-55, its rows being 2.4 KB).
   */
  private static void keyMajorDecode(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
    // The op came out 2x slower (alone ~150 us instead of ~75) in some processes, not others: in 2
    // of 4 runs with the operands passed in from run and the scaling inside softmaxRow, in 2 of 5
    // with this prologue and a second four-head value kernel for single column vectors; in 0 of 8
    // with that kernel gone. One cause, found 2026-11-24 with -XX:+PrintCompilation: the masked
    // tail of the score kernel of the time failed C1's tier-3 compile and could stay without C2
    // code. After changing this lambda or what it calls, check -XX:+PrintCompilation for COMPILE
    // SKIPPED and re-measure in several processes (done 2026-12-07 for the tiles: none, 3 processes).
    int B = q.size(0);
    int Tq = q.size(2);
    int D = q.size(3);
    int Hkv = k.size(1);
    int Tk = k.size(2);
    int group = q.size(1) / Hkv;
    MemorySegment qs = q.storage().segment();
    MemorySegment ks = k.storage().segment();
    MemorySegment vs = v.storage().segment();
    MemorySegment os = out.storage().segment();
    MemorySegment bsg = bias == null ? null : bias.storage().segment();
    long[] qst = q.strides();
    long[] kst = k.strides();
    long[] vst = v.strides();
    long[] ost = out.strides();
    long[] bst = bias == null ? null : bias.strides();
    int workers = Parallel.threads();
    // each head's score row padded to whole vectors (see scores)
    long tkPad = (long) (Math.max(1, Tk) + L - 1) / L * L;
    long perWorker = group * tkPad;
    MemorySegment scratch = Scope.current().allocate(DType.F32.byteSize(workers * perWorker));
    Parallel.forChunks(B * Hkv * Tq, workers, (chunk, worker) -> {
      int i = chunk % Tq;
      int hk = (chunk / Tq) % Hkv;
      int b = chunk / (Tq * Hkv);
      int visible = causal ? Math.max(0, Math.min(Tk, i + (Tk - Tq) + 1)) : Tk;
      long sBase = worker * perWorker;
      long ke = k.offset() + b * kst[0] + hk * kst[1];
      long kd = kst[3];
      long qBase = q.offset() + b * qst[0] + i * qst[2];
      int h0 = hk * group;
      long ve = v.offset() + b * vst[0] + hk * vst[1];
      if (visible > 0 && group >= TILE_GROUP) {
        warm(ks, ke, kd, D, visible, vs, ve, vst[2], vst[3], scratch, sBase);
      }
      // whole vectors past the last visible key when the reads stay inside K's segment (a KV
      // cache's spare capacity); those lanes' scores are never read
      int nPad = (visible + L - 1) / L * L;
      int nVec = (ke + (D - 1) * kd + nPad) * 4 <= ks.byteSize() ? nPad : visible - visible % L;
      scores(qs, qBase + h0 * qst[1], qst[1], qst[3], group, ks, ke, kd, D, visible, nVec, scratch, sBase, tkPad);
      // softmax of each head's row, then the outputs: four heads at a time share each value row
      long oh = out.offset() + b * ost[0] + i * ost[2];
      for (int g = 0; g < group; g++) {
        int h = h0 + g;
        if (visible > 0) {
          long row = sBase + g * tkPad;
          long biasRow = bsg == null ? -1 : bias.offset() + b * bst[0] + h * bst[1] + i * bst[2];
          scaleRow(scratch, row, visible, scale, bsg, biasRow, bsg == null ? 0 : bst[3]);
          RowKernels.softmaxRow(scratch, row, scratch, row, visible, false);
        }
      }
      int g = 0;
      if (visible > 0 && vst[3] == 1 && ost[3] == 1) {
        for (; g + 4 <= group; g += 4) {
          long oe = oh + (h0 + g) * ost[1];
          long row = sBase + g * tkPad;
          int d = 0;
          for (; d + 2 * L <= D; d += 2 * L) {
            values4Heads2(scratch, row, tkPad, vs, ve + d, vst[2], os, oe + d, ost[1], visible);
          }
          for (int gg = g; gg < g + 4; gg++) {
            valuesScalar(scratch, row + (gg - g) * tkPad, vs, ve, vst[2], 1, os, oe + (gg - g) * ost[1], 1, d, D, visible);
          }
        }
      }
      for (; g < group; g++) {
        long oe = oh + (h0 + g) * ost[1];
        if (visible == 0) {
          for (int d = 0; d < D; d++) {
            os.set(F32, (oe + d * ost[3]) * 4, 0f);
          }
        } else {
          values(vs, ve, vst[2], vst[3], os, oe, ost[3], D, visible, scratch, sBase + g * tkPad);
        }
      }
    });
  }

  /**
   * o_g[0, 2L) = sum_j p_g[j] v_j[0, 2L) for four heads g (probability rows pStride apart, outputs
   * oStride apart) over one block of two value column vectors: each value vector is loaded once for
   * the four heads, and each (head, column vector) sum is one fma chain, j ascending (eight chains);
   * columns past the last such block go to {@link #valuesScalar}, whose chains are the same per element.
   */
  private static void values4Heads2(MemorySegment p, long pOff, long pStride, MemorySegment vs, long ve, long vj, MemorySegment os, long oe,
      long oStride, int n) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long p1 = pOff + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
    for (int j = 0; j < n; j++) {
      long r = (ve + j * vj) * 4;
      FloatVector x = FloatVector.fromMemorySegment(S, vs, r, LE);
      FloatVector y = FloatVector.fromMemorySegment(S, vs, r + 4L * L, LE);
      FloatVector q0 = FloatVector.broadcast(S, p.get(F32, (pOff + j) * 4));
      FloatVector q1 = FloatVector.broadcast(S, p.get(F32, (p1 + j) * 4));
      FloatVector q2 = FloatVector.broadcast(S, p.get(F32, (p2 + j) * 4));
      FloatVector q3 = FloatVector.broadcast(S, p.get(F32, (p3 + j) * 4));
      a0 = x.fma(q0, a0);
      b0 = y.fma(q0, b0);
      a1 = x.fma(q1, a1);
      b1 = y.fma(q1, b1);
      a2 = x.fma(q2, a2);
      b2 = y.fma(q2, b2);
      a3 = x.fma(q3, a3);
      b3 = y.fma(q3, b3);
    }
    long o = oe * 4;
    a0.intoMemorySegment(os, o, LE);
    b0.intoMemorySegment(os, o + 4L * L, LE);
    a1.intoMemorySegment(os, o + oStride * 4, LE);
    b1.intoMemorySegment(os, o + oStride * 4 + 4L * L, LE);
    a2.intoMemorySegment(os, o + 2 * oStride * 4, LE);
    b2.intoMemorySegment(os, o + 2 * oStride * 4 + 4L * L, LE);
    a3.intoMemorySegment(os, o + 3 * oStride * 4, LE);
    b3.intoMemorySegment(os, o + 3 * oStride * 4 + 4L * L, LE);
  }

  /** o[d0, D) = sum_j p_j v_j[d0, D), one scalar fma chain per element, j ascending. */
  private static void valuesScalar(MemorySegment p, long pOff, MemorySegment vs, long ve, long vj, long vd, MemorySegment os, long oe, long od,
      int d0, int D, int n) {
    for (int d = d0; d < D; d++) {
      float acc = 0f;
      for (int j = 0; j < n; j++) {
        acc = Math.fma(p.get(F32, (pOff + j) * 4), vs.get(F32, (ve + j * vj + d * vd) * 4), acc);
      }
      os.set(F32, (oe + d * od) * 4, acc);
    }
  }

  /**
   * Reads the chunk's keys (K^T rows d = 0..D-1, keys [0, n)) and, when its rows are unit-stride,
   * its values (rows [0, n)) once, as plain streams, before any arithmetic: the decode step finds
   * them in memory (the layer's GEMVs have streamed megabytes of weights through the caches since
   * they were last read), and the kernels below read them in an order the hardware prefetchers
   * follow poorly (64 rows a block, or value rows in parts), so the misses were waited for one
   * burst at a time. The sum of what was read ({@link #stream}) keeps the loads; it is stored in the
   * scratch slot that the scores overwrite next. Reads stay inside the rows, in whole steps of four
   * vectors (value rows of fewer than 4L floats are not read here).
   */
  private static void warm(MemorySegment ks, long ke, long kd, int D, int n, MemorySegment vs, long ve, long vj, long vd, MemorySegment sc,
      long sOff) {
    float sum = stream(ks, ke * 4, kd * 4, 4L * n, D);
    if (vd == 1) {
      sum += stream(vs, ve * 4, vj * 4, 4L * D, n);
    }
    sc.set(F32, sOff * 4, sum);
  }

  /** The sum of {@code rows} rows of m (byte offsets first + i * stride, each rowBytes long) read in whole steps of four vectors. */
  private static float stream(MemorySegment m, long first, long stride, long rowBytes, int rows) {
    FloatVector a = FloatVector.zero(S), b = a, c = a, e = a;
    long step = 16L * L;
    for (int i = 0; i < rows; i++) {
      long r = first + i * stride;
      for (long o = r; o + step <= r + rowBytes; o += step) {
        a = a.add(FloatVector.fromMemorySegment(S, m, o, LE));
        b = b.add(FloatVector.fromMemorySegment(S, m, o + 4L * L, LE));
        c = c.add(FloatVector.fromMemorySegment(S, m, o + 8L * L, LE));
        e = e.add(FloatVector.fromMemorySegment(S, m, o + 12L * L, LE));
      }
    }
    return a.add(b).add(c).add(e).lane(0);
  }

  /**
   * Scores of {@code group} heads (query rows qh apart from qe, elements qd apart) over keys [0, n)
   * of K^T (row d at ke + d * kd), into score rows sh apart from sOff: s_g[j] = fma(K^T[D-1, j],
   * q_g[D-1], ... fma(K^T[0, j], q_g[0], 0)), one fma chain per score, d ascending from 0, whether a
   * vector lane or the scalar tail computes it (independent of Tk's alignment and of threads). In
   * groups of {@link #TILE_GROUP} heads and more, the key vectors [0, nVec) of each four heads in
   * register tiles over all D rows ({@link #scores4x2}: each key vector loaded serves four heads and
   * eight chains are in flight; an odd last vector in {@link #scores1x1}); the other heads (all of
   * them in smaller groups) eight rows of K^T at a time over all key vectors ({@link #scoreRows8}).
   * nVec may pass n into spare capacity, whose lanes are never read. Keys [nVec, n) in scalar.
   */
  private static void scores(MemorySegment qs, long qe, long qh, long qd, int group, MemorySegment ks, long ke, long kd, int D, int n,
      int nVec, MemorySegment s, long sOff, long sh) {
    long qhb = qh * 4, qdb = qd * 4, kdb = kd * 4;
    int fours = group >= TILE_GROUP ? group / 4 * 4 : 0;
    for (int g = 0; g < fours; g += 4) {
      long qg = (qe + g * qh) * 4;
      long sg = sOff + g * sh;
      int v = 0;
      for (; v + 2 * L <= nVec; v += 2 * L) {
        scores4x2(qs, qg, qhb, qdb, ks, (ke + v) * 4, kdb, D, s, (sg + v) * 4, sh * 4);
      }
      if (v < nVec) { // an odd last key vector
        for (int h = 0; h < 4; h++) {
          scores1x1(qs, qg + h * qhb, qdb, ks, (ke + v) * 4, kdb, D, s, (sg + h * sh + v) * 4);
        }
      }
      scoresTail(qs, qe + g * qh, qh, qd, 4, ks, ke, kd, D, nVec, n, s, sg, sh);
    }
    if (fours < group) {
      // heads outside fours: eight rows of K^T at a time over all keys, partial sums in scratch
      int rest = group - fours;
      long qr = qe + fours * qh;
      long sr = sOff + fours * sh;
      for (int g = 0; g < rest; g++) {
        s.asSlice((sr + g * sh) * 4, 4L * nVec).fill((byte) 0);
      }
      int r = 0;
      for (; r + 8 <= D; r += 8) {
        scoreRows8(qs, qr + r * qd, qh, qd, rest, ks, ke + r * kd, kd, nVec, s, sr, sh);
      }
      for (; r < D; r++) {
        scoreRows1(qs, qr + r * qd, qh, rest, ks, ke + r * kd, nVec, s, sr, sh);
      }
      scoresTail(qs, qr, qh, qd, rest, ks, ke, kd, D, nVec, n, s, sr, sh);
    }
  }

  /**
   * Scores of {@code heads} heads for the keys [j0, n) past the whole vectors (fewer than L), each
   * one fma chain over d ascending from 0, the same operations as a vector lane. Scalar on purpose:
   * a masked-vector tail (eight named vectors, 556 bytecodes) once failed C1's tier-3 compile ("out
   * of virtual registers in LIR generator") and in some processes never got C2 code, its vectors
   * boxed (~40% of the decode attention; 2026-11-24, see the issue 5 note).
   */
  private static void scoresTail(MemorySegment qs, long qe, long qh, long qd, int heads, MemorySegment ks, long ke, long kd, int D, int j0,
      int n, MemorySegment s, long sOff, long sh) {
    for (int g = 0; g < heads; g++) {
      long qg = qe + g * qh;
      for (int j = j0; j < n; j++) {
        float a = 0f;
        for (int d = 0; d < D; d++) {
          a = Math.fma(ks.get(F32, (ke + d * kd + j) * 4), qs.get(F32, (qg + d * qd) * 4), a);
        }
        s.set(F32, (sOff + g * sh + j) * 4, a);
      }
    }
  }

  /**
   * Four heads (query values at byte qb + g * qhb + d * qdb) x the two key vectors at byte kb of
   * K^T row 0 (row d at kb + d * kdb): eight accumulators over d = 0..D-1, then stored at sb + g *
   * shb. A method of its own, small: one method for all heads with sixteen broadcast vectors once
   * failed C1's tier-3 compile ("out of virtual registers") and ran 20x slower in some processes.
   */
  private static void scores4x2(MemorySegment qs, long qb, long qhb, long qdb, MemorySegment ks, long kb, long kdb, int D, MemorySegment s,
      long sb, long shb) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    long q1 = qb + qhb, q2 = q1 + qhb, q3 = q2 + qhb;
    for (int d = 0; d < D; d++) {
      long r = kb + d * kdb;
      long qo = d * qdb;
      FloatVector x = FloatVector.fromMemorySegment(S, ks, r, LE);
      FloatVector y = FloatVector.fromMemorySegment(S, ks, r + 4L * L, LE);
      FloatVector c0 = FloatVector.broadcast(S, qs.get(F32, qb + qo));
      FloatVector c1 = FloatVector.broadcast(S, qs.get(F32, q1 + qo));
      FloatVector c2 = FloatVector.broadcast(S, qs.get(F32, q2 + qo));
      FloatVector c3 = FloatVector.broadcast(S, qs.get(F32, q3 + qo));
      a0 = x.fma(c0, a0);
      b0 = y.fma(c0, b0);
      a1 = x.fma(c1, a1);
      b1 = y.fma(c1, b1);
      a2 = x.fma(c2, a2);
      b2 = y.fma(c2, b2);
      a3 = x.fma(c3, a3);
      b3 = y.fma(c3, b3);
    }
    a0.intoMemorySegment(s, sb, LE);
    b0.intoMemorySegment(s, sb + 4L * L, LE);
    a1.intoMemorySegment(s, sb + shb, LE);
    b1.intoMemorySegment(s, sb + shb + 4L * L, LE);
    a2.intoMemorySegment(s, sb + 2 * shb, LE);
    b2.intoMemorySegment(s, sb + 2 * shb + 4L * L, LE);
    a3.intoMemorySegment(s, sb + 3 * shb, LE);
    b3.intoMemorySegment(s, sb + 3 * shb + 4L * L, LE);
  }

  /**
   * Adds rows d..d+7 of K^T (at ke, row stride kd) to the scores of {@code heads} heads over the
   * key vectors [0, nVec): s[g][j] = fma(K^T[d+7, j], q_g[d+7], ... fma(K^T[d, j], q_g[d], s[g][j])),
   * so over all d each score is one fma chain, d ascending from 0 (the scores start at zero), head
   * by head ({@link #scoreHead8}). nVec may pass the visible keys into spare capacity, whose lanes
   * are never read.
   */
  private static void scoreRows8(MemorySegment qs, long qe, long qh, long qd, int heads, MemorySegment ks, long ke, long kd, int nVec,
      MemorySegment s, long sOff, long sh) {
    for (int g = 0; g < heads; g++) {
      scoreHead8(qs, (qe + g * qh) * 4, qd * 4, ks, ke * 4, kd * 4, nVec, s, (sOff + g * sh) * 4);
    }
  }

  /**
   * One head's part of {@link #scoreRows8} over keys [0, nVec) (byte offsets: its query values at
   * qg, qdb apart; K^T row d at kb + d * kdb; its scores at sb): the eight query values broadcast
   * once for all keys, two key vectors per iteration so two fma chains of eight are in flight (one
   * alone waits on each fma's latency). A method of its own: one method for all heads, with its 16
   * broadcast vectors, failed C1's tier-3 compile ("out of virtual registers") and ran 20x slower
   * in some processes.
   */
  private static void scoreHead8(MemorySegment qs, long qg, long qdb, MemorySegment ks, long kb, long kdb, int nVec, MemorySegment s, long sb) {
    FloatVector q0 = FloatVector.broadcast(S, qs.get(F32, qg));
    FloatVector q1 = FloatVector.broadcast(S, qs.get(F32, qg + qdb));
    FloatVector q2 = FloatVector.broadcast(S, qs.get(F32, qg + 2 * qdb));
    FloatVector q3 = FloatVector.broadcast(S, qs.get(F32, qg + 3 * qdb));
    FloatVector q4 = FloatVector.broadcast(S, qs.get(F32, qg + 4 * qdb));
    FloatVector q5 = FloatVector.broadcast(S, qs.get(F32, qg + 5 * qdb));
    FloatVector q6 = FloatVector.broadcast(S, qs.get(F32, qg + 6 * qdb));
    FloatVector q7 = FloatVector.broadcast(S, qs.get(F32, qg + 7 * qdb));
    long end = 4L * nVec;
    long o = 0;
    for (; o + 8L * L <= end; o += 8L * L) {
      long r = kb + o;
      long t = r + 4L * L;
      FloatVector x = FloatVector.fromMemorySegment(S, s, sb + o, LE);
      FloatVector y = FloatVector.fromMemorySegment(S, s, sb + o + 4L * L, LE);
      x = FloatVector.fromMemorySegment(S, ks, r, LE).fma(q0, x);
      y = FloatVector.fromMemorySegment(S, ks, t, LE).fma(q0, y);
      x = FloatVector.fromMemorySegment(S, ks, r + kdb, LE).fma(q1, x);
      y = FloatVector.fromMemorySegment(S, ks, t + kdb, LE).fma(q1, y);
      x = FloatVector.fromMemorySegment(S, ks, r + 2 * kdb, LE).fma(q2, x);
      y = FloatVector.fromMemorySegment(S, ks, t + 2 * kdb, LE).fma(q2, y);
      x = FloatVector.fromMemorySegment(S, ks, r + 3 * kdb, LE).fma(q3, x);
      y = FloatVector.fromMemorySegment(S, ks, t + 3 * kdb, LE).fma(q3, y);
      x = FloatVector.fromMemorySegment(S, ks, r + 4 * kdb, LE).fma(q4, x);
      y = FloatVector.fromMemorySegment(S, ks, t + 4 * kdb, LE).fma(q4, y);
      x = FloatVector.fromMemorySegment(S, ks, r + 5 * kdb, LE).fma(q5, x);
      y = FloatVector.fromMemorySegment(S, ks, t + 5 * kdb, LE).fma(q5, y);
      x = FloatVector.fromMemorySegment(S, ks, r + 6 * kdb, LE).fma(q6, x);
      y = FloatVector.fromMemorySegment(S, ks, t + 6 * kdb, LE).fma(q6, y);
      x = FloatVector.fromMemorySegment(S, ks, r + 7 * kdb, LE).fma(q7, x);
      y = FloatVector.fromMemorySegment(S, ks, t + 7 * kdb, LE).fma(q7, y);
      x.intoMemorySegment(s, sb + o, LE);
      y.intoMemorySegment(s, sb + o + 4L * L, LE);
    }
    if (o < end) {
      // an odd last key vector: the same chain written out again (a helper taking and returning
      // the vectors would box them wherever C2 does not inline it)
      long r = kb + o;
      FloatVector x = FloatVector.fromMemorySegment(S, s, sb + o, LE);
      x = FloatVector.fromMemorySegment(S, ks, r, LE).fma(q0, x);
      x = FloatVector.fromMemorySegment(S, ks, r + kdb, LE).fma(q1, x);
      x = FloatVector.fromMemorySegment(S, ks, r + 2 * kdb, LE).fma(q2, x);
      x = FloatVector.fromMemorySegment(S, ks, r + 3 * kdb, LE).fma(q3, x);
      x = FloatVector.fromMemorySegment(S, ks, r + 4 * kdb, LE).fma(q4, x);
      x = FloatVector.fromMemorySegment(S, ks, r + 5 * kdb, LE).fma(q5, x);
      x = FloatVector.fromMemorySegment(S, ks, r + 6 * kdb, LE).fma(q6, x);
      x = FloatVector.fromMemorySegment(S, ks, r + 7 * kdb, LE).fma(q7, x);
      x.intoMemorySegment(s, sb + o, LE);
    }
  }

  /**
   * One row d of K^T added to the scores of {@code heads} heads over the key vectors [0, nVec) (the
   * rows left after the blocks of eight), in the same fma order.
   */
  private static void scoreRows1(MemorySegment qs, long qe, long qh, int heads, MemorySegment ks, long ke, int nVec, MemorySegment s, long sOff,
      long sh) {
    for (int g = 0; g < heads; g++) {
      FloatVector x = FloatVector.broadcast(S, qs.get(F32, (qe + g * qh) * 4));
      long row = sOff + g * sh;
      for (int j = 0; j + L <= nVec; j += L) {
        long so = (row + j) * 4;
        FloatVector.fromMemorySegment(S, ks, (ke + j) * 4, LE).fma(x, FloatVector.fromMemorySegment(S, s, so, LE)).intoMemorySegment(s, so, LE);
      }
    }
  }

  /** One head x one key vector, as {@link #scores4x2}. */
  private static void scores1x1(MemorySegment qs, long qb, long qdb, MemorySegment ks, long kb, long kdb, int D, MemorySegment s, long sb) {
    FloatVector a = FloatVector.zero(S);
    for (int d = 0; d < D; d++) {
      a = FloatVector.fromMemorySegment(S, ks, kb + d * kdb, LE).fma(FloatVector.broadcast(S, qs.get(F32, qb + d * qdb)), a);
    }
    a.intoMemorySegment(s, sb, LE);
  }

  /**
   * s = s * scale + bias over n scores, vectorized: as a scalar loop with a -inf store per masked
   * key it took 30% of a 600-token prefill's attention.
   */
  private static void scaleRow(MemorySegment s, long row, int n, float scale, MemorySegment bias, long biasRow, long biasStride) {
    int j = 0;
    if (SIMD && (bias == null || biasStride == 1)) {
      FloatVector sv = FloatVector.broadcast(S, scale);
      for (; j + L <= n; j += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, s, (row + j) * 4, LE).mul(sv);
        if (bias != null) {
          x = x.add(FloatVector.fromMemorySegment(S, bias, (biasRow + j) * 4, LE));
        }
        x.intoMemorySegment(s, (row + j) * 4, LE);
      }
    }
    for (; j < n; j++) {
      float x = s.get(F32, (row + j) * 4) * scale;
      if (bias != null) {
        x += bias.get(F32, (biasRow + j * biasStride) * 4);
      }
      s.set(F32, (row + j) * 4, x);
    }
  }

  /** q . k over D unit-stride elements: L-lane fmas, lanes reduced, then the tail in order. */
  private static float dotUnit(MemorySegment qs, long qe, MemorySegment ks, long ke, int D) {
    FloatVector acc = FloatVector.zero(S);
    int d = 0;
    for (; d + L <= D; d += L) {
      acc = FloatVector.fromMemorySegment(S, qs, (qe + d) * 4, LE).fma(FloatVector.fromMemorySegment(S, ks, (ke + d) * 4, LE), acc);
    }
    float s = CpuMath.hsum(acc); // not reduceLanes: its order differs between JIT tiers
    for (; d < D; d++) {
      s = Math.fma(qs.get(F32, (qe + d) * 4), ks.get(F32, (ke + d) * 4), s);
    }
    return s;
  }

  private static float dotStrided(MemorySegment qs, long qe, long qd, MemorySegment ks, long ke, long kd, int D) {
    float s = 0f;
    for (int d = 0; d < D; d++) {
      s = Math.fma(qs.get(F32, (qe + d * qd) * 4), ks.get(F32, (ke + d * kd) * 4), s);
    }
    return s;
  }

  /**
   * o[0, 4L) = sum_j p_j v_j[0, 4L): four independent column vectors, each summed over even j and
   * odd j separately (j ascending), then even + odd. One accumulator per column loop was a chain of
   * dependent fmas as long as the context: 32 heads over 600 positions took 244 us per layer at 1
   * thread with it, 200 us with these eight chains.
   */
  private static void accumulateValues4(MemorySegment p, long pOff, MemorySegment vs, long ve, long vj, MemorySegment os, long oe, int n) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int j = 0;
    for (; j + 2 <= n; j += 2) {
      long r = (ve + j * vj) * 4;
      FloatVector pa = FloatVector.broadcast(S, p.get(F32, (pOff + j) * 4));
      a0 = FloatVector.fromMemorySegment(S, vs, r, LE).fma(pa, a0);
      a1 = FloatVector.fromMemorySegment(S, vs, r + 4L * L, LE).fma(pa, a1);
      a2 = FloatVector.fromMemorySegment(S, vs, r + 8L * L, LE).fma(pa, a2);
      a3 = FloatVector.fromMemorySegment(S, vs, r + 12L * L, LE).fma(pa, a3);
      long r2 = r + vj * 4;
      FloatVector pb = FloatVector.broadcast(S, p.get(F32, (pOff + j + 1) * 4));
      b0 = FloatVector.fromMemorySegment(S, vs, r2, LE).fma(pb, b0);
      b1 = FloatVector.fromMemorySegment(S, vs, r2 + 4L * L, LE).fma(pb, b1);
      b2 = FloatVector.fromMemorySegment(S, vs, r2 + 8L * L, LE).fma(pb, b2);
      b3 = FloatVector.fromMemorySegment(S, vs, r2 + 12L * L, LE).fma(pb, b3);
    }
    if (j < n) {
      long r = (ve + j * vj) * 4;
      FloatVector pa = FloatVector.broadcast(S, p.get(F32, (pOff + j) * 4));
      a0 = FloatVector.fromMemorySegment(S, vs, r, LE).fma(pa, a0);
      a1 = FloatVector.fromMemorySegment(S, vs, r + 4L * L, LE).fma(pa, a1);
      a2 = FloatVector.fromMemorySegment(S, vs, r + 8L * L, LE).fma(pa, a2);
      a3 = FloatVector.fromMemorySegment(S, vs, r + 12L * L, LE).fma(pa, a3);
    }
    a0.add(b0).intoMemorySegment(os, oe * 4, LE);
    a1.add(b1).intoMemorySegment(os, (oe + L) * 4, LE);
    a2.add(b2).intoMemorySegment(os, (oe + 2L * L) * 4, LE);
    a3.add(b3).intoMemorySegment(os, (oe + 3L * L) * 4, LE);
  }

  /** o[0, L) = sum_j p_j v_j[0, L), even and odd j summed apart, then added. */
  private static void accumulateValues(MemorySegment p, long pOff, MemorySegment vs, long ve, long vj, MemorySegment os, long oe, int n) {
    FloatVector a = FloatVector.zero(S), b = a;
    int j = 0;
    for (; j + 2 <= n; j += 2) {
      long r = (ve + j * vj) * 4;
      a = FloatVector.fromMemorySegment(S, vs, r, LE).fma(FloatVector.broadcast(S, p.get(F32, (pOff + j) * 4)), a);
      b = FloatVector.fromMemorySegment(S, vs, r + vj * 4, LE).fma(FloatVector.broadcast(S, p.get(F32, (pOff + j + 1) * 4)), b);
    }
    if (j < n) {
      a = FloatVector.fromMemorySegment(S, vs, (ve + j * vj) * 4, LE).fma(FloatVector.broadcast(S, p.get(F32, (pOff + j) * 4)), a);
    }
    a.add(b).intoMemorySegment(os, oe * 4, LE);
  }

  /**
   * Row of scores s[0, n) in place: s = s * scale + bias over the {@code visible} keys, softmax
   * over them (RowKernels' row kernel; a row whose every key is masked becomes zeros, as the
   * explicit path's softmax), and 0 for the keys at or after {@code visible}.
   */
  private static void softmaxRow(MemorySegment s, long row, int n, int visible, float scale, MemorySegment bias, long biasRow, long biasStride) {
    scaleRow(s, row, visible, scale, bias, biasRow, biasStride);
    if (visible > 0) {
      RowKernels.softmaxRow(s, row, s, row, visible, false);
    }
    if (visible < n) {
      s.asSlice(4 * (row + visible), 4L * (n - visible)).fill((byte) 0);
    }
  }
}
