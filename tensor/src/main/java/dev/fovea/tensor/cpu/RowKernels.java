package dev.fovea.tensor.cpu;

import static dev.fovea.tensor.cpu.CpuBackend.L;
import static dev.fovea.tensor.cpu.CpuBackend.LE;
import static dev.fovea.tensor.cpu.CpuBackend.S;
import static dev.fovea.tensor.cpu.CpuBackend.SIMD;
import static dev.fovea.tensor.cpu.Elements.F32;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** Fused kernels over one contiguous row of n floats: softmax, layer norm, RMS norm. */
final class RowKernels {
  private RowKernels() {}

  /**
   * softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max); log-softmax = x_i - max - log(sum).
   * A row of all -inf (every key masked) gives zeros (softmax) rather than NaN. Works in place
   * (xs == os, xe == oe): each element is read before it is written.
   */
  static void softmaxRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n, boolean log) {
    float max = CpuBackend.maxRow(xs, xe, 1, n);
    if (max == Float.NEGATIVE_INFINITY) {
      for (int i = 0; i < n; i++) {
        os.set(F32, (oe + i) * 4, log ? Float.NEGATIVE_INFINITY : 0f);
      }
      return;
    }
    // pass 1: e_i = exp(x_i - max) (stored in out), sum
    int i = 0;
    float sum = 0;
    if (SIMD && n >= L) {
      // separate methods, not a branch: a FloatVector merged across branches is boxed by C2
      sum = log ? expSum(xs, xe, n, max) : expStoreSum(xs, xe, os, oe, n, max);
      i = n - n % L;
    }
    for (; i < n; i++) {
      float e = CpuMath.expf(xs.get(F32, (xe + i) * 4) - max); // the vector lanes' twin
      if (!log) {
        os.set(F32, (oe + i) * 4, e);
      }
      sum += e;
    }
    // pass 2: normalize
    i = 0;
    if (log) {
      // (x - max) - log(sum), in this order: folding max + log(sum) into one float first would round
      // it to the ulp of max (6e-5 for logits near 1000) and shift every output by that error.
      float logSum = (float) Math.log(sum);
      if (SIMD) {
        FloatVector maxV = FloatVector.broadcast(S, max);
        FloatVector logSumV = FloatVector.broadcast(S, logSum);
        for (; i <= n - L; i += L) {
          FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(maxV).sub(logSumV).intoMemorySegment(os, (oe + i) * 4, LE);
        }
      }
      for (; i < n; i++) {
        os.set(F32, (oe + i) * 4, (xs.get(F32, (xe + i) * 4) - max) - logSum);
      }
    } else {
      float inv = 1f / sum;
      if (SIMD) {
        FloatVector invV = FloatVector.broadcast(S, inv);
        for (; i <= n - L; i += L) {
          FloatVector.fromMemorySegment(S, os, (oe + i) * 4, LE).mul(invV).intoMemorySegment(os, (oe + i) * 4, LE);
        }
      }
      for (; i < n; i++) {
        os.set(F32, (oe + i) * 4, os.get(F32, (oe + i) * 4) * inv);
      }
    }
  }

  /** Sum over the vector body of exp(x_i - max). */
  private static float expSum(MemorySegment xs, long xe, int n, float max) {
    FloatVector acc = FloatVector.zero(S);
    FloatVector maxV = FloatVector.broadcast(S, max);
    for (int i = 0; i <= n - L; i += L) {
      acc = acc.add(CpuMath.exp(FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(maxV)));
    }
    float[] lanes = CpuMath.lanes();
    acc.intoArray(lanes, 0);
    return CpuMath.sumLanes(lanes);
  }

  /** Stores exp(x_i - max) over the vector body and returns their sum. */
  private static float expStoreSum(MemorySegment xs, long xe, MemorySegment os, long oe, int n, float max) {
    FloatVector acc = FloatVector.zero(S);
    FloatVector maxV = FloatVector.broadcast(S, max);
    for (int i = 0; i <= n - L; i += L) {
      FloatVector e = CpuMath.exp(FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(maxV));
      e.intoMemorySegment(os, (oe + i) * 4, LE);
      acc = acc.add(e);
    }
    float[] lanes = CpuMath.lanes();
    acc.intoArray(lanes, 0);
    return CpuMath.sumLanes(lanes);
  }

  /**
   * y = (x - mean) * rstd * w + b with mean and the biased variance over the row (two passes, as
   * PyTorch). Missing w/b are passed as ones/zeros so the loop has no branch. Writes {mean, rstd} into {@code stats}.
   */
  static void layerNormRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n, MemorySegment w, MemorySegment b, float eps,
      float[] stats) {
    float mean = CpuBackend.sumRow(xs, xe, 1, n) / n;
    int i = 0;
    float ss = 0;
    if (SIMD && n >= L) {
      FloatVector acc = FloatVector.zero(S);
      FloatVector meanV = FloatVector.broadcast(S, mean);
      for (; i <= n - L; i += L) {
        FloatVector d = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(meanV);
        acc = d.fma(d, acc);
      }
      float[] lanes = CpuMath.lanes();
      acc.intoArray(lanes, 0);
      ss = CpuMath.sumLanes(lanes);
    }
    for (; i < n; i++) {
      float d = xs.get(F32, (xe + i) * 4) - mean;
      ss += d * d;
    }
    float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
    i = 0;
    if (SIMD) {
      FloatVector meanV = FloatVector.broadcast(S, mean);
      FloatVector rstdV = FloatVector.broadcast(S, rstd);
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(meanV).mul(rstdV);
        FloatVector wv = FloatVector.fromMemorySegment(S, w, 4L * i, LE);
        y.fma(wv, FloatVector.fromMemorySegment(S, b, 4L * i, LE)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    for (; i < n; i++) {
      float y = (xs.get(F32, (xe + i) * 4) - mean) * rstd;
      os.set(F32, (oe + i) * 4, Math.fma(y, w.get(F32, 4L * i), b.get(F32, 4L * i)));
    }
    stats[0] = mean;
    stats[1] = rstd;
  }

  /** y = x * rstd * w with rstd = 1/sqrt(mean(x^2) + eps) (LLaMA's RMSNorm). Returns rstd. */
  static float rmsNormRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n, MemorySegment w, float eps) {
    int i = 0;
    float ss = 0;
    if (SIMD && n >= L) {
      FloatVector acc = FloatVector.zero(S);
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
        acc = x.fma(x, acc);
      }
      float[] lanes = CpuMath.lanes();
      acc.intoArray(lanes, 0);
      ss = CpuMath.sumLanes(lanes);
    }
    for (; i < n; i++) {
      float x = xs.get(F32, (xe + i) * 4);
      ss += x * x;
    }
    float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
    i = 0;
    if (SIMD) {
      FloatVector rstdV = FloatVector.broadcast(S, rstd);
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).mul(rstdV);
        y.mul(FloatVector.fromMemorySegment(S, w, 4L * i, LE)).intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    for (; i < n; i++) {
      os.set(F32, (oe + i) * 4, xs.get(F32, (xe + i) * 4) * rstd * w.get(F32, 4L * i));
    }
    return rstd;
  }
}
