package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;

/**
 * y = x W^T + b with the checkpoint's layout: {@code weight} [out, in] (any of {@link
 * Parameter#MATMUL}: F16/BF16/Q8_0/Q4_0 weights are read by the GEMM as stored), optional {@code bias} [out].
 */
public final class Linear extends Module {
  public final int inFeatures;
  public final int outFeatures;
  /** [out, in]. */
  public final Parameter weight;
  /** [out], or null when the layer has no bias. */
  public final Parameter bias;

  public Linear(int inFeatures, int outFeatures, boolean bias) {
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = parameter("weight", Parameter.MATMUL, Parameter.Init.FAN_IN, outFeatures, inFeatures);
    this.bias = bias ? parameter("bias", Parameter.FLOAT, Parameter.Init.SMALL, outFeatures) : null;
  }

  /** x [..., in] to [..., out]. */
  public Tensor forward(Tensor x) {
    if (x.dim() == 0 || x.size(-1) != inFeatures) {
      throw new ShapeException("Linear '" + path() + "': input " + Arrays.toString(x.shape()) + " must end in " + inFeatures + " features");
    }
    return hooked(Ops.linear(x, weight.get(), bias == null ? null : bias.get()), x);
  }

  /**
   * The forwards of several layers that read the same input (a layer's q/k/v or gate/up), computed
   * together by {@link Ops#linearShared} (one GEMV pass at a decode step), biases added after:
   * the same values as calling each forward. A layer with forward hooks makes it one forward each,
   * so hooks see exactly what they would.
   */
  public static Tensor[] forwardShared(Tensor x, Linear... layers) {
    Tensor[] weights = new Tensor[layers.length];
    for (int i = 0; i < layers.length; i++) {
      Linear l = layers[i];
      if (l.hasForwardHooks() || x.dim() == 0 || x.size(-1) != l.inFeatures) {
        Tensor[] out = new Tensor[layers.length];
        for (int j = 0; j < layers.length; j++) {
          out[j] = layers[j].forward(x);
        }
        return out;
      }
      weights[i] = l.weight.get();
    }
    Tensor[] out = Ops.linearShared(x, weights);
    for (int i = 0; i < layers.length; i++) {
      if (layers[i].bias != null) {
        out[i] = Ops.add(out[i], layers[i].bias.get());
      }
    }
    return out;
  }

  @Override
  protected String extraRepr() {
    return "(in=" + inFeatures + ", out=" + outFeatures + ", bias=" + (bias != null) + ")";
  }
}
