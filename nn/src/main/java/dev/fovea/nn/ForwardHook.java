package dev.fovea.nn;

import dev.fovea.tensor.Tensor;
import java.util.List;

/**
 * Runs after a module's forward (PyTorch's {@code register_forward_hook}): sees the module's path,
 * the module, its tensor inputs (in the order of its {@code forward} parameters; null for absent
 * optional inputs) and its output, and may return a replacement output (null keeps it). Several
 * hooks on one module run in registration order, each seeing the previous one's output.
 *
 * <p>A replacement must have a shape the next module accepts; it may be a tensor of the graph (so a
 * hook can steer a forward that is later differentiated).
 */
@FunctionalInterface
public interface ForwardHook {
  Tensor apply(String path, Module module, List<Tensor> inputs, Tensor output);

  /** A hook that only reads (returns null). */
  static ForwardHook reading(Reader reader) {
    return (path, module, inputs, output) -> {
      reader.read(path, output);
      return null;
    };
  }

  /** Body of {@link #reading}. */
  @FunctionalInterface
  interface Reader {
    void read(String path, Tensor output);
  }
}
