package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.CpuBackend.L;
import static dev.fovea.tensor.cpu.CpuBackend.LE;
import static dev.fovea.tensor.cpu.CpuBackend.S;
import static dev.fovea.tensor.cpu.CpuBackend.SIMD;
import static dev.fovea.tensor.cpu.Elements.F32;

import dev.fovea.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Attention without the [B, H, Tq, Tk] probability tensor: each query row computes its scores
 * into a per-worker buffer of Tk floats, softmaxes them in place and accumulates p_j v_j. Memory is
 * O(threads * (Tk + D)) instead of O(H * Tq * Tk). Grouped-query attention reads kv head
 * h / (H / Hkv) for query head h, so k and v are never repeated. The explicit path in {@code Ops} composes the
 * same math from matmul + softmax + matmul; a test checks both agree.
 */
final class FusedAttention {
  private FusedAttention() {}

  static void run(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
    int B = q.size(0);
    int H = q.size(1);
    int Tq = q.size(2);
    int D = q.size(3);
    int Tk = k.size(2);
    int rep = H / k.size(1); // grouped-query: query head h reads kv head h / rep
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
    int rows = B * H * Tq;
    // per-worker scratch, allocated once per call: O(threads * (Tk + D)) floats
    int workers = Parallel.threads();
    float[][] scores = new float[workers][Tk];
    float[][] accs = new float[workers][D];
    boolean vecD = SIMD && kst[3] == 1 && vst[3] == 1 && qst[3] == 1 && ost[3] == 1;
    int grain = 8;
    Parallel.forChunks((rows + grain - 1) / grain, (chunk, worker) -> {
      float[] p = scores[worker];
      float[] acc = accs[worker];
      for (long r = (long) chunk * grain; r < Math.min(rows, (long) (chunk + 1) * grain); r++) {
        int i = (int) (r % Tq);
        int h = (int) ((r / Tq) % H);
        int b = (int) (r / ((long) Tq * H));
        long qe = q.offset() + b * qst[0] + h * qst[1] + i * qst[2];
        long kb = k.offset() + b * kst[0] + (h / rep) * kst[1];
        long vb = v.offset() + b * vst[0] + (h / rep) * vst[1];
        int last = causal ? Math.min(Tk - 1, i + (Tk - Tq)) : Tk - 1;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j <= last; j++) {
          long ke = kb + j * kst[2];
          float s = dot(qs, qe, qst[3], ks, ke, kst[3], D, vecD) * scale;
          if (bsg != null) {
            s += bsg.get(F32, (bias.offset() + b * bst[0] + h * bst[1] + i * bst[2] + j * bst[3]) * 4);
          }
          p[j] = s;
          max = Math.max(max, s);
        }
        java.util.Arrays.fill(acc, 0f);
        long oe = out.offset() + b * ost[0] + h * ost[1] + i * ost[2];
        if (max == Float.NEGATIVE_INFINITY) {
          // every key masked: zeros, as the explicit path's softmax gives
          for (int d = 0; d < D; d++) {
            os.set(F32, (oe + d * ost[3]) * 4, 0f);
          }
          continue;
        }
        float sum = expInPlace(p, last + 1, max);
        for (int j = 0; j <= last; j++) {
          axpy(p[j], vs, vb + j * vst[2], vst[3], acc, D, vecD);
        }
        float inv = 1f / sum;
        for (int d = 0; d < D; d++) {
          os.set(F32, (oe + d * ost[3]) * 4, acc[d] * inv);
        }
      }
    });
  }

  /** p[j] = exp(p[j] - max) for j &lt; n, returning the sum (SIMD exp when vectors are on, else the scalar twin). */
  private static float expInPlace(float[] p, int n, float max) {
    int j = 0;
    float sum = 0;
    if (SIMD) {
      FloatVector acc = FloatVector.zero(S);
      FloatVector m = FloatVector.broadcast(S, max);
      for (; j <= n - L; j += L) {
        FloatVector e = FloatVector.fromArray(S, p, j).sub(m).lanewise(VectorOperators.EXP);
        e.intoArray(p, j);
        acc = acc.add(e);
      }
      sum = acc.reduceLanes(VectorOperators.ADD);
    }
    for (; j < n; j++) {
      float e = (float) Math.exp(p[j] - max);
      p[j] = e;
      sum += e;
    }
    return sum;
  }

  private static float dot(MemorySegment a, long ae, long as, MemorySegment b, long be, long bs, int n, boolean vec) {
    int i = 0;
    float s = 0;
    if (vec && n >= L) {
      FloatVector acc = FloatVector.zero(S);
      for (; i <= n - L; i += L) {
        acc = FloatVector.fromMemorySegment(S, a, (ae + i) * 4, LE).fma(FloatVector.fromMemorySegment(S, b, (be + i) * 4, LE), acc);
      }
      s = acc.reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      s += a.get(F32, (ae + i * as) * 4) * b.get(F32, (be + i * bs) * 4);
    }
    return s;
  }

  private static void axpy(float alpha, MemorySegment x, long xe, long xs, float[] y, int n, boolean vec) {
    int i = 0;
    if (vec) {
      for (; i <= n - L; i += L) {
        FloatVector.fromMemorySegment(S, x, (xe + i) * 4, LE).fma(FloatVector.broadcast(S, alpha), FloatVector.fromArray(S, y, i)).intoArray(y, i);
      }
    }
    for (; i < n; i++) {
      y[i] += alpha * x.get(F32, (xe + i * xs) * 4);
    }
  }
}
