package dev.fovea.tensor.io;

import dev.fovea.tensor.NativeMemory;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.cpu.Parallel;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a loaded model's weights live: in the file's pages ({@link Mode#MAP}: mapped, nothing read
 * at load, pages shared with the page cache and other processes) or copied once into anonymous
 * memory of the process ({@link Mode#COPY}, llama.cpp's {@code --no-mmap}).
 *
 * <p>Why copy at all: on this project's machines (a VM), the same weights read 10-25% slower
 * through a file mapping than from anonymous memory, and with deep periodic dips (to a third)
 * that anonymous memory does not show: measured in one process, alternating passes over the same
 * bytes, 42 vs 53 GB/s in the fast memory phase, 28 vs 31 in the slow one (jmh {@code
 * WeightReads}). Decode of F32/F16/BF16 weights runs at the read bandwidth, so it follows. A copy
 * costs a read of the file at load and the memory it takes (the file's page cache stays
 * reclaimable). That gap was the page size: the page cache held the file in 4 KiB folios; mappings
 * are now put on 2 MiB pages where the system allows ({@link HugeFilePages}: decode 73 ms a step
 * against 104 for the same BF16 file mapped in 4 KiB pages, one process), which leaves copying for
 * systems where it does not.
 *
 * <p>Why not copy by default: fresh anonymous memory is slow to fault in on the same machines
 * (~0.35 GB/s for 4 KiB pages, ~0.6 GB/s with transparent huge pages: the VM backs guest memory
 * on first touch), so the copy of TinyLlama's 4.4 GB F32 weights took 11 s of a 7 s `ask` (18 s
 * instead of 7), far more than the 10-25% it saves per decoded token over a short answer. Copy
 * pays off in long runs (an evaluation over thousands of questions, a server).
 *
 * <p>The mode is the system property {@code fovea.weights} or the environment variable {@code
 * FOVEA_WEIGHTS}: {@code map} (the default), {@code copy}, or {@code auto} (copy when the weights
 * take at most half of the memory the kernel reports available, else map).
 */
public final class Resident {
  private Resident() {}

  /** How weights are held. */
  public enum Mode {
    MAP,
    COPY,
    AUTO
  }

  /** The mode asked for by {@code -Dfovea.weights} or {@code FOVEA_WEIGHTS}; MAP when neither is set. */
  public static Mode requested() {
    String v = System.getProperty("fovea.weights");
    String from = "-Dfovea.weights";
    if (v == null) {
      v = System.getenv("FOVEA_WEIGHTS");
      from = "FOVEA_WEIGHTS";
    }
    if (v == null || v.isBlank()) {
      return Mode.MAP;
    }
    return switch (v.strip().toLowerCase(Locale.ROOT)) {
      case "map", "mmap" -> Mode.MAP;
      case "copy", "no-mmap" -> Mode.COPY;
      case "auto" -> Mode.AUTO;
      default -> throw new TensorException(from + "=" + v + ": expected copy, map or auto");
    };
  }

  /** {@code source} with its weights held as {@link #requested()} says. */
  public static WeightSource of(WeightSource source) {
    return of(source, requested());
  }

  /**
   * {@code source} with its weights held as {@code mode} says: itself for MAP, a copying view for
   * COPY, and for AUTO the one {@link #decide} picks. Closing the view closes {@code source}.
   */
  public static WeightSource of(WeightSource source, Mode mode) {
    return decide(source, mode) == Mode.COPY ? new Copying(source) : source;
  }

  /** MAP or COPY: AUTO resolved against the stored bytes of {@code source} and the available memory. */
  public static Mode decide(WeightSource source, Mode mode) {
    if (mode != Mode.AUTO) {
      return mode;
    }
    long bytes = 0;
    for (String n : source.names()) {
      WeightSource.TensorInfo i = source.info(n);
      if (i != null) {
        bytes += i.dtype().byteSize(dev.fovea.tensor.Shapes.numel(i.shape()));
      }
    }
    long available = availableBytes();
    return available > 0 && bytes <= available / 2 ? Mode.COPY : Mode.MAP;
  }

  /** MemAvailable of {@code /proc/meminfo} in bytes, or -1 where it cannot be read (then AUTO maps). */
  static long availableBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          String[] f = line.split("\\s+");
          return Long.parseLong(f[1]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** Copies above this size are split over the engine threads. */
  private static final long PARALLEL_COPY = 1 << 22;

  /**
   * Each tensor of the inner source copied into memory of its own on first {@link #get} (read-only,
   * 64-byte aligned), the inner tensor then released (which frees the inner copy of a converted
   * tensor); cached until {@link #release} or {@link #close}.
   */
  static final class Copying implements WeightSource {
    /** A copy and the arena that holds it (closed to free it). */
    private record Held(Tensor tensor, Arena arena) {}

    private final WeightSource inner;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private volatile boolean closed;

    Copying(WeightSource inner) {
      this.inner = inner;
    }

    @Override
    public Set<String> names() {
      return inner.names();
    }

    @Override
    public TensorInfo info(String name) {
      return inner.info(name);
    }

    @Override
    public Tensor get(String name) {
      if (closed) {
        throw new TensorException(origin() + " is closed; tensor '" + name + "' is no longer held");
      }
      return held.computeIfAbsent(name, this::copy).tensor();
    }

    private Held copy(String name) {
      Tensor t = inner.get(name);
      MemorySegment from = t.storage().segment();
      long bytes = t.dtype().byteSize(t.storage().numel());
      Arena arena = Arena.ofShared();
      try {
        MemorySegment to = NativeMemory.allocate(arena, bytes);
        if (bytes >= PARALLEL_COPY) {
          Parallel.forRange(bytes, PARALLEL_COPY, (s, e) -> MemorySegment.copy(from, s, to, s, e - s));
        } else {
          MemorySegment.copy(from, 0, to, 0, bytes);
        }
        Tensor copy = new Tensor(Storage.wrap(to.asReadOnly(), t.dtype(), t.storage().numel()), t.shape(), t.strides(), t.offset());
        Mappings.dropPages(from); // the mapping's pages leave the resident set: the copy is held once
        inner.release(name); // frees the inner source's own copy of a converted tensor
        return new Held(copy, arena);
      } catch (RuntimeException e) {
        arena.close();
        throw e;
      }
    }

    @Override
    public void release(String name) {
      Held h = held.remove(name);
      if (h != null) {
        h.arena().close();
      }
    }

    @Override
    public Map<String, Object> metadata() {
      return inner.metadata();
    }

    @Override
    public String origin() {
      return inner.origin();
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        held.values().forEach(h -> h.arena().close());
        held.clear();
        inner.close();
      }
    }
  }
}
