package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.Elements.F32;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.lang.foreign.MemorySegment;

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
 */
final class FusedAttention {
  static final int BQ = 32;

  private FusedAttention() {}

  static void run(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
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
    Parallel.forChunks(B * H * blocks, (chunk, worker) -> {
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
   * Row of scores s[0, n) in place: s = s * scale + bias, keys at or after {@code visible} masked,
   * then softmax (RowKernels' row kernel; a row whose every key is masked becomes zeros, as the
   * explicit path's softmax).
   */
  private static void softmaxRow(MemorySegment s, long row, int n, int visible, float scale, MemorySegment bias, long biasRow, long biasStride) {
    for (int j = 0; j < n; j++) {
      float x = Float.NEGATIVE_INFINITY;
      if (j < visible) {
        x = s.get(F32, (row + j) * 4) * scale;
        if (bias != null) {
          x += bias.get(F32, (biasRow + j * biasStride) * 4);
        }
      }
      s.set(F32, (row + j) * 4, x);
    }
    RowKernels.softmaxRow(s, row, s, row, n, false);
  }
}
