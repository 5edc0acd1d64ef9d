package dev.fovea.tensor.io;

import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Common shape of the file-backed readers: a name-ordered table of entries built at open from the
 * header alone, each with a loader that makes the tensor on first {@link #get} (a view over the
 * mapped file, or a converted copy in an arena of its own), cached until {@link #release} or
 * {@link #close}.
 */
abstract class MappedSource implements WeightSource {
  /** How one tensor is produced; runs at most once per name. */
  interface Loader {
    Tensor load();
  }

  record Entry(TensorInfo info, Loader loader) {}

  protected final MappedFile file;
  private final Map<String, Entry> entries;
  private final Map<String, Object> metadata;
  private final Map<String, Tensor> cache = new ConcurrentHashMap<>();
  /** Arenas of the converted copies behind cached tensors (absent for mapped views). */
  private final Map<String, List<Arena>> copies = new ConcurrentHashMap<>();
  private volatile boolean closed;

  MappedSource(MappedFile file, LinkedHashMap<String, Entry> entries, Map<String, Object> metadata) {
    this.file = file;
    this.entries = Collections.unmodifiableMap(entries);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  @Override
  public Set<String> names() {
    return entries.keySet();
  }

  @Override
  public TensorInfo info(String name) {
    Entry e = entries.get(name);
    return e == null ? null : e.info();
  }

  @Override
  public Tensor get(String name) {
    if (closed) {
      throw new TensorException(origin() + " is closed; tensor '" + name + "' is no longer mapped");
    }
    Entry e = entries.get(name);
    if (e == null) {
      throw new TensorException("tensor '" + name + "' not found in " + origin() + " (" + entries.size() + " tensors)");
    }
    return cache.computeIfAbsent(name, n -> {
      List<Arena> owned = new ArrayList<>();
      Tensor t = file.collecting(owned, () -> e.loader().load());
      if (!owned.isEmpty()) {
        copies.put(n, owned);
      }
      return t;
    });
  }

  /** Drops the cached tensor and frees its converted copy, if any (see {@link WeightSource#release}). */
  @Override
  public void release(String name) {
    cache.computeIfPresent(name, (n, t) -> {
      List<Arena> owned = copies.remove(n);
      if (owned != null) {
        owned.forEach(Arena::close);
      }
      return null;
    });
  }

  @Override
  public Map<String, Object> metadata() {
    return metadata;
  }

  @Override
  public String origin() {
    return file.name;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      cache.clear();
      copies.values().forEach(l -> l.forEach(Arena::close));
      copies.clear();
      file.close();
    }
  }

  /** Elements of a shape, or a FormatException naming the field when negative or beyond {@link Shapes#MAX_NUMEL}. */
  static long checkedNumel(long[] shape, String file, String field) {
    long n = 1;
    for (long s : shape) {
      if (s < 0 || s > Integer.MAX_VALUE) {
        throw new FormatException(file, field, "dimension " + s + " in shape " + java.util.Arrays.toString(shape) + " is negative or above 2^31-1");
      }
      n = s == 0 ? 0 : (n > Shapes.MAX_NUMEL / s ? Shapes.MAX_NUMEL + 1 : n * s);
      if (n > Shapes.MAX_NUMEL) {
        throw new FormatException(file, field, "shape " + java.util.Arrays.toString(shape) + " has more than 2^40 elements");
      }
    }
    return n;
  }

  static int[] toIntShape(long[] shape) {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = (int) shape[i];
    }
    return s;
  }
}
