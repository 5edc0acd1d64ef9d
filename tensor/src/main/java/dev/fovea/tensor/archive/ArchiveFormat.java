package dev.fovea.tensor.archive;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.archive.fb.BlockType;
import dev.fovea.tensor.archive.fb.ElementType;
import java.nio.charset.StandardCharsets;

/**
 * Constants and small pure functions of the archive layout (see {@code fovea_archive.fbs}):
 *
 * <pre>
 * 0   "FOVEA\0"        magic, 6 bytes
 * 6   uint16 version   {@link #VERSION}
 * 8   uint64 N         header length
 * 16  header           FlatBuffer, N bytes
 *     zero padding     to D = align64(16 + N)
 * D   data             tensors, each at a multiple of 64 from D; file ends at D + data_length
 * </pre>
 */
public final class ArchiveFormat {
  /** File magic: the ASCII letters FOVEA and a zero byte. */
  public static final byte[] MAGIC = "FOVEA\0".getBytes(StandardCharsets.US_ASCII);
  /** Current (and only) format version. */
  public static final int VERSION = 1;
  /** Bytes before the header: magic, version, header length. */
  public static final int PREAMBLE = 16;
  /** Alignment of the data section and of every tensor in it. */
  public static final int ALIGNMENT = 64;
  /** File name extension. */
  public static final String EXTENSION = ".fovea";
  /** Headers are read as one ByteBuffer, so they stay below 2 GiB (blobs included). */
  public static final long MAX_HEADER = Integer.MAX_VALUE - 64;
  /** Largest tensor rank accepted. */
  public static final int MAX_RANK = 16;

  private ArchiveFormat() {}

  public static long align(long n) {
    return (n + ALIGNMENT - 1) & -ALIGNMENT;
  }

  /** Start of the data section for a header of {@code headerLength} bytes. */
  public static long dataStart(long headerLength) {
    return align(PREAMBLE + headerLength);
  }

  /** Whether {@code head} (at least 6 bytes of a file's start) is the archive magic. */
  public static boolean hasMagic(byte[] head) {
    if (head.length < MAGIC.length) {
      return false;
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (head[i] != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  static int elementType(DType d) {
    return switch (d) {
      case F32 -> ElementType.F32;
      case F16 -> ElementType.F16;
      case BF16 -> ElementType.BF16;
      case I32 -> ElementType.I32;
      case I64 -> ElementType.I64;
      case Q8_0 -> ElementType.Q8_0;
      case Q4_0 -> ElementType.Q4_0;
    };
  }

  /** The DType of a schema element type, or null when the code is unknown. */
  static DType dtype(int elementType) {
    return switch (elementType) {
      case ElementType.F32 -> DType.F32;
      case ElementType.F16 -> DType.F16;
      case ElementType.BF16 -> DType.BF16;
      case ElementType.I32 -> DType.I32;
      case ElementType.I64 -> DType.I64;
      case ElementType.Q8_0 -> DType.Q8_0;
      case ElementType.Q4_0 -> DType.Q4_0;
      default -> null;
    };
  }

  static int blockType(DType d) {
    return switch (d) {
      case Q8_0 -> BlockType.Q8_0;
      case Q4_0 -> BlockType.Q4_0;
      default -> BlockType.NONE;
    };
  }
}
