package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ReduceOp;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Node;
import java.util.Arrays;

/** Reductions over dimensions: sum, mean, max, argmax, top-k. */
public final class Reductions {
  private Reductions() {}

  /** Sum over {@code dim}. Backward: g broadcast back over the reduced dimension. */
  public static Tensor sum(Tensor x0, int dim, boolean keepdim) {
    Tensor x = Elementwise.f32(x0, "sum");
    int d = Shapes.dim(dim, x.shape(), "sum");
    Tensor y = reduce(ReduceOp.SUM, x, d, keepdim);
    int[] inShape = x.shape();
    return y.recordedBy(new Node("sum", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor gk = keepdim ? g : Views.unsqueeze(g, d);
        return new Tensor[] {Views.contiguous(Views.expand(gk, inShape))};
      }
    });
  }

  /** Sum of all elements (a scalar). */
  public static Tensor sumAll(Tensor x) {
    Tensor flat = Views.reshape(x, -1);
    return Views.reshape(sum(flat, 0, false), new int[0]);
  }

  public static Tensor mean(Tensor x, int dim, boolean keepdim) {
    int d = Shapes.dim(dim, x.shape(), "mean");
    return Ops.mulScalar(sum(x, d, keepdim), 1f / x.size(d));
  }

  /** Max over {@code dim} (values). Backward sends g to every position equal to the max. */
  public static Tensor max(Tensor x0, int dim, boolean keepdim) {
    Tensor x = Elementwise.f32(x0, "max");
    int d = Shapes.dim(dim, x.shape(), "max");
    if (x.size(d) == 0) {
      throw ShapeException.of("max", "cannot reduce an empty dimension " + d, x.shape());
    }
    Tensor y = reduce(ReduceOp.MAX, x, d, keepdim);
    int[] inShape = x.shape();
    return y.recordedBy(new Node("max", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor yk = keepdim ? y : Views.unsqueeze(y, d);
        Tensor gk = keepdim ? g : Views.unsqueeze(g, d);
        Tensor mask = Elementwise.binary(BinaryOp.EQ, x, Views.expand(yk, inShape));
        return new Tensor[] {Ops.mul(mask, gk)};
      }
    });
  }

  /** Reduces dimension d: move it last, view rows, reduce, restore shape. */
  private static Tensor reduce(ReduceOp op, Tensor x, int d, boolean keepdim) {
    Tensor xd = x.detach();
    int r = x.dim();
    int[] perm = new int[r];
    for (int i = 0, j = 0; i < r; i++) {
      if (i != d) {
        perm[j++] = i;
      }
    }
    perm[r - 1] = d;
    Tensor moved = Views.permute(xd, perm);
    int n = x.size(d);
    int rows = (int) (x.numel() / Math.max(1, n));
    Tensor rows2 = Views.reshape(moved, rows, n);
    Tensor out = Tensor.empty(x.device(), DType.F32, rows);
    if (n == 0) {
      Ops.copyInto(Ops.scalar(0f), out);
    } else {
      Backends.of(x.device()).reduceLast(op, rows2, out);
    }
    int[] shape = x.shape();
    shape[d] = 1;
    Tensor kept = Views.reshape(out, shape);
    return keepdim ? kept.detach() : Views.squeeze(kept, d).detach();
  }

  /** Sums {@code g} down to {@code shape} (the inverse of broadcasting). */
  public static Tensor sumToShape(Tensor g, int[] shape) {
    if (Arrays.equals(g.shape(), shape)) {
      return g;
    }
    Tensor t = g;
    while (t.dim() > shape.length) {
      t = sum(t, 0, false);
    }
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] == 1 && t.size(d) != 1) {
        t = sum(t, d, true);
      }
    }
    if (!Arrays.equals(t.shape(), shape)) {
      throw ShapeException.of("sumToShape", "gradient cannot be reduced to the input's shape", g.shape(), shape);
    }
    return t;
  }

  /** Index of the max along {@code dim} (first on ties), as I64. Not differentiable. */
  public static Tensor argmax(Tensor x, int dim, boolean keepdim) {
    TopK t = topk(x, 1, dim, true);
    return keepdim ? t.indices() : Views.squeeze(t.indices(), Shapes.dim(dim, x.shape(), "argmax"));
  }

  /** Values and I64 indices of the k largest (or smallest) along {@code dim}, sorted. */
  public record TopK(Tensor values, Tensor indices) {}

  public static TopK topk(Tensor x0, int k, int dim, boolean largest) {
    Tensor x = Elementwise.f32(x0, "topk");
    int d = Shapes.dim(dim, x.shape(), "topk");
    int n = x.size(d);
    if (k < 0 || k > n) {
      throw ShapeException.of("topk", "k = " + k + " is outside [0, " + n + "] for dimension " + d, x.shape());
    }
    Tensor moved = Views.contiguous(Views.transpose(x.detach(), d, -1));
    int rows = (int) (moved.numel() / Math.max(1, n));
    float[] v = moved.toFloatArray();
    float[] vals = new float[rows * k];
    long[] idx = new long[rows * k];
    Integer[] order = new Integer[n];
    for (int r = 0; r < rows; r++) {
      final int base = r * n;
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      // stable sort: ties keep the lower index first
      Arrays.sort(order, (p, q) -> largest ? Float.compare(v[base + q], v[base + p]) : Float.compare(v[base + p], v[base + q]));
      for (int i = 0; i < k; i++) {
        vals[r * k + i] = v[base + order[i]];
        idx[r * k + i] = order[i];
      }
    }
    int[] mshape = moved.shape();
    mshape[mshape.length - 1] = k;
    Tensor values = Views.contiguous(Views.transpose(Tensor.of(vals, mshape), d, -1));
    Tensor indices = Views.contiguous(Views.transpose(Tensor.ofLongs(idx, mshape), d, -1));
    if (!x.device().equals(dev.fovea.tensor.Device.CPU)) {
      // sorted on the host (a copy of x), the results go back to x's device like every op's
      values = Transfer.copy(values, dev.fovea.tensor.Scope.current(), x.device());
      indices = Transfer.copy(indices, dev.fovea.tensor.Scope.current(), x.device());
    }
    int[] inShape = x.shape();
    Tensor picked = indices;
    values = values.detach().recordedBy(new Node("topk", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {Joins.scatter(g, picked, d, inShape)};
      }
    });
    return new TopK(values, indices);
  }
}
