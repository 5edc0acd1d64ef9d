package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The cuBLAS call a row-major product becomes. The expected values come from the definition of a
 * column-major GEMM (C = op(A) op(B), element (i, j) of a column-major matrix at i + j * ld): a
 * small emulator of cublasSgemmStridedBatched runs each plan over plain arrays and must give the
 * naive row-major triple loop's product.
 */
class GemmPlanTest {
  /** cublasSgemmStridedBatched(transa, transb, m, n, k, A, lda, sA, B, ldb, sB, C, ldc, sC, batch), alpha 1. */
  static void blas(boolean ta, boolean tb, int m, int n, int k, float[] a, long aOff, long lda, long sa, float[] b, long bOff, long ldb, long sb,
      float[] c, long cOff, long ldc, long sc, int batch, float beta) {
    for (int p = 0; p < batch; p++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int l = 0; l < k; l++) {
            float av = ta ? a[(int) (aOff + p * sa + l + i * lda)] : a[(int) (aOff + p * sa + i + l * lda)];
            float bv = tb ? b[(int) (bOff + p * sb + j + l * ldb)] : b[(int) (bOff + p * sb + l + j * ldb)];
            s += (double) av * bv;
          }
          int ci = (int) (cOff + p * sc + i + j * ldc);
          c[ci] = (float) (s + beta * c[ci]);
        }
      }
    }
  }

  /** Runs a product through the plan and compares with the row-major triple loop. */
  static void check(int batch, int m, int n, int k, long[] as, long[] ws, int aSize, int wSize) {
    Random rng = new Random(m * 31L + n * 7L + k);
    float[] a = new float[aSize];
    float[] w = new float[wSize];
    for (int i = 0; i < aSize; i++) {
      a[i] = rng.nextFloat() - 0.5f;
    }
    for (int i = 0; i < wSize; i++) {
      w[i] = rng.nextFloat() - 0.5f;
    }
    long[] os = {(long) m * n, n, 1};
    GemmPlan g = GemmPlan.plan(batch, m, n, k, as, ws, os);
    assertNotNull(g, "plan");
    float[] c = new float[batch * m * n];
    blas(g.transW(), g.transA(), g.n(), g.m(), g.k(), w, 0, g.ldw(), g.strideW(), a, 0, g.lda(), g.strideA(), c, 0, g.ldc(), g.strideC(), g.batch(), 0f);
    for (int p = 0; p < batch; p++) {
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = 0;
          for (int l = 0; l < k; l++) {
            s += (double) a[(int) (p * as[0] + i * as[1] + l * as[2])] * w[(int) (p * ws[0] + l * ws[1] + j * ws[2])];
          }
          assertEquals(s, c[p * m * n + i * n + j], 1e-5, "batch " + p + " element (" + i + ", " + j + ")");
        }
      }
    }
  }

  @Test
  void rowMajorOperandsAreOpN() {
    GemmPlan g = GemmPlan.plan(1, 5, 7, 3, new long[] {15, 3, 1}, new long[] {21, 7, 1}, new long[] {35, 7, 1});
    assertFalse(g.transW());
    assertFalse(g.transA());
    assertEquals(7, g.ldw());
    assertEquals(3, g.lda());
    assertEquals(7, g.ldc());
    check(1, 5, 7, 3, new long[] {15, 3, 1}, new long[] {21, 7, 1}, 15, 21);
  }

  @Test
  void linearsTransposedWeightIsOpT() {
    // w = weight^T for weight [n=6, k=4] row-major: w [4, 6] with strides (1, 4)
    GemmPlan g = GemmPlan.plan(1, 2, 6, 4, new long[] {8, 4, 1}, new long[] {24, 1, 4}, new long[] {12, 6, 1});
    assertTrue(g.transW());
    assertEquals(4, g.ldw());
    check(1, 2, 6, 4, new long[] {8, 4, 1}, new long[] {24, 1, 4}, 8, 24);
  }

  @Test
  void transposedActivationsAndBatchesAndBroadcastWeights() {
    check(1, 4, 3, 5, new long[] {20, 1, 4}, new long[] {15, 3, 1}, 20, 15);  // a = x^T
    check(3, 4, 3, 5, new long[] {20, 5, 1}, new long[] {15, 3, 1}, 60, 45);  // batched
    check(3, 4, 3, 5, new long[] {20, 5, 1}, new long[] {0, 3, 1}, 60, 15);   // one weight for every batch (stride 0)
    check(1, 1, 3, 5, new long[] {5, 999, 1}, new long[] {15, 3, 1}, 5, 15);  // one row: its row stride is free
  }

  @Test
  void stridedOperandsNeedACopy() {
    assertNull(GemmPlan.plan(1, 4, 3, 5, new long[] {40, 10, 2}, new long[] {15, 3, 1}, new long[] {12, 3, 1}));
    assertNull(GemmPlan.side(4, 5, 10, 2));
    assertNotNull(GemmPlan.side(4, 5, 5, 1));
  }
}
