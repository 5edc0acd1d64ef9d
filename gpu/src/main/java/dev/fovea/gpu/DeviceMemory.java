package dev.fovea.gpu;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Device memory, handed out like the CPU's {@link dev.fovea.tensor.Scope}: each scope gets a
 * {@link ScopePool} that bumps a pointer through slabs ({@link #SLAB} bytes, 256-byte aligned
 * pieces; a tensor larger than a quarter slab gets a block of its own), and gives its blocks back
 * when the scope closes. Given-back blocks are cached by size for the next scope (up to {@code
 * -Dfovea.cuda.pool} bytes, default 4 GiB), so a decoding loop's steps reuse the same device
 * memory and cudaMalloc/cudaFree (which synchronize the device) drop out of the loop.
 *
 * <p>The global scope, which never closes, gets one block per tensor, freed when the tensor's
 * storage becomes unreachable (weights copied once per model live there).
 *
 * <p>Reuse is safe without synchronizing: every kernel runs on the one stream in order, so work
 * that reuses a block runs after the work that used it before.
 */
final class DeviceMemory {
  static final long SLAB = 64L << 20;
  static final long ALIGN = 256;
  private static final Cleaner CLEANER = Cleaner.create();

  private final CudaDriver driver;
  private final long cacheCap;
  private final Map<Long, List<Long>> cache = new HashMap<>(); // block bytes -> free blocks
  private long cached;
  private long live; // bytes in blocks held by scopes or global tensors
  private long fromDriver; // bytes currently allocated from the driver (live + cached)

  DeviceMemory(CudaDriver driver, long cacheCap) {
    this.driver = driver;
    this.cacheCap = cacheCap;
  }

  /** One allocation from the driver (or the cache): the Storage owner of global tensors and a slab of a scope. */
  record Block(long address, long bytes) {}

  /** Block sizes: a multiple of 2 MiB (so repeated shapes find their block in the cache). */
  static long blockSize(long bytes) {
    long unit = 2L << 20;
    return Math.max(unit, (bytes + unit - 1) / unit * unit);
  }

  synchronized Block take(long bytes) {
    long size = blockSize(bytes);
    List<Long> free = cache.get(size);
    long address;
    if (free != null && !free.isEmpty()) {
      address = free.removeLast();
      cached -= size;
    } else {
      address = mallocOrTrim(size);
      fromDriver += size;
    }
    live += size;
    return new Block(address, size);
  }

  private long mallocOrTrim(long size) {
    try {
      return driver.malloc(size);
    } catch (CudaOutOfMemoryException e) {
      trim(); // give the cached blocks back and try once more
      try {
        return driver.malloc(size);
      } catch (CudaOutOfMemoryException again) {
        throw new CudaOutOfMemoryException(again.getMessage() + " (" + (live >> 20) + " MiB in use by fovea; the pool's cache was freed first)");
      }
    }
  }

  synchronized void give(Block b) {
    live -= b.bytes();
    if (cached + b.bytes() <= cacheCap) {
      cache.computeIfAbsent(b.bytes(), s -> new ArrayList<>()).add(b.address());
      cached += b.bytes();
    } else {
      driver.free(b.address());
      fromDriver -= b.bytes();
    }
  }

  /** Frees every cached block. */
  synchronized void trim() {
    for (Map.Entry<Long, List<Long>> e : cache.entrySet()) {
      for (long a : e.getValue()) {
        driver.free(a);
        fromDriver -= e.getKey();
      }
    }
    cache.clear();
    cached = 0;
  }

  /** Gives {@code b} back once {@code holder} (the global tensor's storage) becomes unreachable. */
  void releaseWhenUnreachable(Object holder, Block b) {
    CLEANER.register(holder, () -> give(b));
  }

  synchronized long liveBytes() {
    return live;
  }

  synchronized long cachedBytes() {
    return cached;
  }

  synchronized long driverBytes() {
    return fromDriver;
  }

  ScopePool openPool() {
    return new ScopePool();
  }

  /** The device memory of one scope: bump allocation in slabs, everything given back at close. */
  final class ScopePool implements AutoCloseable {
    private final List<Block> blocks = new ArrayList<>();
    private Block slab;
    private long used;
    private long handedOut;
    private boolean closed;

    /** {@code bytes} bytes, 256-byte aligned, valid until this pool closes. */
    synchronized long allocate(long bytes) {
      if (closed) {
        throw new IllegalStateException("device pool of a closed scope");
      }
      long size = Math.max(bytes, 1);
      handedOut += size;
      if (size > SLAB / 4) {
        Block b = take(size);
        blocks.add(b);
        return b.address();
      }
      long start = (used + ALIGN - 1) / ALIGN * ALIGN;
      if (slab == null || start + size > slab.bytes()) {
        slab = take(SLAB);
        blocks.add(slab);
        start = 0;
      }
      used = start + size;
      return slab.address() + start;
    }

    /** Bytes handed out by this pool (before alignment). */
    synchronized long allocatedBytes() {
      return handedOut;
    }

    synchronized int blockCount() {
      return blocks.size();
    }

    @Override
    public synchronized void close() {
      if (closed) {
        return;
      }
      closed = true;
      for (Block b : blocks) {
        give(b);
      }
      blocks.clear();
      slab = null;
    }
  }
}
