package dev.fovea.tensor.cpu;

import dev.fovea.tensor.DType;
import java.lang.foreign.MemorySegment;

/** Placeholder f32 GEMM (correct, simple); replaced by the packed register-tiled kernel. */
public final class Gemm {
  private Gemm() {}

  /**
   * C[m,n] = (accumulate ? C : 0) + sum_k A[m,k] * B[k,n]. A is F32 with element strides (aRs,
   * aCs); B of dtype bType with strides (bRs along k, bCs along n) — for Q8_0/Q4_0 B must be the
   * transposed view of a [n, k] row-major weight (bRs == 1); C is F32 with row stride cRs.
   */
  public static void sgemm(int m, int n, int k, MemorySegment a, long aOff, long aRs, long aCs,
      MemorySegment b, DType bType, long bOff, long bRs, long bCs,
      MemorySegment c, long cOff, long cRs, boolean accumulate) {
    // one row buffer per worker, not per row: no Java heap per element of A
    float[][] rows = new float[Parallel.threads()][k];
    Parallel.forChunks(m, (chunk, worker) -> {
      float[] row = rows[worker];
      for (long i = chunk; i < chunk + 1; i++) {
        for (int p = 0; p < k; p++) {
          row[p] = a.get(Elements.F32, (aOff + i * aRs + p * aCs) * 4);
        }
        for (int j = 0; j < n; j++) {
          float s = 0;
          for (int p = 0; p < k; p++) {
            s += row[p] * Elements.readFloat(b, bType, bOff + p * bRs + j * bCs);
          }
          long ce = (cOff + i * cRs + j) * 4;
          c.set(Elements.F32, ce, accumulate ? c.get(Elements.F32, ce) + s : s);
        }
      }
    });
  }
}
