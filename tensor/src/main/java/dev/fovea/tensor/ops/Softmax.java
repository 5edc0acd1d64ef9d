package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Node;

/**
 * softmax(x)_i = exp(x_i - max) / sum_j exp(x_j - max), over one dimension.
 *
 * <p>Backward from the result y (saved): dx = y * (g - sum(g * y)); for log-softmax:
 * dx = g - exp(y) * sum(g).
 */
public final class Softmax {
  private Softmax() {}

  public static Tensor softmax(Tensor x, int dim) {
    return run(x, dim, false);
  }

  public static Tensor logSoftmax(Tensor x, int dim) {
    return run(x, dim, true);
  }

  private static Tensor run(Tensor x0, int dim, boolean log) {
    String name = log ? "logSoftmax" : "softmax";
    Tensor x = Elementwise.f32(x0, name);
    int d = Shapes.dim(dim, x.shape(), name);
    int last = x.dim() - 1;
    Tensor moved = d == last ? x.detach() : Views.transpose(x.detach(), d, last);
    Tensor c = Views.contiguous(moved);
    int n = c.size(last);
    int rows = (int) (c.numel() / Math.max(1, n));
    Tensor out = Tensor.empty(c.device(), DType.F32, c.shape());
    if (rows > 0 && n > 0) {
      Backends.of(x.device()).softmax(Views.reshape(c, rows, n), Views.reshape(out, rows, n), log);
    }
    Tensor y = d == last ? out : Views.transpose(out, d, last).detach();
    return y.recordedBy(new Node(name, x) {
      @Override
      public Tensor[] backward(Tensor g) {
        if (log) {
          return new Tensor[] {Ops.sub(g, Ops.mul(Ops.exp(y), Reductions.sum(g, d, true)))};
        }
        return new Tensor[] {Ops.mul(y, Ops.sub(g, Reductions.sum(Ops.mul(g, y), d, true)))};
      }
    });
  }
}
