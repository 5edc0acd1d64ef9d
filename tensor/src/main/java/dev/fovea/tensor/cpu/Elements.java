package dev.fovea.tensor.cpu;

import dev.fovea.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reads and writes of single elements of every dtype, little-endian as every weight format
 * stores them. The slow, obviously right twin of the vector kernels, and the path for odd layouts.
 */
public final class Elements {
  public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Elements() {}

  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** Round to nearest even, NaN kept quiet (as PyTorch's and ggml's conversions do). */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7FFFFFFF) > 0x7F800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** Element {@code e} (storage index) of a segment of {@code dtype}, as a float. */
  public static float readFloat(MemorySegment seg, DType dtype, long e) {
    return switch (dtype) {
      case F32 -> seg.get(F32, e * 4);
      case F16 -> Float.float16ToFloat(seg.get(I16, e * 2));
      case BF16 -> bf16ToFloat(seg.get(I16, e * 2));
      case I32 -> seg.get(I32, e * 4);
      case I64 -> seg.get(I64, e * 8);
      case Q8_0 -> {
        long block = (e >>> 5) * 34;
        float d = Float.float16ToFloat(seg.get(I16, block));
        yield d * seg.get(ValueLayout.JAVA_BYTE, block + 2 + (e & 31));
      }
      case Q4_0 -> {
        long block = (e >>> 5) * 18;
        float d = Float.float16ToFloat(seg.get(I16, block));
        int j = (int) (e & 31);
        int b = seg.get(ValueLayout.JAVA_BYTE, block + 2 + (j & 15)) & 0xFF;
        int q = j < 16 ? (b & 0xF) : (b >>> 4);
        yield d * (q - 8);
      }
    };
  }

  public static long readLong(MemorySegment seg, DType dtype, long e) {
    return switch (dtype) {
      case I32 -> seg.get(I32, e * 4);
      case I64 -> seg.get(I64, e * 8);
      default -> (long) readFloat(seg, dtype, e);
    };
  }

  /** Writes element {@code e} of a plain (non-block) dtype. */
  public static void writeFloat(MemorySegment seg, DType dtype, long e, float v) {
    switch (dtype) {
      case F32 -> seg.set(F32, e * 4, v);
      case F16 -> seg.set(I16, e * 2, Float.floatToFloat16(v));
      case BF16 -> seg.set(I16, e * 2, floatToBf16(v));
      case I32 -> seg.set(I32, e * 4, (int) v);
      case I64 -> seg.set(I64, e * 8, (long) v);
      case Q8_0, Q4_0 -> throw new IllegalArgumentException(dtype + " elements are written a block at a time: use quantizeBlock");
    }
  }

  public static void writeLong(MemorySegment seg, DType dtype, long e, long v) {
    switch (dtype) {
      case I32 -> seg.set(I32, e * 4, (int) v);
      case I64 -> seg.set(I64, e * 8, v);
      default -> writeFloat(seg, dtype, e, v);
    }
  }

  /**
   * Quantizes 32 floats {@code x[from..from+32)} into the block that holds element {@code e}
   * (a multiple of 32), with ggml's reference rounding:
   * Q8_0: d = max|x| / 127, q = round(x / d);
   * Q4_0: d = m / -8 where m is the value of largest magnitude, q = min(15, (int) (x / d + 8.5)).
   */
  public static void quantizeBlock(MemorySegment seg, DType dtype, long e, float[] x, int from) {
    switch (dtype) {
      case Q8_0 -> {
        long block = (e >>> 5) * 34;
        float amax = 0;
        for (int i = 0; i < 32; i++) {
          amax = Math.max(amax, Math.abs(x[from + i]));
        }
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        seg.set(I16, block, Float.floatToFloat16(d));
        for (int i = 0; i < 32; i++) {
          seg.set(ValueLayout.JAVA_BYTE, block + 2 + i, (byte) Math.round(x[from + i] * id));
        }
      }
      case Q4_0 -> {
        long block = (e >>> 5) * 18;
        float amax = 0;
        float max = 0;
        for (int i = 0; i < 32; i++) {
          float v = x[from + i];
          if (Math.abs(v) > amax) {
            amax = Math.abs(v);
            max = v;
          }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        seg.set(I16, block, Float.floatToFloat16(d));
        for (int i = 0; i < 16; i++) {
          int q0 = Math.min(15, (int) (x[from + i] * id + 8.5f));
          int q1 = Math.min(15, (int) (x[from + i + 16] * id + 8.5f));
          seg.set(ValueLayout.JAVA_BYTE, block + 2 + i, (byte) (q0 | (q1 << 4)));
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not a block type");
    }
  }
}
