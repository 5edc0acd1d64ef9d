package dev.fovea.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Memory accounting and lifetimes of the device pool, on a fake driver. */
class DeviceMemoryTest {
  static final long MIB = 1L << 20;

  @Test
  void blockSizesAreWholeMultiplesOfTwoMebibytes() {
    assertEquals(2 * MIB, DeviceMemory.blockSize(1));
    assertEquals(2 * MIB, DeviceMemory.blockSize(2 * MIB));
    assertEquals(4 * MIB, DeviceMemory.blockSize(2 * MIB + 1));
    assertEquals(64 * MIB, DeviceMemory.blockSize(64 * MIB));
  }

  @Test
  void smallTensorsShareOneSlabAlignedTo256Bytes() {
    FakeDriver f = new FakeDriver();
    DeviceMemory mem = new DeviceMemory(f, 1L << 40);
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      long a = pool.allocate(10);
      long b = pool.allocate(300);
      long c = pool.allocate(1);
      assertEquals(256, b - a); // 10 bytes rounded up to the next 256-byte boundary
      assertEquals(768, c - a); // 256 + 300 -> 556, next boundary 768
      assertEquals(1, f.mallocs);
      assertEquals(DeviceMemory.SLAB, mem.liveBytes());
      assertEquals(311, pool.allocatedBytes());
    }
    assertEquals(0, mem.liveBytes());
    assertEquals(DeviceMemory.SLAB, mem.cachedBytes());
  }

  @Test
  void aFullSlabStartsANewOne() {
    FakeDriver f = new FakeDriver();
    DeviceMemory mem = new DeviceMemory(f, 1L << 40);
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      long quarter = DeviceMemory.SLAB / 4;
      for (int i = 0; i < 4; i++) {
        pool.allocate(quarter); // exactly a quarter: still slab memory, four fill it
      }
      assertEquals(1, pool.blockCount());
      pool.allocate(1);
      assertEquals(2, pool.blockCount());
      pool.allocate(quarter + 1); // larger than a quarter: a block of its own, 2 MiB multiple
      assertEquals(3, pool.blockCount());
      assertEquals(2 * DeviceMemory.SLAB + DeviceMemory.blockSize(quarter + 1), mem.liveBytes());
    }
  }

  @Test
  void theNextScopeReusesCachedBlocksWithoutMalloc() {
    FakeDriver f = new FakeDriver();
    DeviceMemory mem = new DeviceMemory(f, 1L << 40);
    long first;
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      first = pool.allocate(100 * MIB);
    }
    int mallocs = f.mallocs;
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      assertEquals(first, pool.allocate(100 * MIB));
    }
    assertEquals(mallocs, f.mallocs);
  }

  @Test
  void blocksBeyondTheCacheCapAreFreed() {
    FakeDriver f = new FakeDriver();
    DeviceMemory mem = new DeviceMemory(f, 0);
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      pool.allocate(5);
    }
    assertEquals(1, f.frees);
    assertEquals(0, mem.driverBytes());
    assertEquals(0, f.used);
  }

  @Test
  void outOfMemoryFreesTheCacheAndRetriesOnce() {
    FakeDriver f = new FakeDriver();
    f.capacity = 100 * MIB;
    DeviceMemory mem = new DeviceMemory(f, 1L << 40);
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      pool.allocate(60 * MIB);
    }
    assertEquals(60 * MIB, mem.cachedBytes());
    try (DeviceMemory.ScopePool pool = mem.openPool()) {
      pool.allocate(80 * MIB); // does not fit beside the cached 60 MiB: the cache is dropped first
      assertEquals(0, mem.cachedBytes());
      CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> pool.allocate(80 * MIB));
      assertTrue(e.getMessage().contains("80 MiB in use"), e.getMessage());
    }
  }

  @Test
  void aClosedPoolRefusesAllocations() {
    DeviceMemory mem = new DeviceMemory(new FakeDriver(), 1L << 40);
    DeviceMemory.ScopePool pool = mem.openPool();
    pool.close();
    pool.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> pool.allocate(1));
    assertNotEquals(null, pool);
  }
}
