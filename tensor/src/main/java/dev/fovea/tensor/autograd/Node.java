package dev.fovea.tensor.autograd;

import dev.fovea.tensor.Tensor;

/**
 * One recorded op: its inputs and how to turn the gradient of its output into gradients of its
 * inputs. Each op file defines its nodes next to its forward (STYLE point 8).
 */
public abstract class Node {
  private final String name;
  private final Tensor[] inputs;

  protected Node(String name, Tensor... inputs) {
    this.name = name;
    this.inputs = inputs;
  }

  public String name() {
    return name;
  }

  public Tensor[] inputs() {
    return inputs;
  }

  /**
   * Gradients with respect to each input (same order as {@link #inputs()}; null where an input
   * needs none). Runs with grad mode off; {@code gradOutput} has the output's shape.
   */
  public abstract Tensor[] backward(Tensor gradOutput);

  @Override
  public String toString() {
    return name;
  }
}
