package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/** Rows of a [num, dim] table picked by integer ids (any float dtype; quantized rows are decoded per lookup). */
public final class Embedding extends Module {
  public final int num;
  public final int dim;
  /** [num, dim]. */
  public final Parameter weight;

  public Embedding(int num, int dim) {
    this.num = num;
    this.dim = dim;
    this.weight = parameter("weight", Parameter.MATMUL, Parameter.Init.NORMAL, num, dim);
  }

  /** ids (I32/I64) of any shape to [..., dim]. */
  public Tensor forward(Tensor ids) {
    return hooked(Ops.embedding(weight.get(), ids), ids);
  }

  @Override
  protected String extraRepr() {
    return "(" + num + ", " + dim + ")";
  }
}
