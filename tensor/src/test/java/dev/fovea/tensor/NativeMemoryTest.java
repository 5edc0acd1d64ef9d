package dev.fovea.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {

  private static void assumeAvailable() {
    assumeTrue(NativeMemory.available(), "huge-page blocks need Linux (x86-64/AArch64) with transparent_hugepage not 'never' and native access");
  }

  /** The VmFlags of the mapping holding {@code address} in /proc/self/smaps ({@code hg}: advised MADV_HUGEPAGE). */
  private static String vmFlags(long address) throws IOException {
    List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
    boolean inside = false;
    for (String line : lines) {
      int dash = line.indexOf('-');
      int space = line.indexOf(' ');
      if (dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        long start = Long.parseUnsignedLong(line.substring(0, dash), 16);
        long end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
        inside = Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
      } else if (inside && line.startsWith("VmFlags:")) {
        return line;
      }
    }
    throw new AssertionError("no mapping holds 0x" + Long.toHexString(address));
  }

  @Test
  void blocksStartOnHugePagesAndAreAdvised() throws IOException {
    assumeAvailable();
    long bytes = NativeMemory.MIN_BYTES + 12345;
    long a = NativeMemory.map(bytes);
    try {
      assertEquals(0, a % NativeMemory.HUGE_PAGE, "2 MiB-aligned");
      MemorySegment seg = MemorySegment.ofAddress(a).reinterpret(bytes);
      assertEquals(0, seg.get(ValueLayout.JAVA_LONG, bytes - 8 - (bytes % 8)), "fresh anonymous memory reads 0");
      for (long o = 0; o + 4 <= bytes; o += 4096) {
        seg.set(ValueLayout.JAVA_INT_UNALIGNED, o, (int) (o * 31));
      }
      for (long o = 0; o + 4 <= bytes; o += 4096) {
        assertEquals((int) (o * 31), seg.get(ValueLayout.JAVA_INT_UNALIGNED, o));
      }
      assertTrue(vmFlags(a).contains(" hg"), "advised for huge pages: " + vmFlags(a));
      assertTrue(vmFlags(a + bytes - 1).contains(" hg"), "to its last byte");
    } finally {
      NativeMemory.unmap(a, bytes);
    }
  }

  @Test
  void arenaBlocksAreFreedWithTheArena() {
    assumeAvailable();
    MemorySegment seg;
    try (Arena arena = Arena.ofShared()) {
      seg = NativeMemory.allocate(arena, 6L << 20);
      assertEquals(6L << 20, seg.byteSize());
      assertEquals(0, seg.address() % NativeMemory.HUGE_PAGE);
      seg.set(ValueLayout.JAVA_FLOAT, (6L << 20) - 4, 2.5f);
      assertEquals(2.5f, seg.get(ValueLayout.JAVA_FLOAT, (6L << 20) - 4));
      MemorySegment small = NativeMemory.allocate(arena, 1000);
      assertEquals(1000, small.byteSize(), "small blocks come from the arena itself");
    }
    MemorySegment closed = seg;
    assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0), "unusable once the arena closed");
  }

  @Test
  void largeScopeTensorsUseThem() throws IOException {
    assumeAvailable();
    assumeTrue(Scope.usesMalloc(), "scopes use malloc'd blocks (native access)");
    for (int round = 0; round < 2; round++) { // the second round takes the first's block from the pool
      try (Scope s = Scope.open()) {
        Tensor t = Tensor.zeros(3, 1 << 20); // 12 MiB of f32
        long a = t.storage().segment().address();
        assertEquals(0, a % NativeMemory.HUGE_PAGE, "round " + round);
        assertTrue(vmFlags(a).contains(" hg"), vmFlags(a));
        assertEquals(0f, t.storage().segment().get(ValueLayout.JAVA_FLOAT, (12L << 20) - 4));
      }
    }
  }
}
