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
 * <p>Streams: with only the default stream, reuse is safe without anything more (work that reuses
 * a block runs after the work that used it before). While other streams are open (decoding states'
 * contexts: {@link #streamOpened}), giving blocks back records a {@link Fence}, one event on every
 * open stream and the default one, and a stream that takes or allocates from such a block first
 * waits on the fence's events of the other streams (cudaStreamWaitEvent: the host does not wait),
 * once per stream and block. A stream is synchronized before it closes ({@link #streamClosed}), so
 * work of closed streams needs no fence.
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
  private final List<Long> streams = new ArrayList<>(); // open streams besides the default one
  private final Map<Long, Fence> fences = new HashMap<>(); // block address -> fence of its last give-back

  /** Events recorded on every open stream when blocks were given back; shared by those blocks. */
  static final class Fence {
    final long[] streams;
    final long[] events;
    int refs;
    final java.util.Set<Long> waited = new java.util.HashSet<>(); // streams already ordered after it

    Fence(long[] streams, long[] events) {
      this.streams = streams;
      this.events = events;
    }
  }

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

  synchronized void streamOpened(long stream) {
    streams.add(stream);
  }

  /** After the stream was synchronized: its work needs no fence (its handle may be reused). */
  synchronized void streamClosed(long stream) {
    streams.remove(stream);
    for (Fence f : fences.values()) {
      f.waited.remove(stream);
    }
  }

  synchronized int openStreams() {
    return streams.size();
  }

  /** The fence of a block (null when none): for tests. */
  synchronized Fence fenceOf(long address) {
    return fences.get(address);
  }

  /** Orders {@code stream} after the last users of the block at {@code address} (see the class comment). */
  synchronized void ready(long address, long stream) {
    if (fences.isEmpty()) {
      return;
    }
    Fence f = fences.get(address);
    if (f != null && f.waited.add(stream)) {
      for (int i = 0; i < f.streams.length; i++) {
        if (f.streams[i] != stream) {
          driver.waitEvent(stream, f.events[i]);
        }
      }
    }
  }

  private Fence fence() {
    if (streams.isEmpty()) {
      return null;
    }
    long[] ss = new long[streams.size() + 1];
    ss[0] = CudaDriver.DEFAULT_STREAM;
    for (int i = 0; i < streams.size(); i++) {
      ss[i + 1] = streams.get(i);
    }
    long[] es = new long[ss.length];
    for (int i = 0; i < ss.length; i++) {
      es[i] = driver.recordEvent(ss[i]);
    }
    return new Fence(ss, es);
  }

  private void release(Fence f) {
    if (f != null && --f.refs == 0) {
      for (long e : f.events) {
        driver.destroyEvent(e);
      }
    }
  }

  synchronized Block take(long bytes) {
    return take(bytes, CudaDriver.DEFAULT_STREAM);
  }

  /** A block for work on {@code stream} (ordered after its earlier users). */
  synchronized Block take(long bytes, long stream) {
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
    ready(address, stream);
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
    give(List.of(b));
  }

  /** Gives blocks back (one fence for them all while other streams are open). */
  synchronized void give(List<Block> bs) {
    Fence f = null;
    for (Block b : bs) {
      release(fences.remove(b.address()));
      live -= b.bytes();
      if (cached + b.bytes() <= cacheCap) {
        cache.computeIfAbsent(b.bytes(), s -> new ArrayList<>()).add(b.address());
        cached += b.bytes();
        if (f == null) {
          f = fence();
        }
        if (f != null) {
          f.refs++;
          fences.put(b.address(), f);
        }
      } else {
        driver.free(b.address()); // cudaFree waits for the device
        fromDriver -= b.bytes();
      }
    }
  }

  /** Frees every cached block. */
  synchronized void trim() {
    for (Map.Entry<Long, List<Long>> e : cache.entrySet()) {
      for (long a : e.getValue()) {
        release(fences.remove(a));
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

    /** {@code bytes} bytes, 256-byte aligned, valid until this pool closes (for the default stream). */
    synchronized long allocate(long bytes) {
      return allocate(bytes, CudaDriver.DEFAULT_STREAM);
    }

    /** {@code bytes} bytes for work on {@code stream}, 256-byte aligned, valid until this pool closes. */
    synchronized long allocate(long bytes, long stream) {
      if (closed) {
        throw new IllegalStateException("device pool of a closed scope");
      }
      long size = Math.max(bytes, 1);
      handedOut += size;
      if (size > SLAB / 4) {
        Block b = take(size, stream);
        blocks.add(b);
        return b.address();
      }
      long start = (used + ALIGN - 1) / ALIGN * ALIGN;
      if (slab == null || start + size > slab.bytes()) {
        slab = take(SLAB, stream);
        blocks.add(slab);
        start = 0;
      } else {
        ready(slab.address(), stream); // a slab another stream took: its earlier life may still be in use there
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
      give(blocks);
      blocks.clear();
      slab = null;
    }
  }
}
