package dev.fovea.tensor.autograd;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Activation checkpointing (PyTorch's {@code torch.utils.checkpoint}): a segment of a graph, such
 * as one transformer layer, keeps only its inputs and output; its intermediates are recomputed
 * during the backward pass. A forward + backward through L layers then holds one layer's graph at a
 * time instead of all L, for the price of running each layer's forward twice. Gradients are those
 * of the plain graph (the same ops; an input used several times inside a segment has its
 * contributions summed in another order, so the two agree to float rounding).
 *
 * <pre>{@code
 * try (var g = GradMode.enable(); var c = Checkpoint.enable()) {
 *   Tensor v = model.forward(pixels);   // layer stacks consult Checkpoint.isEnabled()
 *   v.backward();
 * }
 * }</pre>
 *
 * <p>Memory: {@link #apply} runs the segment's forward in a nested {@link Scope} with grad mode off
 * and copies only the output out; the recomputation in the backward runs in another nested scope
 * and copies only the input gradients out. So nothing the segment allocates outlives it.
 *
 * <p>Caveats, as in PyTorch: the segment runs twice, so forward and attention hooks inside it fire
 * twice (once with grad mode off, once during the backward), and tensors they see are freed when
 * the segment returns (a hook that keeps one must copy it). Retained gradients of intermediates
 * inside a segment are not available afterwards. The segment must compute the same function both
 * times; a segment with side effects (a KV cache append) must make its replay idempotent.
 *
 * <p>Whether layer stacks checkpoint is a per-thread mode, like {@link GradMode}; it only matters
 * while grad mode is on.
 */
public final class Checkpoint {
  private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {false});

  private Checkpoint() {}

  /** Whether layer stacks should checkpoint their layers on this thread (and grad mode is on). */
  public static boolean isEnabled() {
    return ENABLED.get()[0] && GradMode.isEnabled();
  }

  /** Turns checkpointing on for this thread until the returned guard is closed (restores the previous mode). */
  public static GradMode.Guard enable() {
    boolean[] cell = ENABLED.get();
    boolean previous = cell[0];
    cell[0] = true;
    return () -> cell[0] = previous;
  }

  /**
   * {@code segment.apply(inputs)}, recorded as one node whose backward recomputes the segment. Runs
   * the segment plainly when grad mode is off or no input requires grad. The segment must return a
   * floating-point tensor computed from its arguments (other tensors it captures get no gradient).
   */
  public static Tensor apply(String name, Function<Tensor[], Tensor> segment, Tensor... inputs) {
    boolean needed = false;
    for (Tensor in : inputs) {
      needed |= in != null && in.requiresGrad();
    }
    if (!GradMode.isEnabled() || !needed) {
      return segment.apply(inputs);
    }
    Scope parent = Scope.current();
    Tensor out;
    try (Scope inner = Scope.open(); var g = GradMode.disable()) {
      out = segment.apply(detached(inputs, false)).copyTo(parent);
    }
    return out.recordedBy(new Node("checkpoint(" + name + ")", inputs) {
      @Override
      public Tensor[] backward(Tensor gradOutput) {
        Scope outer = Scope.current();
        Tensor[] grads = new Tensor[inputs.length];
        try (Scope inner = Scope.open(); var g = GradMode.enable()) {
          Tensor[] leaves = detached(inputs, true);
          Tensor y = segment.apply(leaves);
          if (!y.requiresGrad()) {
            return grads; // the output does not depend on the inputs
          }
          if (!Arrays.equals(y.shape(), gradOutput.shape())) {
            throw new TensorException("checkpoint(" + name + "): the recomputed output has another shape than the first run's;"
                + " the segment must compute the same function twice");
          }
          Autograd.backward(y, gradOutput);
          for (int i = 0; i < leaves.length; i++) {
            if (leaves[i] != null && leaves[i].grad() != null) {
              grads[i] = leaves[i].grad().copyTo(outer);
            }
          }
        }
        return grads;
      }
    });
  }

  /** Graph-free views of the inputs; with {@code leaves}, those that required grad become leaves requiring grad. */
  private static Tensor[] detached(Tensor[] inputs, boolean leaves) {
    Tensor[] out = new Tensor[inputs.length];
    for (int i = 0; i < inputs.length; i++) {
      Tensor in = inputs[i];
      if (in != null) {
        out[i] = leaves && in.requiresGrad() ? in.detach().requiresGrad(true) : in.detach();
      }
    }
    return out;
  }
}
