package dev.fovea.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by ops: numel, strides, broadcasting, dimension wrapping. */
public final class Shapes {
  /** Largest element count a tensor may have (guards against absurd shapes from hostile headers). */
  public static final long MAX_NUMEL = 1L << 40;

  private Shapes() {}

  public static long numel(int[] shape) {
    long n = 1;
    for (int s : shape) {
      if (s < 0) {
        throw new ShapeException("negative size in shape " + Arrays.toString(shape));
      }
      n *= s;
      if (n > MAX_NUMEL) {
        throw new ShapeException("shape " + Arrays.toString(shape) + " has more than 2^40 elements");
      }
    }
    return n;
  }

  public static long[] contiguousStrides(int[] shape) {
    long[] st = new long[shape.length];
    long s = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      st[d] = s;
      s *= Math.max(shape[d], 1);
    }
    return st;
  }

  /** Wraps a possibly negative dimension into {@code [0, rank)}. */
  public static int dim(int d, int rank, String op) {
    int r = d < 0 ? d + rank : d;
    if (r < 0 || r >= rank) {
      throw new ShapeException(op + ": dimension " + d + " out of range for rank " + rank);
    }
    return r;
  }

  /** Wraps a possibly negative dimension of a tensor of {@code shape}; the error names the op and the shape. */
  public static int dim(int d, int[] shape, String op) {
    int rank = shape.length;
    int r = d < 0 ? d + rank : d;
    if (r < 0 || r >= rank) {
      throw new ShapeException(op + ": dimension " + d + " out of range for shape " + Arrays.toString(shape) + " (rank " + rank + ")");
    }
    return r;
  }

  /** The broadcast shape of {@code a} and {@code b} (NumPy rules), or a ShapeException naming the op. */
  public static int[] broadcast(String op, int[] a, int[] b) {
    int rank = Math.max(a.length, b.length);
    int[] out = new int[rank];
    for (int i = 0; i < rank; i++) {
      int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
      int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
      if (da != db && da != 1 && db != 1) {
        throw ShapeException.of(op, "not broadcastable (dimension " + i + ": " + da + " vs " + db + ")", a, b);
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  /** Storage element of the {@code flat}-th element in row-major order; {@code idx} is scratch of the tensor's rank. */
  static long elementAt(int[] idx, int[] shape, long[] strides, long offset, long flat) {
    long e = offset;
    long rem = flat;
    for (int d = shape.length - 1; d >= 0; d--) {
      int s = shape[d];
      int i = (int) (rem % s);
      rem /= s;
      e += i * strides[d];
    }
    return e;
  }

  public static String str(int[] shape) {
    return Arrays.toString(shape);
  }
}
