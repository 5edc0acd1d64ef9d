package dev.fovea.tensor.cpu;

import dev.fovea.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Scalar readers for the storage dtypes that kernels convert to f32 on the fly: one element, or one
 * GGUF block into a strided float[] (the packing step of {@link Gemm}). Never used to expand a whole
 * weight.
 *
 * <pre>
 * F16:  IEEE binary16                          x = float16ToFloat(bits)
 * BF16: the top half of an f32                 x = intBitsToFloat(bits &lt;&lt; 16)
 * Q8_0: f16 d, int8 q[32]            (34 B)    x[i] = d * q[i]
 * Q4_0: f16 d, uint8 qs[16]          (18 B)    x[i] = d * ((qs[i] &amp; 0xF) - 8), x[i+16] = d * ((qs[i] &gt;&gt; 4) - 8)
 * </pre>
 *
 * <p>Numerics: d is an f16 (11 significant bits) and q has at most 8, so {@code d * q} is exact in
 * f32; dequantizing in float or in double gives the same value.
 */
final class BlockDecode {
  static final ValueLayout.OfFloat F32 = Elements.F32;
  static final ValueLayout.OfShort I16 = Elements.I16;
  static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

  /** Elements per GGUF block (Q8_0, Q4_0). */
  static final int QK = 32;

  private BlockDecode() {}

  static float bf16ToFloat(short bits) {
    return Elements.bf16ToFloat(bits);
  }

  static float f16ToFloat(short bits) {
    return Float.float16ToFloat(bits);
  }

  /**
   * Element {@code e} of a tensor of dtype {@code t} stored from byte 0 of {@code s}. For block types
   * {@code e} is the flat element index; block {@code e / 32} holds it.
   */
  static float get(MemorySegment s, DType t, long e) {
    if (!t.isFloatingPoint()) {
      throw new IllegalArgumentException("dtype " + t + " is not a floating-point storage type");
    }
    return Elements.readFloat(s, t, e);
  }

  /** Decodes the Q8_0 block at byte {@code off} into {@code dst[at + i * stride]}, i in [0, 32). */
  static void q8_0(MemorySegment s, long off, float[] dst, int at, int stride) {
    float d = f16ToFloat(s.get(I16, off));
    for (int i = 0; i < QK; i++) {
      dst[at + i * stride] = d * s.get(I8, off + 2 + i);
    }
  }

  /** Decodes the Q4_0 block at byte {@code off} into {@code dst[at + i * stride]}, i in [0, 32). */
  static void q4_0(MemorySegment s, long off, float[] dst, int at, int stride) {
    float d = f16ToFloat(s.get(I16, off));
    for (int i = 0; i < QK / 2; i++) {
      int qs = s.get(I8, off + 2 + i) & 0xFF;
      dst[at + i * stride] = d * ((qs & 0xF) - 8);
      dst[at + (i + QK / 2) * stride] = d * ((qs >>> 4) - 8);
    }
  }
}
