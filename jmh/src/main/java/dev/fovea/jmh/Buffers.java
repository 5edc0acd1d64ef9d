package dev.fovea.jmh;

import dev.fovea.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.FloatPointer;

/** Off-heap benchmark inputs shared by fovea and OpenBLAS (one allocation, two views). */
final class Buffers {
  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private Buffers() {}

  /** A 64-byte aligned off-heap segment in {@code arena}. */
  static MemorySegment alloc(Arena arena, long bytes) {
    return arena.allocate(bytes, 64);
  }

  /** A JavaCPP pointer over the same memory as {@code seg} (for OpenBLAS). */
  static FloatPointer pointer(MemorySegment seg) {
    return new FloatPointer(seg.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer());
  }

  /** Deterministic pseudo-random values in [-1, 1) stored as {@code t}; numel a multiple of 32 for Q types. */
  static MemorySegment random(Arena arena, DType t, long numel, long seed) {
    MemorySegment s = alloc(arena, t.byteSize(numel));
    long state = seed * 0x9E3779B97F4A7C15L + 1;
    switch (t) {
      case F32 -> {
        for (long i = 0; i < numel; i++) {
          state = state * 6364136223846793005L + 1442695040888963407L;
          s.set(F32, 4 * i, unit(state));
        }
      }
      case BF16, F16 -> {
        for (long i = 0; i < numel; i++) {
          state = state * 6364136223846793005L + 1442695040888963407L;
          float f = unit(state);
          short h = t == DType.BF16 ? (short) (Float.floatToRawIntBits(f) >>> 16) : Float.floatToFloat16(f);
          s.set(I16, 2 * i, h);
        }
      }
      case Q8_0, Q4_0 -> {
        int bb = t.blockBytes();
        for (long blk = 0; blk < numel / 32; blk++) {
          long o = blk * bb;
          s.set(I16, o, Float.floatToFloat16(1f / 127));
          for (int i = 2; i < bb; i++) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            s.set(ValueLayout.JAVA_BYTE, o + i, (byte) (state >>> 56));
          }
        }
      }
      case I32, I64 -> throw new IllegalArgumentException(t.toString());
    }
    return s;
  }

  private static float unit(long state) {
    return ((state >>> 40) / (float) (1 << 24)) * 2 - 1;
  }
}
