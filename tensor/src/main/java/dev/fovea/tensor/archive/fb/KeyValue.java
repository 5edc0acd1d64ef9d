// Hand-written in flatc's Java style from tensor/src/main/flatbuffers/fovea_archive.fbs; keep in step.

package dev.fovea.tensor.archive.fb;

import com.google.flatbuffers.FlatBufferBuilder;
import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;

/** Schema table {@code KeyValue}: one free metadata entry. */
@SuppressWarnings("unused")
public final class KeyValue extends Table {
  public static final int VT_KEY = 4;
  public static final int VT_VALUE = 6;

  public void __init(int _i, ByteBuffer _bb) {
    __reset(_i, _bb);
  }

  public KeyValue __assign(int _i, ByteBuffer _bb) {
    __init(_i, _bb);
    return this;
  }

  public String key() {
    int o = __offset(VT_KEY);
    return o != 0 ? __string(o + bb_pos) : null;
  }

  public String value() {
    int o = __offset(VT_VALUE);
    return o != 0 ? __string(o + bb_pos) : null;
  }

  public static int createKeyValue(FlatBufferBuilder builder, int keyOffset, int valueOffset) {
    builder.startTable(2);
    builder.addOffset(1, valueOffset, 0);
    builder.addOffset(0, keyOffset, 0);
    int o = builder.endTable();
    builder.required(o, VT_KEY);
    builder.required(o, VT_VALUE);
    return o;
  }
}
