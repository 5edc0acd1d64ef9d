package dev.fovea.tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors of a checkpoint: name to lazily mapped tensor, plus the file's metadata. The
 * readers (safetensors, GGUF, PyTorch .bin, our archive) all yield one; tests use {@link #of(Map)}.
 * {@link #get} must not read tensor data before it is used (weights are memory-mapped).
 */
public interface WeightSource extends AutoCloseable {
  /** Tensor names in file order. */
  Set<String> names();

  /** Dtype and shape of a tensor without touching its data; null if absent. */
  TensorInfo info(String name);

  /** The tensor (a view over mapped memory for file-backed sources); throws naming the file if absent. */
  Tensor get(String name);

  /** Key/value metadata of the file (safetensors __metadata__, GGUF KVs, ...). */
  default Map<String, Object> metadata() {
    return Map.of();
  }

  /** Where the tensors come from (a path), for error messages. */
  String origin();

  /**
   * Says the caller is done with tensor {@code name}, so a source that made a copy of it
   * (dequantized, widened, row-permuted) frees that copy now instead of at {@link #close}; the next
   * {@link #get} makes it again. Mapped views cost nothing and are unaffected. A released copy must
   * not be used again: its memory is freed, and reading it throws {@code IllegalStateException}.
   * Streaming consumers (the converter) call this after each tensor so that at most one copy is
   * alive; a model that keeps its weights never calls it. Unknown names are ignored.
   */
  default void release(String name) {}

  default boolean contains(String name) {
    return info(name) != null;
  }

  @Override
  default void close() {}

  /** Dtype and shape of a stored tensor. */
  record TensorInfo(String name, DType dtype, int[] shape) {}

  /** An in-memory source over a plain map (insertion order kept). */
  static WeightSource of(Map<String, Tensor> tensors) {
    Map<String, Tensor> copy = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    return new WeightSource() {
      @Override
      public Set<String> names() {
        return copy.keySet();
      }

      @Override
      public TensorInfo info(String name) {
        Tensor t = copy.get(name);
        return t == null ? null : new TensorInfo(name, t.dtype(), t.shape());
      }

      @Override
      public Tensor get(String name) {
        Tensor t = copy.get(name);
        if (t == null) {
          throw new TensorException("tensor '" + name + "' not found in " + origin());
        }
        return t;
      }

      @Override
      public String origin() {
        return "in-memory weights";
      }
    };
  }

  /** Where a renamed view finds one of its tensors: a source and the name there. */
  record Ref(WeightSource source, String name) {}

  /**
   * A view under other names: {@code refs} maps each new name (in its order) to a tensor of one of
   * the {@code owned} sources, read lazily; closing the view closes those sources. {@code origin}
   * names it in errors.
   */
  static WeightSource renamed(Map<String, Ref> refs, String origin, List<WeightSource> owned) {
    return renamed(refs, origin, owned.isEmpty() ? Map.of() : owned.get(0).metadata(), owned);
  }

  /** As {@link #renamed(Map, String, List)} with the view's own {@code metadata}. */
  static WeightSource renamed(Map<String, Ref> refs, String origin, Map<String, Object> metadata, List<WeightSource> owned) {
    Map<String, Ref> copy = Collections.unmodifiableMap(new LinkedHashMap<>(refs));
    Map<String, Object> md = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    List<WeightSource> closing = List.copyOf(owned);
    return new WeightSource() {
      @Override
      public Set<String> names() {
        return copy.keySet();
      }

      @Override
      public TensorInfo info(String name) {
        Ref r = copy.get(name);
        TensorInfo i = r == null ? null : r.source().info(r.name());
        return i == null ? null : new TensorInfo(name, i.dtype(), i.shape());
      }

      @Override
      public Tensor get(String name) {
        Ref r = copy.get(name);
        if (r == null) {
          throw new TensorException("tensor '" + name + "' not found in " + origin());
        }
        return r.source().get(r.name());
      }

      @Override
      public Map<String, Object> metadata() {
        return md;
      }

      @Override
      public String origin() {
        return origin;
      }

      @Override
      public void release(String name) {
        Ref r = copy.get(name);
        if (r != null) {
          r.source().release(r.name());
        }
      }

      @Override
      public void close() {
        RuntimeException first = null;
        for (WeightSource s : closing) {
          try {
            s.close();
          } catch (RuntimeException e) {
            first = first == null ? e : first;
          }
        }
        if (first != null) {
          throw first;
        }
      }
    };
  }
}
