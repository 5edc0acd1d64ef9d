package dev.fovea.nn;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Additive attention biases (0 = keep, -inf = mask), shaped to broadcast over [B, H, Tq, Tk]. */
public final class Masks {
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Masks() {}

  /** [1, 1, 1, Tk]: -inf at the listed keys, 0 elsewhere. */
  public static Tensor maskKeys(int keys, int... masked) {
    Tensor m = Tensor.zeros(1, 1, 1, keys);
    MemorySegment s = m.storage().segment();
    for (int k : masked) {
      if (k < 0 || k >= keys) {
        throw new TensorException("maskKeys: key " + k + " outside [0, " + keys + ")");
      }
      s.setAtIndex(F32, m.offset() + k, Float.NEGATIVE_INFINITY);
    }
    return m;
  }

  /** [B, 1, 1, Tk] padding mask: key j of sequence b is masked when j &gt;= lengths[b] (right padding). */
  public static Tensor padding(int keys, int... lengths) {
    Tensor m = Tensor.empty(DType.F32, lengths.length, 1, 1, keys);
    MemorySegment s = m.storage().segment();
    for (int b = 0; b < lengths.length; b++) {
      for (int j = 0; j < keys; j++) {
        s.setAtIndex(F32, m.offset() + (long) b * keys + j, j < lengths[b] ? 0f : Float.NEGATIVE_INFINITY);
      }
    }
    return m;
  }
}
