package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.util.Arrays;

/**
 * Scaled dot-product attention, softmax(q k^T * scale + bias) v, over q [B, H, Tq, D] and k, v
 * [B, Hkv, Tk, D] (H a multiple of Hkv: grouped-query attention repeats each key/value head).
 *
 * <p>Two paths (DESIGN "Attention has two paths"): the explicit one composes {@link #scores},
 * softmax and a matmul, so the probabilities exist as a tensor in the graph (hooks read them,
 * autograd differentiates through them); the fused one never materializes them. {@link #sdpa}
 * takes the fused path only when nothing needs the probabilities or gradients.
 */
public final class Attention {
  private Attention() {}

  /** Output and, on the explicit path, the probabilities [B, H, Tq, Tk] (null on the fused path). */
  public record Result(Tensor output, Tensor probs) {}

  public static Tensor sdpa(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, float scale) {
    return attention(q, k, v, bias, causal, scale, false).output();
  }

  /** Attention; {@code needProbs} forces the explicit path and returns the probabilities. */
  public static Result attention(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, float scale, boolean needProbs) {
    check(q, k, v, bias);
    Transfer.requireSame("attention", "k", k, q);
    Transfer.requireSame("attention", "v", v, q);
    bias = Transfer.align("attention", bias, q);
    boolean grad = GradMode.isEnabled() && (q.requiresGrad() || k.requiresGrad() || v.requiresGrad() || (bias != null && bias.requiresGrad()));
    if (!needProbs && !grad) {
      // The fused kernel maps query head h to kv head h / (H / Hkv) itself: no repeated copy of
      // k and v (a KV-cache view [B, Hkv, 0:pos, D] is read in place).
      Tensor out = Tensor.empty(q.device(), DType.F32, q.size(0), q.size(1), q.size(2), q.size(3));
      Tensor be = bias == null ? null : Views.expand(Elementwise.f32(bias, "attention"), q.size(0), q.size(1), q.size(2), k.size(2));
      Backends.of(q.device()).attention(Elementwise.f32(q, "attention"), Elementwise.f32(k, "attention"), Elementwise.f32(v, "attention"), be, scale, causal, out);
      return new Result(out, null);
    }
    Tensor kr = repeatKv(k, q.size(1));
    Tensor vr = repeatKv(v, q.size(1));
    Tensor probs = Softmax.softmax(scores(q, kr, bias, causal, scale), -1);
    return new Result(Matmul.matmul(probs, vr), probs);
  }

  /** Pre-softmax scores q k^T * scale + bias, with -inf at keys after each query when causal. Keys must already have H heads. */
  public static Tensor scores(Tensor q, Tensor k, Tensor bias, boolean causal, float scale) {
    Tensor s = Ops.mulScalar(Matmul.matmul(q, Views.transpose(k, -1, -2)), scale);
    if (bias != null) {
      s = Ops.add(s, bias);
    }
    if (causal) {
      s = Ops.add(s, causalMask(q.size(-2), k.size(-2)));
    }
    return s;
  }

  /** Additive mask [Tq, Tk]: 0 where key j &lt;= i + (Tk - Tq), -inf after (queries are the last Tq positions). */
  public static Tensor causalMask(int tq, int tk) {
    float[] m = new float[Math.multiplyExact(tq, tk)];
    for (int i = 0; i < tq; i++) {
      for (int j = i + (tk - tq) + 1; j < tk; j++) {
        if (j >= 0) {
          m[i * tk + j] = Float.NEGATIVE_INFINITY;
        }
      }
    }
    return Tensor.of(m, tq, tk);
  }

  /** [B, Hkv, T, D] to [B, H, T, D] by repeating each head H/Hkv times (no-op when equal). */
  public static Tensor repeatKv(Tensor kv, int heads) {
    int hkv = kv.size(1);
    if (hkv == heads) {
      return kv;
    }
    int rep = heads / hkv;
    int b = kv.size(0);
    int t = kv.size(2);
    int d = kv.size(3);
    return Views.reshape(Views.expand(Views.unsqueeze(kv, 2), b, hkv, rep, t, d), b, heads, t, d);
  }

  private static void check(Tensor q, Tensor k, Tensor v, Tensor bias) {
    if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) {
      throw ShapeException.of("attention", "q, k and v must be [B, H, T, D]", q.shape(), k.shape(), v.shape());
    }
    if (q.size(0) != k.size(0) || k.size(0) != v.size(0) || k.size(1) != v.size(1) || k.size(2) != v.size(2)
        || q.size(3) != k.size(3)) {
      throw ShapeException.of("attention", "q [B,H,Tq,D], k [B,Hkv,Tk,D] and v [B,Hkv,Tk,Dv] disagree", q.shape(), k.shape(), v.shape());
    }
    if (q.size(1) % k.size(1) != 0) {
      throw ShapeException.of("attention", q.size(1) + " query heads are not a multiple of " + k.size(1) + " key/value heads", q.shape(), k.shape());
    }
    if (v.size(3) != q.size(3)) {
      throw ShapeException.of("attention", "value head size must equal the query head size", q.shape(), v.shape());
    }
    if (bias != null) {
      int[] full = {q.size(0), q.size(1), q.size(2), k.size(2)};
      int[] bc = Shapes.broadcast("attention bias", bias.shape(), full);
      if (!Arrays.equals(bc, full)) {
        throw ShapeException.of("attention", "bias must broadcast to [B, H, Tq, Tk]", bias.shape(), full);
      }
    }
  }
}
