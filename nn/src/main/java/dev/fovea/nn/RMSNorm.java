package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;

/** y = x / sqrt(mean(x^2) + eps) * weight over the last dimension, in float32 (LLaMA's LlamaRMSNorm). */
public final class RMSNorm extends Module {
  public final int dim;
  public final float eps;
  /** [dim]. */
  public final Parameter weight;

  public RMSNorm(int dim, float eps) {
    this.dim = dim;
    this.eps = eps;
    this.weight = parameter("weight", Parameter.FLOAT, Parameter.Init.NEAR_ONE, dim);
  }

  public Tensor forward(Tensor x) {
    if (x.dim() == 0 || x.size(-1) != dim) {
      throw new ShapeException("RMSNorm '" + path() + "': input " + Arrays.toString(x.shape()) + " must end in " + dim);
    }
    return hooked(Ops.rmsNorm(x, weight.get(), eps), x);
  }

  @Override
  protected String extraRepr() {
    return "(" + dim + ", eps=" + eps + ")";
  }
}
