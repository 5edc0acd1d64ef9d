package dev.fovea.tensor.ops;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Joining and indexing: concat, stack, split, indexSelect, scatter. */
public final class Joins {
  private Joins() {}

  /** Concatenation along {@code dim}; all other sizes must agree. Backward: slices of g. */
  public static Tensor concat(List<Tensor> parts, int dim) {
    if (parts.isEmpty()) {
      throw new ShapeException("concat: no tensors given");
    }
    Tensor first = parts.get(0);
    int d = Shapes.dim(dim, first.shape(), "concat");
    int[] shape = first.shape();
    int total = 0;
    Tensor[] ins = new Tensor[parts.size()];
    for (int i = 0; i < ins.length; i++) {
      Tensor p = Elementwise.f32(parts.get(i), "concat");
      ins[i] = p;
      int[] s = p.shape();
      if (s.length != shape.length) {
        throw ShapeException.of("concat", "tensor " + i + " has a different rank", shape, s);
      }
      for (int k = 0; k < s.length; k++) {
        if (k != d && s[k] != shape[k]) {
          throw ShapeException.of("concat", "tensor " + i + " differs in dimension " + k + " (concatenating along " + d + ")", shape, s);
        }
      }
      total += s[d];
    }
    shape[d] = total;
    for (int i = 1; i < ins.length; i++) {
      ins[i] = Transfer.align("concat", ins[i], ins[0]);
    }
    Tensor out = Tensor.empty(ins[0].device(), DType.F32, shape);
    int at = 0;
    int[] starts = new int[ins.length];
    for (int i = 0; i < ins.length; i++) {
      int len = ins[i].size(d);
      starts[i] = at;
      Ops.copyInto(ins[i].detach(), Views.slice(out.detach(), d, at, at + len, 1));
      at += len;
    }
    return out.recordedBy(new Node("concat", ins) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor[] gs = new Tensor[ins.length];
        for (int i = 0; i < ins.length; i++) {
          gs[i] = Views.slice(g, d, starts[i], starts[i] + ins[i].size(d), 1);
        }
        return gs;
      }
    });
  }

  /** Stacks same-shaped tensors along a new dimension {@code dim}. */
  public static Tensor stack(List<Tensor> parts, int dim) {
    if (parts.isEmpty()) {
      throw new ShapeException("stack: no tensors given");
    }
    int d = Shapes.dim(dim, parts.get(0).dim() + 1, "stack");
    List<Tensor> us = new ArrayList<>();
    for (Tensor p : parts) {
      if (!Arrays.equals(p.shape(), parts.get(0).shape())) {
        throw ShapeException.of("stack", "all tensors must have the same shape", parts.get(0).shape(), p.shape());
      }
      us.add(Views.unsqueeze(p, d));
    }
    return concat(us, d);
  }

  /** Splits along {@code dim} into views of the given sizes (which must add up to the dimension). */
  public static List<Tensor> split(Tensor x, int dim, int... sizes) {
    int d = Shapes.dim(dim, x.shape(), "split");
    int sum = Arrays.stream(sizes).sum();
    if (sum != x.size(d)) {
      throw ShapeException.of("split", "sizes " + Arrays.toString(sizes) + " do not add up to dimension " + d, x.shape());
    }
    List<Tensor> out = new ArrayList<>();
    int at = 0;
    for (int s : sizes) {
      out.add(Views.slice(x, d, at, at + s, 1));
      at += s;
    }
    return out;
  }

  /** Rows of {@code x} along {@code dim} picked by integer {@code index} [n]. Backward: index-add into zeros. */
  public static Tensor indexSelect(Tensor x0, int dim, Tensor index) {
    Tensor x = Elementwise.f32(x0, "indexSelect");
    int d = Shapes.dim(dim, x.shape(), "indexSelect");
    if (index.dim() != 1 || index.dtype().isFloatingPoint()) {
      throw ShapeException.of("indexSelect", "index must be a 1-d integer tensor, got " + index.dtype(), x.shape(), index.shape());
    }
    long[] idx = index.toLongArray();
    int size = x.size(d);
    for (int i = 0; i < idx.length; i++) {
      if (idx[i] < 0 || idx[i] >= size) {
        throw ShapeException.of("indexSelect", "index " + idx[i] + " at position " + i + " out of range for dimension " + d + " of size " + size, x.shape());
      }
    }
    int[] shape = x.shape();
    shape[d] = idx.length;
    Tensor out = Tensor.empty(x.device(), DType.F32, shape);
    for (int i = 0; i < idx.length; i++) {
      Ops.copyInto(Views.select(x.detach(), d, (int) idx[i]), Views.select(out.detach(), d, i));
    }
    int[] inShape = x.shape();
    return out.recordedBy(new Node("indexSelect", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor gx = Transfer.zeros(g.device(), inShape);
        for (int i = 0; i < idx.length; i++) {
          Tensor dst = Views.select(gx, d, (int) idx[i]);
          Ops.copyInto(Ops.add(dst, Views.select(g, d, i)), dst);
        }
        return new Tensor[] {gx};
      }
    });
  }

  /**
   * Zeros of {@code shape} with {@code src} added at {@code index} along {@code dim} (src and index
   * same shape), on src's device. Not recorded. Computed on the host (a device src is copied over
   * and the result back: the backward of max/top-k, small tensors).
   */
  static Tensor scatter(Tensor src, Tensor index, int dim, int[] shape) {
    Tensor out = Tensor.zeros(shape);
    Tensor s = Views.contiguous(Views.transpose(src, dim, -1));
    Tensor ix = Views.contiguous(Views.transpose(index, dim, -1));
    Tensor o = Views.transpose(out, dim, -1);
    int k = s.size(-1);
    float[] sv = s.toFloatArray();
    long[] iv = ix.toLongArray();
    int[] os = o.shape();
    int rows = (int) (o.numel() / Math.max(1, os[os.length - 1]));
    int[] idx = new int[os.length];
    for (int r = 0; r < rows; r++) {
      int rem = r;
      for (int q = os.length - 2; q >= 0; q--) {
        idx[q] = rem % os[q];
        rem /= os[q];
      }
      for (int j = 0; j < k; j++) {
        idx[os.length - 1] = (int) iv[r * k + j];
        long e = o.elementIndex(idx);
        float prev = o.storage().segment().get(dev.fovea.tensor.cpu.Elements.F32, e * 4);
        o.storage().segment().set(dev.fovea.tensor.cpu.Elements.F32, e * 4, prev + sv[r * k + j]);
      }
    }
    return src.device().equals(Device.CPU) ? out : Transfer.copy(out, dev.fovea.tensor.Scope.current(), src.device());
  }

  /** A [rows, dim] table of zeros with row i of {@code g} [n, dim] added at row ids[i]. Not recorded. */
  static Tensor scatterRows(Tensor g, Tensor ids, int rows) {
    int dim = g.size(1);
    long[] idx = ids.toLongArray();
    float[] acc = new float[Math.multiplyExact(rows, dim)];
    float[] gv = g.toFloatArray();
    for (int i = 0; i < idx.length; i++) {
      int base = (int) idx[i] * dim;
      for (int j = 0; j < dim; j++) {
        acc[base + j] += gv[i * dim + j];
      }
    }
    return Tensor.of(acc, rows, dim);
  }
}
