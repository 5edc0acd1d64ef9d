package dev.fovea.llm.llama;

import dev.fovea.nn.GatedMLP;
import dev.fovea.nn.KvCache;
import dev.fovea.nn.Module;
import dev.fovea.nn.MultiHeadAttention;
import dev.fovea.nn.RMSNorm;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;

/**
 * One LLaMA block, {@code model.layers.N} (transformers {@code LlamaDecoderLayer}, spec 3.3):
 *
 * <pre>
 * h = h + o_proj(Attn(input_layernorm(h)))                  attention with rotary q/k, GQA, causal
 * h = h + down_proj(silu(gate_proj(x)) * up_proj(x)),  x = post_attention_layernorm(h)
 * </pre>
 */
public final class LlamaDecoderLayer extends Module {
  public final RMSNorm inputLayernorm; // weight [C]
  public final MultiHeadAttention selfAttn; // q_proj [H*D, C], k_proj/v_proj [Hkv*D, C], o_proj [C, H*D]
  public final RMSNorm postAttentionLayernorm; // weight [C]
  public final GatedMLP mlp; // gate_proj/up_proj [F, C], down_proj [C, F]

  LlamaDecoderLayer(LlamaConfig c, LlamaRotary rotary) {
    int hidden = c.hiddenSize();
    this.inputLayernorm = register("input_layernorm", new RMSNorm(hidden, c.rmsNormEps()));
    this.selfAttn = register("self_attn", new MultiHeadAttention(
        new MultiHeadAttention.Config(hidden, hidden, c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), false, false, "o_proj", true),
        rotary));
    this.postAttentionLayernorm = register("post_attention_layernorm", new RMSNorm(hidden, c.rmsNormEps()));
    this.mlp = register("mlp", new GatedMLP(hidden, c.intermediateSize()));
  }

  /**
   * @param h residual stream [B, T, C]
   * @param positions I32 [T] or [B, T], the absolute positions of the T new tokens
   * @param cache this layer's keys/values of earlier positions; the new ones are appended
   * @return [B, T, C]
   */
  public Tensor forward(Tensor h, Tensor positions, KvCache cache) {
    // attention block: pre-norm, self attention over cache + new positions, residual
    Tensor attn = selfAttn.forwardCached(inputLayernorm.forward(h), null, positions, cache);
    Tensor h1 = Ops.add(h, attn);
    // feed-forward block: pre-norm, SwiGLU, residual
    Tensor ffn = mlp.forward(postAttentionLayernorm.forward(h1));
    return hooked(Ops.add(h1, ffn), h);
  }
}
