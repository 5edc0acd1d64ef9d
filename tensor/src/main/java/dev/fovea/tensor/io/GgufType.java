package dev.fovea.tensor.io;

/**
 * GGUF metadata value types (ggml {@code docs/gguf.md}, {@code enum gguf_metadata_value_type}) and
 * the Java values {@link GgufSource#metadata()} holds for them: UINT8, INT8, UINT16, INT16, INT32
 * as {@link Integer}; UINT32, INT64, UINT64 as {@link Long} (UINT64 above 2^63-1 wraps negative:
 * read it with {@link Long#toUnsignedString}); FLOAT32 as {@link Float}; FLOAT64 as {@link Double};
 * BOOL as {@link Boolean}; STRING as {@link String}; ARRAY as {@link GgufArray}.
 */
public enum GgufType {
  UINT8(0, 1),
  INT8(1, 1),
  UINT16(2, 2),
  INT16(3, 2),
  UINT32(4, 4),
  INT32(5, 4),
  FLOAT32(6, 4),
  BOOL(7, 1),
  STRING(8, 8),
  ARRAY(9, 12),
  UINT64(10, 8),
  INT64(11, 8),
  FLOAT64(12, 8);

  public final int id;
  /** Fewest bytes a value of this type takes in a file (bounds array counts against the file size). */
  final int minBytes;

  GgufType(int id, int minBytes) {
    this.id = id;
    this.minBytes = minBytes;
  }

  public static GgufType byId(long id) {
    for (GgufType t : values()) {
      if (t.id == id) {
        return t;
      }
    }
    return null;
  }
}
