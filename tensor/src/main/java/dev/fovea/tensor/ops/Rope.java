package dev.fovea.tensor.ops;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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
    boolean grad = GradMode.isEnabled() && (x.requiresGrad() || cos.requiresGrad() || sin.requiresGrad());
    if (!grad && x.device().equals(Device.CPU) && cos.device().equals(Device.CPU) && sin.device().equals(Device.CPU)) {
      return direct(x, cos, sin, halfShape, interleaved);
    }
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

  /**
   * Without autograd, one pass over x instead of six elementwise ops and a concat (decode steps
   * rotate a few heads of one position, where each op's dispatch cost more than its arithmetic).
   * Per pair the same float operations as the composed path: o1 = x1 cos - x2 sin, o2 = x2 cos + x1 sin,
   * each product rounded before the sum as there.
   */
  private static Tensor direct(Tensor x, Tensor cos, Tensor sin, int[] halfShape, boolean interleaved) {
    Tensor xc = Elementwise.f32(x, "rope").contiguous();
    Tensor cc = Views.expand(Elementwise.f32(cos, "rope"), halfShape);
    Tensor sc = Views.expand(Elementwise.f32(sin, "rope"), halfShape);
    int d = xc.size(-1);
    int half = d / 2;
    int dims = halfShape.length;
    Tensor out = Tensor.empty(DType.F32, xc.shape());
    MemorySegment xs = xc.storage().segment();
    MemorySegment os = out.storage().segment();
    MemorySegment cs = cc.storage().segment();
    MemorySegment ss = sc.storage().segment();
    long[] cst = cc.strides();
    long[] sst = sc.strides();
    long rows = xc.numel() / Math.max(1, d);
    int[] idx = new int[Math.max(0, dims - 1)];
    long xo = xc.offset();
    long oo = 0;
    long co = cc.offset();
    long so = sc.offset();
    long c1 = cst[dims - 1];
    long s1 = sst[dims - 1];
    for (long r = 0; r < rows; r++) {
      for (int i = 0; i < half; i++) {
        long p1 = interleaved ? 2L * i : i;
        long p2 = interleaved ? 2L * i + 1 : i + half;
        float x1 = xs.get(F32, (xo + p1) * 4);
        float x2 = xs.get(F32, (xo + p2) * 4);
        float c = cs.get(F32, (co + i * c1) * 4);
        float sn = ss.get(F32, (so + i * s1) * 4);
        os.set(F32, (oo + p1) * 4, x1 * c - x2 * sn);
        os.set(F32, (oo + p2) * 4, x2 * c + x1 * sn);
      }
      xo += d;
      oo += d;
      // next row: advance the leading index like an odometer
      for (int k = dims - 2; k >= 0; k--) {
        if (++idx[k] < halfShape[k]) {
          co += cst[k];
          so += sst[k];
          break;
        }
        co -= (long) (halfShape[k] - 1) * cst[k];
        so -= (long) (halfShape[k] - 1) * sst[k];
        idx[k] = 0;
      }
    }
    return out;
  }
}
