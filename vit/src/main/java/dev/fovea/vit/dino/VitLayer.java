package dev.fovea.vit.dino;

import dev.fovea.nn.Linear;
import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Module;
import dev.fovea.nn.MultiHeadAttention;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/**
 * HF {@code ViTLayer} (modeling_vit.py, classes ViTLayer, ViTAttention, ViTSelfAttention,
 * ViTSelfOutput, ViTIntermediate, ViTOutput), pre-norm, in eval mode (dropouts are the identity):
 *
 * <pre>
 * h = x + attention(layernorm_before(x))          attention.attention.{query,key,value}, attention.output.dense
 * y = h + output.dense(act(intermediate.dense(layernorm_after(h))))
 * </pre>
 *
 * The attention is a {@link MultiHeadAttention} with {@link MultiHeadAttention.Names#VIT}, so its
 * probabilities reach the {@link dev.fovea.nn.AttentionHook}s like every other model's.
 */
public final class VitLayer extends Module {
  public final VitConfig config;
  public final LayerNorm layernormBefore;
  public final MultiHeadAttention attention;
  public final LayerNorm layernormAfter;
  /** [F, D]. */
  public final Linear intermediateDense;
  /** [D, F]. */
  public final Linear outputDense;

  public VitLayer(VitConfig config) {
    this.config = config;
    int d = config.hiddenSize();
    float eps = (float) config.layerNormEps();
    this.attention = register("attention", new MultiHeadAttention(
        MultiHeadAttention.Config.of(d, config.numAttentionHeads()).withBias(config.qkvBias(), true), null, MultiHeadAttention.Names.VIT));
    this.intermediateDense = registerAt("intermediate.dense", new Linear(d, config.intermediateSize(), true));
    this.outputDense = registerAt("output.dense", new Linear(config.intermediateSize(), d, true));
    this.layernormBefore = register("layernorm_before", new LayerNorm(d, eps));
    this.layernormAfter = register("layernorm_after", new LayerNorm(d, eps));
  }

  /** x [B, T, D] to [B, T, D]. */
  public Tensor forward(Tensor x) {
    Tensor h = Ops.add(x, attention.forward(layernormBefore.forward(x))); // residual around attention
    Tensor m = outputDense.forward(config.activation().apply(intermediateDense.forward(layernormAfter.forward(h))));
    return hooked(Ops.add(h, m), x); // residual around the MLP
  }
}
