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
   * A row of all -inf (every key masked) gives zeros (softmax) rather than NaN.
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
      FloatVector acc = FloatVector.zero(S);
      for (; i <= n - L; i += L) {
        FloatVector e = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(max).lanewise(VectorOperators.EXP);
        if (!log) {
          e.intoMemorySegment(os, (oe + i) * 4, LE);
        }
        acc = acc.add(e);
      }
      sum = acc.reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      float e = (float) Math.exp(xs.get(F32, (xe + i) * 4) - max);
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
        for (; i <= n - L; i += L) {
          FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(max).sub(logSum).intoMemorySegment(os, (oe + i) * 4, LE);
        }
      }
      for (; i < n; i++) {
        os.set(F32, (oe + i) * 4, (xs.get(F32, (xe + i) * 4) - max) - logSum);
      }
    } else {
      float inv = 1f / sum;
      if (SIMD) {
        for (; i <= n - L; i += L) {
          FloatVector.fromMemorySegment(S, os, (oe + i) * 4, LE).mul(inv).intoMemorySegment(os, (oe + i) * 4, LE);
        }
      }
      for (; i < n; i++) {
        os.set(F32, (oe + i) * 4, os.get(F32, (oe + i) * 4) * inv);
      }
    }
  }

  /**
   * y = (x - mean) * rstd * w + b with mean and the biased variance over the row (two passes, as
   * PyTorch). Returns {mean, rstd}.
   */
  static float[] layerNormRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n, float[] w, float[] b, float eps) {
    float mean = CpuBackend.sumRow(xs, xe, 1, n) / n;
    int i = 0;
    float ss = 0;
    if (SIMD && n >= L) {
      FloatVector acc = FloatVector.zero(S);
      for (; i <= n - L; i += L) {
        FloatVector d = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(mean);
        acc = d.fma(d, acc);
      }
      ss = acc.reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      float d = xs.get(F32, (xe + i) * 4) - mean;
      ss += d * d;
    }
    float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
    i = 0;
    if (SIMD) {
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).sub(mean).mul(rstd);
        if (w != null) {
          y = y.mul(FloatVector.fromArray(S, w, i));
        }
        if (b != null) {
          y = y.add(FloatVector.fromArray(S, b, i));
        }
        y.intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    for (; i < n; i++) {
      float y = (xs.get(F32, (xe + i) * 4) - mean) * rstd;
      if (w != null) {
        y *= w[i];
      }
      if (b != null) {
        y += b[i];
      }
      os.set(F32, (oe + i) * 4, y);
    }
    return new float[] {mean, rstd};
  }

  /** y = x * rstd * w with rstd = 1/sqrt(mean(x^2) + eps) (LLaMA's RMSNorm). Returns rstd. */
  static float rmsNormRow(MemorySegment xs, long xe, MemorySegment os, long oe, int n, float[] w, float eps) {
    int i = 0;
    float ss = 0;
    if (SIMD && n >= L) {
      FloatVector acc = FloatVector.zero(S);
      for (; i <= n - L; i += L) {
        FloatVector x = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE);
        acc = x.fma(x, acc);
      }
      ss = acc.reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      float x = xs.get(F32, (xe + i) * 4);
      ss += x * x;
    }
    float rstd = (float) (1.0 / Math.sqrt(ss / n + eps));
    i = 0;
    if (SIMD) {
      for (; i <= n - L; i += L) {
        FloatVector y = FloatVector.fromMemorySegment(S, xs, (xe + i) * 4, LE).mul(rstd);
        if (w != null) {
          y = y.mul(FloatVector.fromArray(S, w, i));
        }
        y.intoMemorySegment(os, (oe + i) * 4, LE);
      }
    }
    for (; i < n; i++) {
      float y = xs.get(F32, (xe + i) * 4) * rstd;
      if (w != null) {
        y *= w[i];
      }
      os.set(F32, (oe + i) * 4, y);
    }
    return rstd;
  }
}
