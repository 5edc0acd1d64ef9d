package dev.fovea.tensor.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Dequantization of the ggml block types our kernels do not read, operation for operation as
 * ggml-org/ggml {@code src/ggml-quants.c} ({@code dequantize_row_q4_1}, {@code _q5_0}, {@code _q5_1},
 * {@code _q4_K}, {@code _q5_K}, {@code _q6_K}) computes them in float, so results are bit-identical
 * to ggml's scalar path. (Java never fuses a*b+c into an FMA, matching a non-contracted C build.)
 */
public final class GgmlQuants {
  private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private GgmlQuants() {}

  private static float f16(MemorySegment s, long off) {
    return Float.float16ToFloat(s.get(I16, off));
  }

  private static int u8(MemorySegment s, long off) {
    return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
  }

  /**
   * Dequantizes the {@code nBlocks} blocks of {@code type} starting at byte {@code src} of
   * {@code in} into {@code out[0 .. nBlocks * blockSize)}.
   */
  public static void dequantize(GgmlType type, MemorySegment in, long src, int nBlocks, float[] out) {
    for (int b = 0; b < nBlocks; b++) {
      long x = src + (long) b * type.blockBytes;
      int y = b * type.blockSize;
      switch (type) {
        case Q4_0 -> {
          // d f16, qs[16]; x0 = (qs[j] & 0xF) - 8, x1 = (qs[j] >> 4) - 8
          float d = f16(in, x);
          for (int j = 0; j < 16; j++) {
            int q = u8(in, x + 2 + j);
            out[y + j] = ((q & 0xF) - 8) * d;
            out[y + j + 16] = ((q >>> 4) - 8) * d;
          }
        }
        case Q8_0 -> {
          float d = f16(in, x);
          for (int j = 0; j < 32; j++) {
            out[y + j] = in.get(ValueLayout.JAVA_BYTE, x + 2 + j) * d;
          }
        }
        case Q4_1 -> {
          // d, m f16, qs[16]; y = x*d + m
          float d = f16(in, x);
          float m = f16(in, x + 2);
          for (int j = 0; j < 16; j++) {
            int q = u8(in, x + 4 + j);
            out[y + j] = (q & 0xF) * d + m;
            out[y + j + 16] = (q >>> 4) * d + m;
          }
        }
        case Q5_0, Q5_1 -> {
          // d [, m] f16, qh u32, qs[16]; 5th bit of element j from bit j of qh, of j+16 from bit j+16
          boolean min = type == GgmlType.Q5_1;
          float d = f16(in, x);
          float m = min ? f16(in, x + 2) : 0f;
          long p = x + (min ? 4 : 2);
          int qh = in.get(I32, p);
          for (int j = 0; j < 16; j++) {
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            int q = u8(in, p + 4 + j);
            int x0 = (q & 0x0F) | xh0;
            int x1 = (q >>> 4) | xh1;
            if (min) {
              out[y + j] = x0 * d + m;
              out[y + j + 16] = x1 * d + m;
            } else {
              out[y + j] = (x0 - 16) * d;
              out[y + j + 16] = (x1 - 16) * d;
            }
          }
        }
        case Q4_K, Q5_K -> {
          // d, dmin f16, scales[12], [qh[32],] qs[128]; 8 sub-blocks of 32: y = d*sc*q - dmin*m
          boolean five = type == GgmlType.Q5_K;
          float d = f16(in, x);
          float dmin = f16(in, x + 2);
          long scales = x + 4;
          long qh = x + 16;
          long ql = x + (five ? 48 : 16);
          int is = 0;
          int u1 = 1;
          int u2 = 2;
          for (int j = 0; j < 256; j += 64) {
            float d1 = d * scale(in, scales, is);
            float m1 = dmin * min(in, scales, is);
            float d2 = d * scale(in, scales, is + 1);
            float m2 = dmin * min(in, scales, is + 1);
            for (int l = 0; l < 32; l++) {
              int h = five && (u8(in, qh + l) & u1) != 0 ? 16 : 0;
              out[y + j + l] = d1 * ((u8(in, ql + l) & 0xF) + h) - m1;
            }
            for (int l = 0; l < 32; l++) {
              int h = five && (u8(in, qh + l) & u2) != 0 ? 16 : 0;
              out[y + j + 32 + l] = d2 * ((u8(in, ql + l) >>> 4) + h) - m2;
            }
            ql += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
          }
        }
        case Q6_K -> {
          // ql[128], qh[64], int8 scales[16], d f16; two halves of 128 outputs
          float d = f16(in, x + 208);
          long ql = x;
          long qh = x + 128;
          long sc = x + 192;
          int yy = y;
          for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
              int is = l / 16;
              int h = u8(in, qh + l);
              int q1 = ((u8(in, ql + l) & 0xF) | (((h >>> 0) & 3) << 4)) - 32;
              int q2 = ((u8(in, ql + l + 32) & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
              int q3 = ((u8(in, ql + l) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
              int q4 = ((u8(in, ql + l + 32) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
              out[yy + l] = d * in.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
              out[yy + l + 32] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
              out[yy + l + 64] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
              out[yy + l + 96] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
            yy += 128;
            ql += 64;
            qh += 32;
            sc += 8;
          }
        }
        default -> throw new IllegalArgumentException("no dequantization for " + type);
      }
    }
  }

  /** get_scale_min_k4's scale of sub-block j. */
  private static int scale(MemorySegment in, long q, int j) {
    return j < 4 ? u8(in, q + j) & 63 : (u8(in, q + j + 4) & 0xF) | ((u8(in, q + j - 4) >>> 6) << 4);
  }

  /** get_scale_min_k4's min of sub-block j. */
  private static int min(MemorySegment in, long q, int j) {
    return j < 4 ? u8(in, q + j + 4) & 63 : (u8(in, q + j + 4) >>> 4) | ((u8(in, q + j) >>> 6) << 4);
  }
}
