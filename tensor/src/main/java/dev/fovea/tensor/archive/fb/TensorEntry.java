// Hand-written in flatc's Java style from tensor/src/main/flatbuffers/fovea_archive.fbs; keep in step.

package dev.fovea.tensor.archive.fb;

import com.google.flatbuffers.FlatBufferBuilder;
import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;

/**
 * Schema table {@code TensorEntry}. Accessors trust the buffer: read only buffers that passed
 * {@code dev.fovea.tensor.archive.HeaderVerifier}.
 */
@SuppressWarnings("unused")
public final class TensorEntry extends Table {
  // vtable slots: 4 + 2 * field id
  public static final int VT_NAME = 4;
  public static final int VT_DTYPE = 6;
  public static final int VT_SHAPE = 8;
  public static final int VT_OFFSET = 10;
  public static final int VT_LENGTH = 12;
  public static final int VT_QUANTIZATION = 14;
  public static final int VT_SOURCE_DTYPE = 16;

  public void __init(int _i, ByteBuffer _bb) {
    __reset(_i, _bb);
  }

  public TensorEntry __assign(int _i, ByteBuffer _bb) {
    __init(_i, _bb);
    return this;
  }

  public String name() {
    int o = __offset(VT_NAME);
    return o != 0 ? __string(o + bb_pos) : null;
  }

  public int dtype() {
    int o = __offset(VT_DTYPE);
    return o != 0 ? bb.get(o + bb_pos) & 0xFF : 0;
  }

  public long shape(int j) {
    int o = __offset(VT_SHAPE);
    return o != 0 ? bb.getLong(__vector(o) + j * 8) : 0;
  }

  public int shapeLength() {
    int o = __offset(VT_SHAPE);
    return o != 0 ? __vector_len(o) : 0;
  }

  /** Unsigned 64-bit; a value with the top bit set reads negative. */
  public long offset() {
    int o = __offset(VT_OFFSET);
    return o != 0 ? bb.getLong(o + bb_pos) : 0L;
  }

  /** Unsigned 64-bit; a value with the top bit set reads negative. */
  public long length() {
    int o = __offset(VT_LENGTH);
    return o != 0 ? bb.getLong(o + bb_pos) : 0L;
  }

  public int quantization() {
    int o = __offset(VT_QUANTIZATION);
    return o != 0 ? bb.get(o + bb_pos) & 0xFF : 0;
  }

  public String sourceDtype() {
    int o = __offset(VT_SOURCE_DTYPE);
    return o != 0 ? __string(o + bb_pos) : null;
  }

  public static int createTensorEntry(
      FlatBufferBuilder builder, int nameOffset, int dtype, int shapeOffset, long offset, long length, int quantization,
      int sourceDtypeOffset) {
    builder.startTable(7);
    addLength(builder, length);
    addOffset(builder, offset);
    // Offsets of 0 mean "absent" and must not be written (even under forceDefaults).
    if (sourceDtypeOffset != 0) {
      addSourceDtype(builder, sourceDtypeOffset);
    }
    if (shapeOffset != 0) {
      addShape(builder, shapeOffset);
    }
    addName(builder, nameOffset);
    addQuantization(builder, quantization);
    addDtype(builder, dtype);
    return endTensorEntry(builder);
  }

  public static void startTensorEntry(FlatBufferBuilder builder) {
    builder.startTable(7);
  }

  public static void addName(FlatBufferBuilder builder, int nameOffset) {
    builder.addOffset(0, nameOffset, 0);
  }

  public static void addDtype(FlatBufferBuilder builder, int dtype) {
    builder.addByte(1, (byte) dtype, 0);
  }

  public static void addShape(FlatBufferBuilder builder, int shapeOffset) {
    builder.addOffset(2, shapeOffset, 0);
  }

  public static int createShapeVector(FlatBufferBuilder builder, long[] data) {
    builder.startVector(8, data.length, 8);
    for (int i = data.length - 1; i >= 0; i--) {
      builder.addLong(data[i]);
    }
    return builder.endVector();
  }

  public static void addOffset(FlatBufferBuilder builder, long offset) {
    builder.addLong(3, offset, 0L);
  }

  public static void addLength(FlatBufferBuilder builder, long length) {
    builder.addLong(4, length, 0L);
  }

  public static void addQuantization(FlatBufferBuilder builder, int quantization) {
    builder.addByte(5, (byte) quantization, 0);
  }

  public static void addSourceDtype(FlatBufferBuilder builder, int sourceDtypeOffset) {
    builder.addOffset(6, sourceDtypeOffset, 0);
  }

  public static int endTensorEntry(FlatBufferBuilder builder) {
    int o = builder.endTable();
    builder.required(o, VT_NAME);
    return o;
  }
}
