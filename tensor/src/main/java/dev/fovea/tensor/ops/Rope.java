package dev.fovea.tensor.ops;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.List;

/**
 * Rotary position embeddings, composed from slices so autograd needs no formula. For each pair
 * (x1, x2) with angle a = pos * theta^(-2i/D): (x1 cos a - x2 sin a, x2 cos a + x1 sin a).
 *
 * <ul>
 *   <li>Half rotation (Hugging Face LLaMA, {@code rotate_half}): pairs are (x[i], x[i + D/2]).
 *   <li>Interleaved (Meta's original and GGUF before the converter undoes it): pairs are (x[2i], x[2i+1]).
 * </ul>
 */
public final class Rope {
  private Rope() {}

  /** cos and sin tables [T, D/2] for positions {@code start..start+T-1}: angle = pos * theta^(-2i/D). */
  public static Tensor[] tables(int start, int length, int headDim, double theta) {
    int half = headDim / 2;
    float[] c = new float[length * half];
    float[] s = new float[length * half];
    for (int t = 0; t < length; t++) {
      for (int i = 0; i < half; i++) {
        // inv_freq in float32 as Hugging Face computes it, then the angle in float32
        float invFreq = (float) (1.0 / Math.pow(theta, (2.0 * i) / headDim));
        float a = (start + t) * invFreq;
        c[t * half + i] = (float) Math.cos(a);
        s[t * half + i] = (float) Math.sin(a);
      }
    }
    return new Tensor[] {Tensor.of(c, length, half), Tensor.of(s, length, half)};
  }

  /**
   * Applies the rotation to x [..., T, D] with cos/sin [..., T, D/2] whose leading dimensions
   * broadcast against x's (e.g. [T, D/2] for shared positions, [B, 1, T, D/2] per sequence).
   */
  public static Tensor rope(Tensor x, Tensor cos, Tensor sin, boolean interleaved) {
    int d = x.dim() == 0 ? 0 : x.size(-1);
    if (x.dim() < 2 || cos.dim() < 2 || cos.dim() > x.dim() || d % 2 != 0 || cos.size(-1) * 2 != d || cos.size(-2) != x.size(-2)) {
      throw ShapeException.of("rope", "x [..., T, D] needs cos/sin [..., T, D/2] with even D", x.shape(), cos.shape());
    }
    int[] halfShape = x.shape();
    halfShape[halfShape.length - 1] = d / 2;
    dev.fovea.tensor.Shapes.broadcast("rope", halfShape, cos.shape());
    if (!java.util.Arrays.equals(sin.shape(), cos.shape())) {
      throw ShapeException.of("rope", "cos and sin tables must have the same shape", cos.shape(), sin.shape());
    }
    int half = d / 2;
    Tensor x1 = interleaved ? Views.slice(x, -1, 0, d, 2) : Views.slice(x, -1, 0, half, 1);
    Tensor x2 = interleaved ? Views.slice(x, -1, 1, d, 2) : Views.slice(x, -1, half, d, 1);
    Tensor o1 = Ops.sub(Ops.mul(x1, cos), Ops.mul(x2, sin));
    Tensor o2 = Ops.add(Ops.mul(x2, cos), Ops.mul(x1, sin));
    if (!interleaved) {
      return Joins.concat(List.of(o1, o2), -1);
    }
    int[] shape = x.shape();
    return Views.reshape(Joins.stack(List.of(o1, o2), -1), shape);
  }
}
