package dev.fovea.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Scope memory: blocks that a closed scope gave back are reused by later scopes, and a tensor of
 * a closed scope stays unusable even after its block went to another one; alignment; the test
 * runs' poisoning of new memory.
 */
class ScopeTest {

  @Test
  void aClosedScopesTensorStaysUnusableWhenItsBlockIsReused() {
    Tensor old;
    long oldAddress;
    try (Scope s = Scope.open()) {
      old = Tensor.full(1f, 512, 1024); // 2 MiB: its own block
      oldAddress = old.storage().segment().address();
    }
    boolean reused = false;
    for (int i = 0; i < 4 && !reused; i++) {
      try (Scope s = Scope.open()) {
        Tensor t = Tensor.full(2f, 512, 1024);
        reused = t.storage().segment().address() == oldAddress;
        Tensor o = old;
        assertThrows(IllegalStateException.class, () -> o.storage().segment().get(ValueLayout.JAVA_FLOAT, 0));
        assertEquals(2f, t.storage().segment().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * 1000));
      }
    }
    if (Scope.usesMalloc() && Long.getLong("fovea.scope.pool", 512L << 20) > 0) {
      assertTrue(reused, "a block of the same size class comes back from the pool");
    }
  }

  @Test
  void memoryIsAlignedAndSizeClassesCoverTheRequest() {
    try (Scope s = Scope.open()) {
      for (long bytes : new long[] {1, 3, 64, 4095, 70_000, 1 << 20, (4L << 20) + 3}) {
        MemorySegment m = s.allocate(bytes);
        assertEquals(0, m.address() % 64, "64-byte aligned, " + bytes + " bytes");
        assertEquals(bytes, m.byteSize());
        m.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7); // the last byte is writable
      }
    }
    for (long size : new long[] {1, 4096, 4097, 65_536, 65_537, 3_000_000}) {
      long c = Scope.sizeClass(size);
      assertTrue(c >= size && c - size < (size <= 65_536 ? 4096 : 65_536), size + " -> " + c);
    }
  }

  @Test
  void testRunsPoisonNewMemory() {
    assumeTrue(Boolean.getBoolean("fovea.scope.poison"), "-Dfovea.scope.poison=true is set by the Maven test runs only");
    try (Scope s = Scope.open()) {
      Tensor t = Tensor.empty(DType.F32, 300, 300);
      float[] v = t.toFloatArray();
      assertTrue(Float.isNaN(v[0]) && Float.isNaN(v[v.length - 1]), "uninitialized memory reads as NaN under -Dfovea.scope.poison");
    }
  }
}
