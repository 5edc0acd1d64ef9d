package dev.fovea.gpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The argument list of one kernel launch, in the kernel's parameter order. cuLaunchKernel takes
 * an array of pointers, one per parameter, each to the parameter's bytes; {@link #pack()} lays the
 * values out in one little-endian buffer, each at an 8-byte aligned slot, and {@link #slots()}
 * gives each value's offset in it.
 */
final class KernelArgs {
  private final List<byte[]> values = new ArrayList<>();

  KernelArgs ptr(long address) {
    return i64(address);
  }

  KernelArgs i32(int v) {
    return add(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
  }

  KernelArgs i64(long v) {
    return add(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
  }

  KernelArgs f32(float v) {
    return add(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array());
  }

  /** A struct passed by value (already laid out as the kernel's C struct). */
  KernelArgs struct(byte[] bytes) {
    return add(bytes.clone());
  }

  private KernelArgs add(byte[] v) {
    values.add(v);
    return this;
  }

  int count() {
    return values.size();
  }

  /** Offsets of each argument in {@link #pack()}: 8-byte aligned, in order. */
  long[] slots() {
    long[] at = new long[values.size()];
    long off = 0;
    for (int i = 0; i < at.length; i++) {
      at[i] = off;
      off += (values.get(i).length + 7) & ~7L;
    }
    return at;
  }

  byte[] pack() {
    long[] at = slots();
    int size = at.length == 0 ? 0 : (int) (at[at.length - 1] + ((values.getLast().length + 7) & ~7));
    byte[] out = new byte[size];
    for (int i = 0; i < at.length; i++) {
      System.arraycopy(values.get(i), 0, out, (int) at[i], values.get(i).length);
    }
    return out;
  }

  byte[] value(int i) {
    return values.get(i).clone();
  }
}
