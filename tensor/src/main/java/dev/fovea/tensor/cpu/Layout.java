package dev.fovea.tensor.cpu;

import dev.fovea.tensor.Tensor;

/**
 * Several same-shaped strided views walked together as rows: dimensions that are contiguous in
 * every view are merged first, then the last (merged) dimension is the row and everything before
 * it indexes rows. Kernels process one row at a time with per-view inner strides.
 */
final class Layout {
  final int[] shape;
  final long[][] strides;
  final long[] offsets;
  final int n;
  final long rows;

  Layout(Tensor... views) {
    int[] s = views[0].shape();
    int k = views.length;
    long[][] st = new long[k][];
    offsets = new long[k];
    for (int i = 0; i < k; i++) {
      st[i] = views[i].strides();
      offsets[i] = views[i].offset();
    }
    // Drop size-1 dims, then merge neighbours that are contiguous in every view.
    int rank = 0;
    int[] ms = new int[Math.max(1, s.length)];
    long[][] mst = new long[k][Math.max(1, s.length)];
    for (int d = 0; d < s.length; d++) {
      if (s[d] == 1) {
        continue;
      }
      if (rank > 0) {
        boolean merge = true;
        for (int i = 0; i < k; i++) {
          if (mst[i][rank - 1] != st[i][d] * s[d]) {
            merge = false;
            break;
          }
        }
        if (merge) {
          ms[rank - 1] *= s[d];
          for (int i = 0; i < k; i++) {
            mst[i][rank - 1] = st[i][d];
          }
          continue;
        }
      }
      ms[rank] = s[d];
      for (int i = 0; i < k; i++) {
        mst[i][rank] = st[i][d];
      }
      rank++;
    }
    if (rank == 0) {
      ms[0] = 1;
      for (int i = 0; i < k; i++) {
        mst[i][0] = 1;
      }
      rank = 1;
    }
    shape = java.util.Arrays.copyOf(ms, rank);
    strides = new long[k][];
    for (int i = 0; i < k; i++) {
      strides[i] = java.util.Arrays.copyOf(mst[i], rank);
    }
    n = shape[rank - 1];
    long r = 1;
    for (int d = 0; d < rank - 1; d++) {
      r *= shape[d];
    }
    rows = s.length == 0 || views[0].numel() > 0 ? r : 0;
  }

  /** Storage element offset of the first element of {@code row} in view {@code v}. */
  long rowOffset(int v, long row) {
    long e = offsets[v];
    long rem = row;
    long[] st = strides[v];
    for (int d = shape.length - 2; d >= 0; d--) {
      int sz = shape[d];
      e += (rem % sz) * st[d];
      rem /= sz;
    }
    return e;
  }

  long innerStride(int v) {
    return strides[v][shape.length - 1];
  }

  /** Rows per parallel chunk so that a chunk holds about {@code 1 << 15} elements. */
  long grain() {
    return Math.max(1, (1 << 15) / Math.max(1, n));
  }
}
