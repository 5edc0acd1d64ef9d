package dev.fovea.gpu;

/**
 * One row-major product C[b] = A[b] W[b] (A [m, k], W [k, n], C [m, n]) as cuBLAS's column-major
 * call. A row-major matrix is the column-major storage of its transpose, so the call computes
 * C^T [n, m] = W^T [n, k] A^T [k, m]: cuBLAS's first operand is W, its second A.
 *
 * <p>For each operand (a logical R x C matrix with row stride rs and column stride cs) we need the
 * column-major C x R matrix:
 *
 * <ul>
 *   <li>cs == 1 (rows contiguous): it is stored as column-major C x R with leading dimension rs:
 *       op N, ld = rs (must be at least C);
 *   <li>rs == 1 (a transposed view, such as Linear's W = weight^T): stored column-major R x C with
 *       leading dimension cs: op T, ld = cs (at least R);
 *   <li>otherwise the operand must be copied contiguous first ({@link #plan} returns null).
 * </ul>
 *
 * Dimensions of size 1 leave their stride free: a one-row matrix is read with ld = C.
 */
record GemmPlan(int m, int n, int k, int batch, boolean transW, long ldw, long strideW, boolean transA, long lda, long strideA, long ldc, long strideC) {
  /** The side of one operand: op T or N and its leading dimension, or null when it must be copied. */
  record Side(boolean trans, long ld) {}

  static Side side(int rows, int cols, long rs, long cs) {
    if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) {
      return new Side(false, rows == 1 ? Math.max(cols, 1) : rs);
    }
    if ((rows == 1 || rs == 1) && (cols == 1 || cs >= rows)) {
      return new Side(true, cols == 1 ? Math.max(rows, 1) : cs);
    }
    return null;
  }

  /**
   * The plan for a [B, m, k] with strides as, w [B, k, n] with strides ws and out [B, m, n] with
   * strides os (os[2] must be 1); null when a or w must be made contiguous first.
   */
  static GemmPlan plan(int batch, int m, int n, int k, long[] as, long[] ws, long[] os) {
    if (n > 1 && os[2] != 1) {
      throw new IllegalArgumentException("gemm: the output's rows must be contiguous, strides " + java.util.Arrays.toString(os));
    }
    Side w = side(k, n, ws[1], ws[2]);
    Side a = side(m, k, as[1], as[2]);
    if (w == null || a == null) {
      return null;
    }
    long ldc = m == 1 ? Math.max(n, 1) : os[1];
    return new GemmPlan(m, n, k, batch, w.trans(), w.ld(), ws[0], a.trans(), a.ld(), as[0], ldc, os[0]);
  }
}
