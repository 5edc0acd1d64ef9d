package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Kernel parameters: each at an 8-byte aligned slot of one little-endian buffer. */
class KernelArgsTest {
  @Test
  void slotsAreEightByteAligned() {
    KernelArgs a = new KernelArgs().i32(7).ptr(0x1234_5678_9abcL).f32(1.5f).struct(new byte[12]).i64(-2);
    assertArrayEquals(new long[] {0, 8, 16, 24, 40}, a.slots());
    ByteBuffer b = ByteBuffer.wrap(a.pack()).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(48, a.pack().length);
    assertEquals(7, b.getInt(0));
    assertEquals(0x1234_5678_9abcL, b.getLong(8));
    assertEquals(1.5f, b.getFloat(16));
    assertEquals(-2, b.getLong(40));
    assertEquals(5, a.count());
  }
}
