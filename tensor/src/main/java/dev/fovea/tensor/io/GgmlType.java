package dev.fovea.tensor.io;

import dev.fovea.tensor.DType;

/**
 * ggml tensor types as GGUF stores them (ggml-org/ggml {@code include/ggml.h} {@code enum ggml_type},
 * block sizes from {@code src/ggml-common.h}), and what {@link GgufSource} makes of each:
 * mapped as stored ({@link #mapped()}), converted once to F32 on first use ({@link #converted()}),
 * or refused.
 */
public enum GgmlType {
  F32(0, 1, 4, DType.F32),
  F16(1, 1, 2, DType.F16),
  Q4_0(2, 32, 18, DType.Q4_0),
  Q4_1(3, 32, 20, null),
  Q5_0(6, 32, 22, null),
  Q5_1(7, 32, 24, null),
  Q8_0(8, 32, 34, DType.Q8_0),
  Q8_1(9, 32, 36, null),
  Q2_K(10, 256, 84, null),
  Q3_K(11, 256, 110, null),
  Q4_K(12, 256, 144, null),
  Q5_K(13, 256, 176, null),
  Q6_K(14, 256, 210, null),
  Q8_K(15, 256, 292, null),
  I8(24, 1, 1, null),
  I16(25, 1, 2, null),
  I32(26, 1, 4, DType.I32),
  I64(27, 1, 8, DType.I64),
  F64(28, 1, 8, null),
  BF16(30, 1, 2, DType.BF16);

  /** The id stored in the tensor info. */
  public final int id;
  /** Elements per block (along ne[0], i.e. within each row). */
  public final int blockSize;
  /** Bytes per block. */
  public final int blockBytes;
  private final DType dtype;

  GgmlType(int id, int blockSize, int blockBytes, DType dtype) {
    this.id = id;
    this.blockSize = blockSize;
    this.blockBytes = blockBytes;
    this.dtype = dtype;
  }

  public static GgmlType byId(int id) {
    for (GgmlType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    return null;
  }

  /** True when our kernels read this type as stored (the tensor is a view of the mapped file). */
  public boolean mapped() {
    return dtype != null;
  }

  /** True when {@link GgufSource} dequantizes or widens this type once into a copy (see {@link #exposedAs()}). */
  public boolean converted() {
    return switch (this) {
      case Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F64 -> true;
      case I8, I16 -> true;
      default -> false;
    };
  }

  /** The dtype a reader returns for this type, or null when it is refused. */
  public DType exposedAs() {
    if (dtype != null) {
      return dtype;
    }
    return switch (this) {
      case Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, F64 -> DType.F32;
      case I8, I16 -> DType.I32;
      default -> null;
    };
  }

  /** Bytes of {@code numel} elements ({@code numel} a multiple of the block size). */
  public long byteSize(long numel) {
    return numel / blockSize * blockBytes;
  }
}
