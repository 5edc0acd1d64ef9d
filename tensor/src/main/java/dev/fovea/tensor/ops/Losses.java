package dev.fovea.tensor.ops;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.Node;
import dev.fovea.tensor.cpu.Elements;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Cross-entropy of logits against integer targets, as torch.nn.functional.cross_entropy with
 * {@code ignore_index} (Hugging Face's -100 marks the positions that are not trained: prompt and
 * image tokens, padding), fused so that no [N, V] log-probability tensor is kept for the backward.
 *
 * <pre>
 * loss_r = logsumexp(x_r) - x_r[t_r]          rows r with t_r != ignore_index (M of them)
 * mean:  L = sum_r loss_r / M                 sum: L = sum_r loss_r
 * dL/dx_r = g * (softmax(x_r) - onehot(t_r)) / M   (no / M for sum); 0 on ignored rows
 * </pre>
 *
 * Saved for the backward: the logits (already in the graph's scope) and each row's logsumexp.
 * Rows are computed in double and summed in row order, so the result does not depend on the thread
 * count.
 */
public final class Losses {
  private Losses() {}

  /** Hugging Face's and PyTorch's default {@code ignore_index}. */
  public static final int IGNORE_INDEX = -100;

  /** How the per-row losses are combined. */
  public enum Reduction {
    /** Mean over the rows that are not ignored (torch's default). */
    MEAN,
    /** Sum over the rows that are not ignored. */
    SUM
  }

  /**
   * logits [..., V] (any float dtype, any strides) and targets [...] (I32/I64, same leading shape);
   * a target equal to {@code ignoreIndex} leaves its row out. Returns a scalar. Throws when a target
   * is outside [0, V) and not ignored, or (MEAN) when every row is ignored (torch returns NaN there,
   * which would poison a training run silently).
   */
  public static Tensor crossEntropy(Tensor logits0, Tensor targets, int ignoreIndex, Reduction reduction) {
    if (logits0.dim() < 1 || targets.dtype().isFloatingPoint()) {
      throw ShapeException.of("crossEntropy", "needs logits [..., V] and integer targets [...], got targets " + targets.dtype(),
          logits0.shape(), targets.shape());
    }
    int[] lead = Arrays.copyOf(logits0.shape(), logits0.dim() - 1);
    if (!Arrays.equals(lead, targets.shape())) {
      throw ShapeException.of("crossEntropy", "targets must have the logits' shape without the last (class) dimension", logits0.shape(),
          targets.shape());
    }
    Tensor logits = Elementwise.f32(logits0, "crossEntropy");
    int v = logits.size(-1);
    int n = Math.toIntExact(targets.numel());
    long[] t = targets.toLongArray();
    int m = 0;
    for (int r = 0; r < n; r++) {
      if (t[r] == ignoreIndex) {
        continue;
      }
      if (t[r] < 0 || t[r] >= v) {
        throw new TensorException("crossEntropy: target " + t[r] + " at row " + r + " is outside the " + v + " classes [0, " + v + ")"
            + " and is not the ignore index " + ignoreIndex);
      }
      m++;
    }
    if (m == 0 && reduction == Reduction.MEAN) {
      throw new TensorException("crossEntropy: all " + n + " targets are the ignore index " + ignoreIndex + "; the mean over no targets is undefined");
    }
    Tensor x = Views.contiguous(Views.reshape(logits.detach(), n, v)); // [N, V]
    MemorySegment xs = x.storage().segment();
    long base = x.offset();
    double[] lse = new double[n];
    double[] loss = new double[n];
    Parallel.forRange(n, Math.max(1, 65536 / Math.max(1, v)), (lo, hi) -> {
      for (int r = (int) lo; r < hi; r++) {
        if (t[r] == ignoreIndex) {
          continue;
        }
        long row = (base + (long) r * v) * 4;
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < v; j++) {
          max = Math.max(max, xs.get(Elements.F32, row + 4L * j));
        }
        double s = 0;
        for (int j = 0; j < v; j++) {
          s += Math.exp(xs.get(Elements.F32, row + 4L * j) - max);
        }
        lse[r] = max + Math.log(s);
        loss[r] = lse[r] - xs.get(Elements.F32, row + 4L * t[r]);
      }
    });
    double total = 0;
    for (int r = 0; r < n; r++) {
      total += loss[r]; // row order: the same sum at any thread count
    }
    double scale = reduction == Reduction.MEAN ? 1.0 / m : 1.0;
    Tensor y = Tensor.scalar((float) (total * scale));
    int[] inShape = logits.shape();
    return y.recordedBy(new Node("crossEntropy", logits) {
      @Override
      public Tensor[] backward(Tensor g) {
        double gs = g.item() * scale;
        Tensor dx = Tensor.empty(DType.F32, n, v);
        MemorySegment ds = dx.storage().segment();
        long dbase = dx.offset();
        Parallel.forRange(n, Math.max(1, 65536 / Math.max(1, v)), (lo, hi) -> {
          for (int r = (int) lo; r < hi; r++) {
            long out = (dbase + (long) r * v) * 4;
            if (t[r] == ignoreIndex) {
              ds.asSlice(out, 4L * v).fill((byte) 0);
              continue;
            }
            long row = (base + (long) r * v) * 4;
            for (int j = 0; j < v; j++) {
              double p = Math.exp(xs.get(Elements.F32, row + 4L * j) - lse[r]);
              ds.set(Elements.F32, out + 4L * j, (float) (gs * (j == t[r] ? p - 1 : p)));
            }
          }
        });
        return new Tensor[] {Views.reshape(dx, inShape)};
      }
    });
  }
}
