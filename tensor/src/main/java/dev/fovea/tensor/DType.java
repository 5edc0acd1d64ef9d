package dev.fovea.tensor;

/**
 * Element types. Compute happens in F32; F16 and BF16 are storage types converted inside kernels;
 * I32/I64 hold ids; Q8_0 and Q4_0 are GGUF's 32-element block formats, read directly by matmul,
 * GEMV and embedding lookups and never dequantized whole.
 *
 * <p>All byte arithmetic for a dtype lives here: {@link #blockSize()} elements occupy {@link
 * #blockBytes()} bytes.
 *
 * <pre>
 * Q8_0 block (34 bytes): f16 scale d, int8 q[32];            x[i] = d * q[i]
 * Q4_0 block (18 bytes): f16 scale d, uint8 qs[16];           x[i]    = d * ((qs[i] &amp; 0xF) - 8)
 *                                                              x[i+16] = d * ((qs[i] &gt;&gt; 4) - 8)
 * </pre>
 */
public enum DType {
  F32(1, 4, true),
  F16(1, 2, true),
  BF16(1, 2, true),
  I32(1, 4, false),
  I64(1, 8, false),
  Q8_0(32, 34, true),
  Q4_0(32, 18, true);

  private final int blockSize;
  private final int blockBytes;
  private final boolean floating;

  DType(int blockSize, int blockBytes, boolean floating) {
    this.blockSize = blockSize;
    this.blockBytes = blockBytes;
    this.floating = floating;
  }

  /** Elements per block (1 for plain types, 32 for the GGUF block types). */
  public int blockSize() {
    return blockSize;
  }

  /** Bytes per block. */
  public int blockBytes() {
    return blockBytes;
  }

  public boolean isQuantized() {
    return blockSize > 1;
  }

  public boolean isFloatingPoint() {
    return floating;
  }

  /** Bytes taken by {@code numel} elements; for block types {@code numel} must be a multiple of the block size. */
  public long byteSize(long numel) {
    if (numel % blockSize != 0) {
      throw new IllegalArgumentException(
          name() + " stores elements in blocks of " + blockSize + "; " + numel + " elements is not a multiple");
    }
    return Math.multiplyExact(numel / blockSize, (long) blockBytes);
  }

  /** Byte offset of element {@code index} (which must start a block for block types). */
  public long byteOffset(long index) {
    return byteSize(index);
  }
}
