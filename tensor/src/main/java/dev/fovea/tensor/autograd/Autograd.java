package dev.fovea.tensor.autograd;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** The reverse-mode engine: walks the recorded graph from a scalar back to the leaves. */
public final class Autograd {
  private Autograd() {}

  /**
   * Computes d(root)/d(t) for every leaf t that requires grad (accumulated into {@code t.grad()})
   * and for every intermediate that asked {@link Tensor#retainGrad()}. {@code root} must be a
   * one-element tensor unless {@code seed} is given.
   */
  public static void backward(Tensor root, Tensor seed) {
    if (!root.requiresGrad()) {
      throw new TensorException("backward: the tensor does not require grad (was grad mode on, and did an input require grad?)");
    }
    if (seed == null) {
      if (root.numel() != 1) {
        throw new ShapeException("backward: needs a one-element tensor or an explicit seed, got shape " + Arrays.toString(root.shape()));
      }
      seed = Ops.onesLike(root);
    } else if (!Arrays.equals(seed.shape(), root.shape())) {
      throw ShapeException.of("backward", "seed must have the root's shape", seed.shape(), root.shape());
    }
    List<Tensor> order = topologicalOrder(root);
    Map<Tensor, Tensor> grads = new IdentityHashMap<>();
    grads.put(root, seed);
    try (var g = GradMode.disable()) {
      for (int i = order.size() - 1; i >= 0; i--) {
        Tensor t = order.get(i);
        Tensor grad = grads.remove(t);
        if (grad == null) {
          continue;
        }
        Node fn = t.gradFn();
        if (fn == null || t.retainsGrad()) {
          t.accumulateGrad(grad);
        }
        if (fn == null) {
          continue;
        }
        Tensor[] inputGrads = fn.backward(grad);
        Tensor[] inputs = fn.inputs();
        for (int j = 0; j < inputs.length; j++) {
          Tensor in = inputs[j];
          Tensor gi = inputGrads[j];
          if (in == null || gi == null || !in.requiresGrad()) {
            continue;
          }
          if (!Arrays.equals(gi.shape(), in.shape())) {
            throw new TensorException(
                "backward of " + fn.name() + " produced a gradient of shape " + Arrays.toString(gi.shape())
                    + " for input " + j + " of shape " + Arrays.toString(in.shape()));
          }
          Tensor prev = grads.get(in);
          grads.put(in, prev == null ? gi : Ops.add(prev, gi));
        }
      }
    }
  }

  /** Tensors reachable from root through recorded nodes, inputs before the outputs that use them. */
  private static List<Tensor> topologicalOrder(Tensor root) {
    List<Tensor> order = new ArrayList<>();
    Map<Tensor, Boolean> seen = new IdentityHashMap<>();
    // Iterative DFS (graphs of deep models would overflow the Java stack recursively).
    ArrayDeque<Object[]> stack = new ArrayDeque<>();
    stack.push(new Object[] {root, 0});
    seen.put(root, Boolean.TRUE);
    while (!stack.isEmpty()) {
      Object[] frame = stack.peek();
      Tensor t = (Tensor) frame[0];
      int next = (Integer) frame[1];
      Node fn = t.gradFn();
      Tensor[] inputs = fn == null ? new Tensor[0] : fn.inputs();
      if (next < inputs.length) {
        frame[1] = next + 1;
        Tensor in = inputs[next];
        if (in != null && in.requiresGrad() && seen.put(in, Boolean.TRUE) == null) {
          stack.push(new Object[] {in, 0});
        }
      } else {
        stack.pop();
        order.add(t);
      }
    }
    return order;
  }
}
