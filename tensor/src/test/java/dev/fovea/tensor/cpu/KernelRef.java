package dev.fovea.tensor.cpu;

import dev.fovea.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Test oracle for the matmul kernels: encoders that build F16/BF16/Q8_0/Q4_0 storage from random
 * values (written from the GGUF/ggml definitions, independently of {@link BlockDecode}), exact
 * decoding in double, and a naive double-precision reference.
 */
final class KernelRef {
  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  /** Unit roundoff of f32. */
  static final double U = Math.scalb(1.0, -24);

  private KernelRef() {}

  /** Flat storage of {@code numel} elements of dtype t, plus the exact value of every element. */
  record Storage(MemorySegment seg, double[] values) {}

  /** Random values in [-1, 1), encoded as {@code t}; numel is rounded up to whole blocks. */
  static Storage random(DType t, long numel, Random rnd, Arena arena) {
    int bs = t.blockSize();
    int n = (int) ((numel + bs - 1) / bs * bs);
    double[] v = new double[n];
    MemorySegment seg = arena.allocate(Math.max(1, t.byteSize(n)), 64);
    switch (t) {
      case F32 -> {
        for (int i = 0; i < n; i++) {
          float f = rnd.nextFloat() * 2 - 1;
          seg.set(F32, 4L * i, f);
          v[i] = f;
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          short h = Float.floatToFloat16(rnd.nextFloat() * 2 - 1);
          seg.set(I16, 2L * i, h);
          v[i] = Float.float16ToFloat(h);
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          short h = (short) (Float.floatToRawIntBits(rnd.nextFloat() * 2 - 1) >>> 16);
          seg.set(I16, 2L * i, h);
          v[i] = Float.intBitsToFloat(h << 16);
        }
      }
      case Q8_0 -> {
        float[] x = new float[32];
        for (int blk = 0; blk < n / 32; blk++) {
          double amax = 0;
          for (int i = 0; i < 32; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
            amax = Math.max(amax, Math.abs(x[i]));
          }
          // ggml quantize_row_q8_0: d = max|x| / 127, q = round(x / d)
          float d = (float) (amax / 127);
          float id = d != 0 ? 1f / d : 0f;
          short dh = Float.floatToFloat16(d);
          long o = 34L * blk;
          seg.set(I16, o, dh);
          for (int i = 0; i < 32; i++) {
            int q = Math.round(x[i] * id);
            seg.set(ValueLayout.JAVA_BYTE, o + 2 + i, (byte) q);
            v[blk * 32 + i] = (double) Float.float16ToFloat(dh) * q;
          }
        }
      }
      case Q4_0 -> {
        float[] x = new float[32];
        for (int blk = 0; blk < n / 32; blk++) {
          float max = 0;
          for (int i = 0; i < 32; i++) {
            x[i] = rnd.nextFloat() * 2 - 1;
            if (Math.abs(x[i]) > Math.abs(max)) {
              max = x[i];
            }
          }
          // ggml quantize_row_q4_0: d = max / -8 (max: the signed value of largest magnitude),
          // q = min(15, (int) (x / d + 8.5)); element i in the low nibble of byte i, i + 16 in the high one
          float d = max / -8;
          float id = d != 0 ? 1f / d : 0f;
          short dh = Float.floatToFloat16(d);
          long o = 18L * blk;
          seg.set(I16, o, dh);
          int[] q = new int[32];
          for (int i = 0; i < 32; i++) {
            q[i] = Math.min(15, (int) (x[i] * id + 8.5f));
            v[blk * 32 + i] = (double) Float.float16ToFloat(dh) * (q[i] - 8);
          }
          for (int i = 0; i < 16; i++) {
            seg.set(ValueLayout.JAVA_BYTE, o + 2 + i, (byte) (q[i] | (q[i + 16] << 4)));
          }
        }
      }
      case I32, I64 -> throw new IllegalArgumentException(t.toString());
    }
    return new Storage(seg, v);
  }

  /** An F32 segment of numel random values in [-1, 1) with the values as doubles. */
  static Storage randomF32(long numel, Random rnd, Arena arena) {
    return random(DType.F32, numel, rnd, arena);
  }

  /** Copies the F32 contents of a segment. */
  static float[] floats(MemorySegment s) {
    float[] f = new float[(int) (s.byteSize() / 4)];
    for (int i = 0; i < f.length; i++) {
      f[i] = s.get(F32, 4L * i);
    }
    return f;
  }

  static MemorySegment copy(MemorySegment s, Arena arena) {
    MemorySegment c = arena.allocate(s.byteSize(), 64);
    c.copyFrom(s);
    return c;
  }

  /** Ulp-free bit comparison of two segments; returns the first differing float index or -1. */
  static int firstBitDifference(MemorySegment x, MemorySegment y) {
    long mismatch = x.mismatch(y);
    return mismatch < 0 ? -1 : (int) (mismatch / 4);
  }
}
