// Hand-written in flatc's Java style from tensor/src/main/flatbuffers/fovea_archive.fbs; keep in step.

package dev.fovea.tensor.archive.fb;

import com.google.flatbuffers.Constants;
import com.google.flatbuffers.FlatBufferBuilder;
import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Schema root table {@code Archive}. */
@SuppressWarnings("unused")
public final class Archive extends Table {
  public static final String FILE_IDENTIFIER = "FVA1";

  public static final int VT_FORMAT_VERSION = 4;
  public static final int VT_TENSORS = 6;
  public static final int VT_FILES = 8;
  public static final int VT_METADATA = 10;
  public static final int VT_DATA_LENGTH = 12;
  public static final int VT_ALIGNMENT = 14;

  public static void ValidateVersion() {
    Constants.FLATBUFFERS_25_2_10();
  }

  public static Archive getRootAsArchive(ByteBuffer _bb) {
    return getRootAsArchive(_bb, new Archive());
  }

  public static Archive getRootAsArchive(ByteBuffer _bb, Archive obj) {
    _bb.order(ByteOrder.LITTLE_ENDIAN);
    return obj.__assign(_bb.getInt(_bb.position()) + _bb.position(), _bb);
  }

  public static boolean ArchiveBufferHasIdentifier(ByteBuffer _bb) {
    return __has_identifier(_bb, FILE_IDENTIFIER);
  }

  public void __init(int _i, ByteBuffer _bb) {
    __reset(_i, _bb);
  }

  public Archive __assign(int _i, ByteBuffer _bb) {
    __init(_i, _bb);
    return this;
  }

  public long formatVersion() {
    int o = __offset(VT_FORMAT_VERSION);
    return o != 0 ? bb.getInt(o + bb_pos) & 0xFFFFFFFFL : 0L;
  }

  public TensorEntry tensors(TensorEntry obj, int j) {
    int o = __offset(VT_TENSORS);
    return o != 0 ? obj.__assign(__indirect(__vector(o) + j * 4), bb) : null;
  }

  public int tensorsLength() {
    int o = __offset(VT_TENSORS);
    return o != 0 ? __vector_len(o) : 0;
  }

  public NamedBlob files(NamedBlob obj, int j) {
    int o = __offset(VT_FILES);
    return o != 0 ? obj.__assign(__indirect(__vector(o) + j * 4), bb) : null;
  }

  public int filesLength() {
    int o = __offset(VT_FILES);
    return o != 0 ? __vector_len(o) : 0;
  }

  public KeyValue metadata(KeyValue obj, int j) {
    int o = __offset(VT_METADATA);
    return o != 0 ? obj.__assign(__indirect(__vector(o) + j * 4), bb) : null;
  }

  public int metadataLength() {
    int o = __offset(VT_METADATA);
    return o != 0 ? __vector_len(o) : 0;
  }

  /** Unsigned 64-bit; a value with the top bit set reads negative. */
  public long dataLength() {
    int o = __offset(VT_DATA_LENGTH);
    return o != 0 ? bb.getLong(o + bb_pos) : 0L;
  }

  public long alignment() {
    int o = __offset(VT_ALIGNMENT);
    return o != 0 ? bb.getInt(o + bb_pos) & 0xFFFFFFFFL : 0L;
  }

  public static void startArchive(FlatBufferBuilder builder) {
    builder.startTable(6);
  }

  public static void addFormatVersion(FlatBufferBuilder builder, long formatVersion) {
    builder.addInt(0, (int) formatVersion, 0);
  }

  public static void addTensors(FlatBufferBuilder builder, int tensorsOffset) {
    builder.addOffset(1, tensorsOffset, 0);
  }

  public static void addFiles(FlatBufferBuilder builder, int filesOffset) {
    builder.addOffset(2, filesOffset, 0);
  }

  public static void addMetadata(FlatBufferBuilder builder, int metadataOffset) {
    builder.addOffset(3, metadataOffset, 0);
  }

  public static void addDataLength(FlatBufferBuilder builder, long dataLength) {
    builder.addLong(4, dataLength, 0L);
  }

  public static void addAlignment(FlatBufferBuilder builder, long alignment) {
    builder.addInt(5, (int) alignment, 0);
  }

  /** A vector of table offsets (tensors, files or metadata). */
  public static int createOffsetVector(FlatBufferBuilder builder, int[] data) {
    builder.startVector(4, data.length, 4);
    for (int i = data.length - 1; i >= 0; i--) {
      builder.addOffset(data[i]);
    }
    return builder.endVector();
  }

  public static int endArchive(FlatBufferBuilder builder) {
    return builder.endTable();
  }

  public static void finishArchiveBuffer(FlatBufferBuilder builder, int offset) {
    builder.finish(offset, FILE_IDENTIFIER);
  }
}
