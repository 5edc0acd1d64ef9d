package dev.fovea.nn;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Applies rotary position embeddings to queries or keys [B, heads, T, D] at the given positions
 * (I32/I64 [T] or [B, T]). {@link MultiHeadAttention} calls it on q and, in self attention, on k;
 * the llm module plugs in LLaMA's (or its own) through this interface.
 */
@FunctionalInterface
public interface RotaryEmbedding {
  Tensor apply(Tensor x, Tensor positions);

  /** Hugging Face's "rotate_half" convention: element i pairs with i + D/2. */
  static RotaryEmbedding halfSplit(double theta) {
    return (x, positions) -> Ops.rope(x, tables(x, positions, theta, true), tables(x, positions, theta, false), false);
  }

  /** Meta's / GGUF's convention: elements 2i and 2i+1 pair. */
  static RotaryEmbedding interleaved(double theta) {
    return (x, positions) -> Ops.rope(x, tables(x, positions, theta, true), tables(x, positions, theta, false), true);
  }

  /**
   * cos (or sin) table [T, D/2] for positions [T], or [B, 1, T, D/2] for positions [B, T]:
   * inv_freq_i = 1 / theta^(2i/D) and the angle p * inv_freq_i in float32, as Hugging Face computes
   * them. Written straight into scope memory (no Java heap per element).
   */
  private static Tensor tables(Tensor x, Tensor positions, double theta, boolean cos) {
    int d = x.size(-1);
    int t = x.size(-2);
    if (d % 2 != 0 || positions.size(-1) != t || positions.dim() > 2 || (positions.dim() == 2 && positions.size(0) != x.size(0))) {
      throw ShapeException.of("rotary", "x [B, H, T, D] (D even) needs positions [T] or [B, T]", x.shape(), positions.shape());
    }
    int half = d / 2;
    int rows = (int) positions.numel();
    Tensor out = Tensor.empty(DType.F32, rows, half);
    MemorySegment seg = out.storage().segment();
    ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    Tensor flat = positions.contiguous().reshape(rows);
    for (int r = 0; r < rows; r++) {
      long p = flat.getLong(r);
      for (int i = 0; i < half; i++) {
        float invFreq = (float) (1.0 / Math.pow(theta, (2.0 * i) / d));
        float a = p * invFreq;
        seg.setAtIndex(f32, (long) r * half + i, (float) (cos ? Math.cos(a) : Math.sin(a)));
      }
    }
    if (positions.dim() == 2) {
      return out.reshape(positions.size(0), 1, t, half);
    }
    if (rows != t) {
      throw new ShapeException("rotary: positions " + Arrays.toString(positions.shape()) + " do not match T = " + t);
    }
    return out;
  }
}
