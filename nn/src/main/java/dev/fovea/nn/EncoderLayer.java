package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/**
 * A pre-norm transformer block in CLIP's layout (HF CLIPEncoderLayer): layer_norm1, self_attn,
 * layer_norm2, mlp.
 *
 * <pre>
 * h = x + self_attn(layer_norm1(x))
 * y = h + mlp(layer_norm2(h))
 * </pre>
 */
public final class EncoderLayer extends Module {
  /** C width, H heads, F MLP width. */
  public record Config(int hidden, int heads, int intermediate, Activation act, float eps, boolean causal) {
    /** CLIP's: quick_gelu, eps 1e-5, not causal. */
    public static Config clip(int hidden, int heads, int intermediate) {
      return new Config(hidden, heads, intermediate, Activation.QUICK_GELU, 1e-5f, false);
    }
  }

  public final Config config;
  public final LayerNorm layerNorm1;
  public final MultiHeadAttention selfAttn;
  public final LayerNorm layerNorm2;
  public final MLP mlp;

  public EncoderLayer(Config c) {
    this.config = c;
    this.layerNorm1 = register("layer_norm1", new LayerNorm(c.hidden(), c.eps()));
    this.selfAttn = register("self_attn", new MultiHeadAttention(MultiHeadAttention.Config.of(c.hidden(), c.heads()).withCausal(c.causal())));
    this.layerNorm2 = register("layer_norm2", new LayerNorm(c.hidden(), c.eps()));
    this.mlp = register("mlp", new MLP(c.hidden(), c.intermediate(), c.act()));
  }

  public Tensor forward(Tensor x) {
    return forward(x, null);
  }

  /** x [B, T, C]; attnBias broadcastable to [B, H, T, T] or null. */
  public Tensor forward(Tensor x, Tensor attnBias) {
    Tensor h = Ops.add(x, selfAttn.forward(layerNorm1.forward(x), null, attnBias, null)); // residual around attention
    Tensor y = Ops.add(h, mlp.forward(layerNorm2.forward(h))); // residual around the MLP
    return hooked(y, x, attnBias);
  }
}
