package dev.fovea.methods.abs;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;

/**
 * ABS's soft matching (spec A.8; BIT-DA/ABS main.py, method "ours"). For K unit view embeddings u_k
 * and the bank rows T[c, m]:
 *
 * <pre>
 * z[k, c, m]  = &lt;u_k, T[c, m]&gt; / tau
 * pi[k, ., .] = softmax of z[k, ., .] jointly over all (class, sentence) pairs
 * S[k, c]     = sum_m pi[k, c, m] * z[k, c, m]
 * logit[c]    = sum_k S[k, c]
 * </pre>
 */
public final class SoftMatching {
  private SoftMatching() {}

  /** S [K][C] for views [K, E] against {@code bank}. */
  public static float[][] viewScores(Tensor views, DescriptionBank bank, double tau) {
    int[] off = bank.offsets();
    int c = off.length - 1;
    int k = views.size(0);
    try (Scope s = Scope.open()) {
      Tensor z = Ops.mulScalar(Ops.matmul(views, bank.embeddings().to(views.device()).transpose(0, 1)), (float) (1.0 / tau)); // [K, N]
      Tensor pi = Ops.softmax(z, -1);
      float[] zz = z.contiguous().toFloatArray();
      float[] pp = pi.contiguous().toFloatArray();
      int n = off[c];
      float[][] out = new float[k][c];
      for (int v = 0; v < k; v++) {
        for (int cls = 0; cls < c; cls++) {
          double acc = 0;
          for (int r = off[cls]; r < off[cls + 1]; r++) {
            acc += (double) pp[v * n + r] * zz[v * n + r];
          }
          out[v][cls] = (float) acc;
        }
      }
      return out;
    }
  }

  /** Column sums of S: the logits [C]. */
  public static float[] logits(float[][] scores) {
    float[] out = new float[scores.length == 0 ? 0 : scores[0].length];
    for (int cls = 0; cls < out.length; cls++) {
      double acc = 0;
      for (float[] row : scores) {
        acc += row[cls];
      }
      out[cls] = (float) acc;
    }
    return out;
  }
}
