package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.Node;
import java.util.Arrays;

/**
 * View ops: new shape/strides/offset over the same storage, no copy. Backward of each is the
 * inverse view or, for slices and expansions, a scatter into zeros or a sum.
 */
public final class Views {
  private Views() {}

  /** Row-major reshape; one size may be -1. Copies only when the strides cannot express the new shape. */
  public static Tensor reshape(Tensor x, int... newShape) {
    int[] shape = inferShape(x, newShape);
    int[] inShape = x.shape();
    long[] strides = viewStrides(inShape, x.strides(), shape);
    Tensor out;
    if (strides != null) {
      out = new Tensor(x.storage(), shape, strides, x.offset());
    } else {
      Tensor c = contiguousCopy(x);
      out = new Tensor(c.storage(), shape, Shapes.contiguousStrides(shape), c.offset());
    }
    return out.recordedBy(new Node("reshape", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {reshape(g, inShape)};
      }
    });
  }

  private static int[] inferShape(Tensor x, int[] newShape) {
    int infer = -1;
    long known = 1;
    for (int d = 0; d < newShape.length; d++) {
      if (newShape[d] == -1) {
        if (infer >= 0) {
          throw ShapeException.of("reshape", "only one size may be -1", x.shape(), newShape);
        }
        infer = d;
      } else if (newShape[d] < 0) {
        throw ShapeException.of("reshape", "negative size", x.shape(), newShape);
      } else {
        known *= newShape[d];
      }
    }
    int[] shape = newShape.clone();
    long n = x.numel();
    if (infer >= 0) {
      if (known == 0 || n % known != 0) {
        throw ShapeException.of("reshape", "cannot infer the -1 size for " + n + " elements", x.shape(), newShape);
      }
      shape[infer] = (int) (n / known);
    }
    if (Shapes.numel(shape) != n) {
      throw ShapeException.of("reshape", n + " elements cannot take the new shape", x.shape(), newShape);
    }
    return shape;
  }

  /** Strides expressing {@code newShape} over a view of (shape, strides), or null if a copy is needed (PyTorch's computeStride). */
  static long[] viewStrides(int[] shape, long[] strides, int[] newShape) {
    long[] out = new long[newShape.length];
    if (Shapes.numel(shape) == 0) {
      return Shapes.contiguousStrides(newShape);
    }
    int viewD = newShape.length - 1;
    long chunkBase = strides.length == 0 ? 1 : strides[strides.length - 1];
    long tensorNumel = 1;
    long viewNumel = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      tensorNumel *= shape[d];
      if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
        while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
          out[viewD] = viewNumel * chunkBase;
          viewNumel *= newShape[viewD];
          viewD--;
        }
        if (viewNumel != tensorNumel) {
          return null;
        }
        if (d > 0) {
          chunkBase = strides[d - 1];
          tensorNumel = 1;
          viewNumel = 1;
        }
      }
    }
    if (viewD != -1) {
      // remaining leading size-1 dims
      for (; viewD >= 0; viewD--) {
        if (newShape[viewD] != 1) {
          return null;
        }
        out[viewD] = 1;
      }
    }
    return out;
  }

  public static Tensor transpose(Tensor x, int d0, int d1) {
    int r = x.dim();
    int a = Shapes.dim(d0, x.shape(), "transpose");
    int b = Shapes.dim(d1, x.shape(), "transpose");
    int[] perm = new int[r];
    for (int i = 0; i < r; i++) {
      perm[i] = i;
    }
    perm[a] = b;
    perm[b] = a;
    return permute(x, perm);
  }

  public static Tensor permute(Tensor x, int... dims) {
    int r = x.dim();
    if (dims.length != r) {
      throw ShapeException.of("permute", "permutation " + Arrays.toString(dims) + " has the wrong rank", x.shape());
    }
    int[] shape = x.shape();
    long[] strides = x.strides();
    int[] ns = new int[r];
    long[] nst = new long[r];
    int[] inverse = new int[r];
    boolean[] used = new boolean[r];
    for (int i = 0; i < r; i++) {
      int d = Shapes.dim(dims[i], x.shape(), "permute");
      if (used[d]) {
        throw ShapeException.of("permute", "dimension " + d + " repeated in " + Arrays.toString(dims), x.shape());
      }
      used[d] = true;
      ns[i] = shape[d];
      nst[i] = strides[d];
      inverse[d] = i;
    }
    Tensor out = new Tensor(x.storage(), ns, nst, x.offset());
    return out.recordedBy(new Node("permute", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {permute(g, inverse)};
      }
    });
  }

  public static Tensor slice(Tensor x, int dim, int start, int end, int step) {
    int d = Shapes.dim(dim, x.shape(), "slice");
    int size = x.size(d);
    if (step <= 0) {
      throw ShapeException.of("slice", "step must be positive, got " + step, x.shape());
    }
    int s = start < 0 ? start + size : start;
    int e = end < 0 ? end + size : end;
    s = Math.max(0, Math.min(size, s));
    e = Math.max(s, Math.min(size, e));
    int len = (e - s + step - 1) / step;
    int[] shape = x.shape();
    long[] strides = x.strides();
    long offset = x.offset() + s * strides[d];
    shape[d] = len;
    strides[d] *= step;
    int[] inShape = x.shape();
    final int fs = s;
    Tensor out = new Tensor(x.storage(), shape, strides, len == 0 ? x.offset() : offset);
    return out.recordedBy(new Node("slice", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor full = Transfer.zeros(g.device(), inShape);
        Ops.copyInto(g, slice(full, d, fs, fs + (len - 1) * step + 1, step));
        return new Tensor[] {full};
      }
    });
  }

  public static Tensor select(Tensor x, int dim, int index) {
    int d = Shapes.dim(dim, x.shape(), "select");
    int size = x.size(d);
    int i = index < 0 ? index + size : index;
    if (i < 0 || i >= size) {
      throw ShapeException.of("select", "index " + index + " out of range for dimension " + d, x.shape());
    }
    return squeeze(slice(x, d, i, i + 1, 1), d);
  }

  public static Tensor unsqueeze(Tensor x, int dim) {
    int r = x.dim() + 1;
    int d = Shapes.dim(dim, r, "unsqueeze");
    int[] shape = new int[r];
    long[] strides = new long[r];
    int[] is = x.shape();
    long[] ist = x.strides();
    for (int i = 0, j = 0; i < r; i++) {
      if (i == d) {
        shape[i] = 1;
        strides[i] = j < is.length ? ist[j] * is[j] : 1;
      } else {
        shape[i] = is[j];
        strides[i] = ist[j];
        j++;
      }
    }
    Tensor out = new Tensor(x.storage(), shape, strides, x.offset());
    return out.recordedBy(new Node("unsqueeze", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {squeeze(g, d)};
      }
    });
  }

  public static Tensor squeeze(Tensor x, int dim) {
    int d = Shapes.dim(dim, x.shape(), "squeeze");
    if (x.size(d) != 1) {
      throw ShapeException.of("squeeze", "dimension " + d + " has size " + x.size(d) + ", not 1", x.shape());
    }
    int r = x.dim() - 1;
    int[] shape = new int[r];
    long[] strides = new long[r];
    int[] is = x.shape();
    long[] ist = x.strides();
    for (int i = 0, j = 0; i < is.length; i++) {
      if (i != d) {
        shape[j] = is[i];
        strides[j] = ist[i];
        j++;
      }
    }
    Tensor out = new Tensor(x.storage(), shape, strides, x.offset());
    return out.recordedBy(new Node("squeeze", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {unsqueeze(g, d)};
      }
    });
  }

  /** Broadcasts size-1 (or missing leading) dimensions to {@code newShape} with zero strides; -1 keeps a size. */
  public static Tensor expand(Tensor x, int... newShape) {
    int r = newShape.length;
    int[] is = x.shape();
    long[] ist = x.strides();
    if (r < is.length) {
      throw ShapeException.of("expand", "cannot expand to a lower rank", is, newShape);
    }
    int[] shape = new int[r];
    long[] strides = new long[r];
    for (int i = 0; i < r; i++) {
      int j = i - (r - is.length);
      int want = newShape[i];
      if (j < 0) {
        if (want < 0) {
          throw ShapeException.of("expand", "-1 is not allowed for a new leading dimension", is, newShape);
        }
        shape[i] = want;
        strides[i] = 0;
      } else if (want == -1 || want == is[j]) {
        shape[i] = is[j];
        strides[i] = ist[j];
      } else if (is[j] == 1) {
        shape[i] = want;
        strides[i] = 0;
      } else {
        throw ShapeException.of("expand", "dimension " + i + " of size " + is[j] + " cannot expand to " + want, is, newShape);
      }
    }
    if (Arrays.equals(shape, is)) {
      return x;
    }
    Tensor out = new Tensor(x.storage(), shape, strides, x.offset());
    return out.recordedBy(new Node("expand", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {Reductions.sumToShape(g, is)};
      }
    });
  }

  /** This tensor if already contiguous, else a contiguous copy. */
  public static Tensor contiguous(Tensor x) {
    if (x.isContiguous()) {
      return x;
    }
    Tensor out = contiguousCopy(x);
    return out.recordedBy(new Node("contiguous", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {g};
      }
    });
  }

  private static Tensor contiguousCopy(Tensor x) {
    Tensor out = Tensor.empty(x.device(), x.dtype(), x.shape());
    Backends.of(x.device()).copy(x, out);
    return out;
  }

  /** Conversion to another dtype (a copy unless already of that dtype). */
  public static Tensor to(Tensor x, DType dtype) {
    if (x.dtype() == dtype) {
      return x;
    }
    if (dtype.isQuantized() && (x.dim() == 0 || x.size(-1) % dtype.blockSize() != 0)) {
      throw ShapeException.of("to(" + dtype + ")", "the last dimension must be a multiple of " + dtype.blockSize(), x.shape());
    }
    Tensor out = Tensor.empty(x.device(), dtype, x.shape());
    Backends.of(x.device()).copy(x, out);
    if (!dtype.isFloatingPoint()) {
      return out;
    }
    // Gradients are kept in F32 whatever the storage type of the input.
    return out.recordedBy(new Node("to_" + dtype.name().toLowerCase(), x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {to(g, DType.F32)};
      }
    });
  }

  /** Copies {@code src} into the existing view {@code dst} (same shape; broadcasting src is allowed). Not recorded. */
  public static void copyInto(Tensor src, Tensor dst) {
    if (!Arrays.equals(src.shape(), dst.shape())) {
      int[] bc;
      try {
        bc = Shapes.broadcast("copyInto", src.shape(), dst.shape());
      } catch (ShapeException e) {
        bc = null;
      }
      if (bc == null || !Arrays.equals(bc, dst.shape())) {
        throw ShapeException.of("copyInto", "source does not broadcast to the destination", src.shape(), dst.shape());
      }
      src = expand(src.detach(), dst.shape());
    }
    src = Transfer.align("copyInto", src, dst);
    if (dst.storage().isReadOnly()) {
      throw new TensorException("copyInto: destination " + Arrays.toString(dst.shape()) + " is read-only (a memory-mapped weight?)");
    }
    Backends.of(dst.device()).copy(src, dst);
  }
}
