package dev.fovea.nn.train;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Elements;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Gradient clipping by the global L2 norm, as {@code torch.nn.utils.clip_grad_norm_} (1.13):
 *
 * <pre>
 * norm_i = ||g_i||_2 (float32)           total = ||(norm_1, ..., norm_n)||_2 (float32)
 * coef   = (1 / (total + 1e-6)) * max_norm   (float32: PyTorch's max_norm / tensor is reciprocal times)
 * g_i   *= coef when coef &lt; 1
 * </pre>
 *
 * Each norm is summed in double in element order, so it does not depend on the thread count (torch
 * sums in float with its own blocking; the two agree to about one float ulp).
 */
public final class GradClip {
  private GradClip() {}

  /** The global L2 norm of {@code grads} (contiguous F32 tensors), as torch computes it before clipping. */
  public static double totalNorm(List<Tensor> grads) {
    double sumSquares = 0;
    for (Tensor g : grads) {
      float norm = (float) Math.sqrt(sumOfSquares(g));
      sumSquares += (double) norm * norm;
    }
    return (float) Math.sqrt(sumSquares);
  }

  /**
   * Scales {@code grads} (contiguous F32 tensors, written in place) so that their global L2 norm is
   * at most {@code maxNorm}; returns the norm before clipping (may be infinite or NaN: the caller
   * decides what a non-finite gradient means).
   */
  public static double clipGradNorm(List<Tensor> grads, double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new TrainException("clipGradNorm: max_norm must be positive, got " + maxNorm);
    }
    float total = (float) totalNorm(grads);
    float coef = coefficient(total, maxNorm);
    if (coef < 1f) {
      for (Tensor g : grads) {
        MemorySegment s = segment(g);
        long n = g.numel();
        for (long j = 0; j < n; j++) {
          s.setAtIndex(Elements.F32, j, s.getAtIndex(Elements.F32, j) * coef);
        }
      }
    }
    return total;
  }

  /** The factor clipping applies at total norm {@code total} (only when it is below 1), in torch's float arithmetic. */
  public static float coefficient(double total, double maxNorm) {
    return (1f / ((float) total + 1e-6f)) * (float) maxNorm;
  }

  private static double sumOfSquares(Tensor g) {
    MemorySegment s = segment(g);
    long n = g.numel();
    double acc = 0;
    for (long j = 0; j < n; j++) {
      double x = s.getAtIndex(Elements.F32, j);
      acc += x * x;
    }
    return acc;
  }

  static MemorySegment segment(Tensor g) {
    if (g.dtype() != DType.F32 || !g.isContiguous()) {
      throw new TrainException("gradient buffers must be contiguous F32 tensors, got " + g);
    }
    return g.storage().segment().asSlice(4 * g.offset(), 4 * g.numel());
  }
}
