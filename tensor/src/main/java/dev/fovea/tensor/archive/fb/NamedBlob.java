// Hand-written in flatc's Java style from tensor/src/main/flatbuffers/fovea_archive.fbs; keep in step.

package dev.fovea.tensor.archive.fb;

import com.google.flatbuffers.FlatBufferBuilder;
import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;

/** Schema table {@code NamedBlob}: a file of the model folder carried verbatim. */
@SuppressWarnings("unused")
public final class NamedBlob extends Table {
  public static final int VT_NAME = 4;
  public static final int VT_DATA = 6;

  public void __init(int _i, ByteBuffer _bb) {
    __reset(_i, _bb);
  }

  public NamedBlob __assign(int _i, ByteBuffer _bb) {
    __init(_i, _bb);
    return this;
  }

  public String name() {
    int o = __offset(VT_NAME);
    return o != 0 ? __string(o + bb_pos) : null;
  }

  public int dataLength() {
    int o = __offset(VT_DATA);
    return o != 0 ? __vector_len(o) : 0;
  }

  /** Absolute position of the first data byte in the buffer. */
  public int dataStart() {
    int o = __offset(VT_DATA);
    return o != 0 ? __vector(o) : 0;
  }

  public ByteBuffer dataAsByteBuffer() {
    return __vector_as_bytebuffer(VT_DATA, 1);
  }

  public static int createNamedBlob(FlatBufferBuilder builder, int nameOffset, int dataOffset) {
    builder.startTable(2);
    addData(builder, dataOffset);
    addName(builder, nameOffset);
    return endNamedBlob(builder);
  }

  public static void addName(FlatBufferBuilder builder, int nameOffset) {
    builder.addOffset(0, nameOffset, 0);
  }

  public static void addData(FlatBufferBuilder builder, int dataOffset) {
    builder.addOffset(1, dataOffset, 0);
  }

  public static int createDataVector(FlatBufferBuilder builder, byte[] data) {
    return builder.createByteVector(data);
  }

  public static int endNamedBlob(FlatBufferBuilder builder) {
    int o = builder.endTable();
    builder.required(o, VT_NAME);
    builder.required(o, VT_DATA);
    return o;
  }
}
