package dev.fovea.tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
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
}
