package dev.fovea.llm.llava;

import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/**
 * HF {@code LlavaMultiModalProjector} (modeling_llava.py), the original repo's {@code mlp2x_gelu}:
 *
 * <pre>
 * linear_1.weight [C, Dv], linear_1.bias [C]
 * linear_2.weight [C, C],  linear_2.bias [C]
 * out = linear_2(gelu(linear_1(x)))    x [B, N, Dv] -> [B, N, C], exact erf GELU
 * </pre>
 */
public final class LlavaMultiModalProjector extends Module {
  public final Linear linear1;
  public final Linear linear2;

  public LlavaMultiModalProjector(int visionHidden, int textHidden, boolean bias) {
    this.linear1 = register("linear_1", new Linear(visionHidden, textHidden, bias));
    this.linear2 = register("linear_2", new Linear(textHidden, textHidden, bias));
  }

  public Tensor forward(Tensor imageFeatures) {
    Tensor h = linear1.forward(imageFeatures); // [B, N, C]
    h = Ops.gelu(h); // exact erf GELU (projector_hidden_act "gelu")
    return hooked(linear2.forward(h), imageFeatures); // [B, N, C]
  }
}
