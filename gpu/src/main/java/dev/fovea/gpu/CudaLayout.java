package dev.fovea.gpu;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The iteration space of an elementwise kernel over up to three tensors of one shape (tensor 0 is
 * the output): dimensions of size 1 dropped, adjacent dimensions merged where every tensor steps
 * through them as one (stride[d] == stride[d + 1] * shape[d + 1]), so a contiguous tensor is one
 * dimension whatever its rank and a broadcast operand keeps stride 0.
 *
 * <p>{@link #pack()} writes kernels.cu's {@code struct Strided}: int rank, int pad, i64
 * shape[6], i64 stride[3][6], i64 offset[3] (224 bytes, little-endian).
 */
record CudaLayout(long[] shape, long[][] strides, long[] offsets) {
  static final int MAX_DIMS = 6;
  static final int TENSORS = 3;
  static final int STRUCT_BYTES = 8 + 8 * MAX_DIMS + 8 * TENSORS * MAX_DIMS + 8 * TENSORS;

  static CudaLayout of(Tensor... ts) {
    int[] shape = ts[0].shape();
    long[][] st = new long[ts.length][];
    long[] off = new long[ts.length];
    for (int t = 0; t < ts.length; t++) {
      if (!Arrays.equals(ts[t].shape(), shape)) {
        throw new TensorException("cuda layout: tensor " + t + " has shape " + Arrays.toString(ts[t].shape()) + ", expected " + Arrays.toString(shape));
      }
      st[t] = ts[t].strides();
      off[t] = ts[t].offset();
    }
    return merge(shape, st, off);
  }

  /** Drops size-1 dimensions and merges runs that every tensor steps through contiguously. */
  static CudaLayout merge(int[] shape, long[][] strides, long[] offsets) {
    int tensors = strides.length;
    long[] sh = new long[shape.length];
    long[][] st = new long[tensors][shape.length];
    int r = 0;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] == 1) {
        continue;
      }
      boolean mergeWithPrevious = r > 0;
      for (int t = 0; t < tensors && mergeWithPrevious; t++) {
        mergeWithPrevious = st[t][r - 1] == strides[t][d] * shape[d];
      }
      if (mergeWithPrevious) {
        sh[r - 1] *= shape[d];
        for (int t = 0; t < tensors; t++) {
          st[t][r - 1] = strides[t][d];
        }
      } else {
        sh[r] = shape[d];
        for (int t = 0; t < tensors; t++) {
          st[t][r] = strides[t][d];
        }
        r++;
      }
    }
    if (r > MAX_DIMS) {
      throw new TensorException(
          "cuda: a strided view of shape " + Arrays.toString(shape) + " needs " + r + " dimensions after merging; the kernels take at most "
              + MAX_DIMS + " (make the tensor contiguous first)");
    }
    long[][] out = new long[tensors][];
    for (int t = 0; t < tensors; t++) {
      out[t] = Arrays.copyOf(st[t], r);
    }
    return new CudaLayout(Arrays.copyOf(sh, r), out, offsets.clone());
  }

  int rank() {
    return shape.length;
  }

  long numel() {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return n;
  }

  byte[] pack() {
    ByteBuffer b = ByteBuffer.allocate(STRUCT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(rank()).putInt(0);
    for (int d = 0; d < MAX_DIMS; d++) {
      b.putLong(d < rank() ? shape[d] : 1);
    }
    for (int t = 0; t < TENSORS; t++) {
      for (int d = 0; d < MAX_DIMS; d++) {
        b.putLong(t < strides.length && d < rank() ? strides[t][d] : 0);
      }
    }
    for (int t = 0; t < TENSORS; t++) {
      b.putLong(t < offsets.length ? offsets[t] : 0);
    }
    return b.array();
  }
}
