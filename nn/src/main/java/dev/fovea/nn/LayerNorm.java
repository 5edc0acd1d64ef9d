package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;

/** y = (x - mean) / sqrt(var + eps) * weight + bias over the last dimension (torch.nn.LayerNorm). */
public final class LayerNorm extends Module {
  public final int dim;
  public final float eps;
  /** [dim]. */
  public final Parameter weight;
  /** [dim], or null without a shift. */
  public final Parameter bias;

  public LayerNorm(int dim, float eps) {
    this(dim, eps, true);
  }

  public LayerNorm(int dim, float eps, boolean bias) {
    this.dim = dim;
    this.eps = eps;
    this.weight = parameter("weight", Parameter.FLOAT, Parameter.Init.NEAR_ONE, dim);
    this.bias = bias ? parameter("bias", Parameter.FLOAT, Parameter.Init.SMALL, dim) : null;
  }

  public Tensor forward(Tensor x) {
    if (x.dim() == 0 || x.size(-1) != dim) {
      throw new ShapeException("LayerNorm '" + path() + "': input " + Arrays.toString(x.shape()) + " must end in " + dim);
    }
    return hooked(Ops.layerNorm(x, weight.get(), bias == null ? null : bias.get(), eps), x);
  }

  @Override
  protected String extraRepr() {
    return "(" + dim + ", eps=" + eps + ")";
  }
}
