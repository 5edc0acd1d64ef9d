package dev.fovea.vit.clip;

import dev.fovea.nn.Encoder;
import dev.fovea.nn.EncoderLayer;
import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Module;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.Checkpoint;

/**
 * HF {@code CLIPVisionTransformer} (modeling_clip.py at 000f1ffdbf1ce6190cc8863af9a2fff817590937),
 * the module at {@code vision_model}. Shapes: B batch, T = 1 + h*w tokens, D width.
 *
 * <pre>
 * x      = embeddings(pixels)            [B, T, D]   patches + CLS + positions
 * h0     = pre_layrnorm(x)               hidden_states[0]
 * hL     = encoder(h0)                   L pre-LN layers, no mask (hidden_states[1..L])
 * pooled = post_layernorm(hL[:, 0])      [B, D]      CLS only
 * </pre>
 */
public final class ClipVisionTransformer extends Module {
  public final ClipVisionConfig config;
  public final ClipVisionEmbeddings embeddings;
  /** Sic: the checkpoint's spelling. */
  public final LayerNorm preLayrnorm;
  public final Encoder encoder;
  public final LayerNorm postLayernorm;

  public ClipVisionTransformer(ClipVisionConfig config) {
    this.config = config;
    float eps = config.layerNormEps().floatValue();
    this.embeddings = register("embeddings", new ClipVisionEmbeddings(config));
    this.preLayrnorm = register("pre_layrnorm", new LayerNorm(config.hiddenSize(), eps));
    EncoderLayer.Config layer = new EncoderLayer.Config(config.hiddenSize(), config.numAttentionHeads(), config.intermediateSize(),
        config.activation(), eps, false);
    this.encoder = register("encoder", new Encoder(layer, config.numHiddenLayers()));
    this.postLayernorm = register("post_layernorm", new LayerNorm(config.hiddenSize(), eps));
  }

  /** pixels [B, C, H, W] (any size that is a multiple of the patch; other grids interpolate the positions). */
  public TowerOutput forward(Tensor pixels, ClipOutputs outputs) {
    if (Checkpoint.isEnabled() && (outputs.hiddenStates() || outputs.attentions())) {
      throw new TensorException("per-layer hidden states and attentions are not kept while checkpointing is on"
          + " (each layer's tensors are freed when it returns); turn Checkpoint off to collect them");
    }
    try (LayerRecorder rec = new LayerRecorder(this, config.numHiddenLayers(), outputs)) {
      Tensor h0 = preLayrnorm.forward(embeddings.forward(pixels)); // [B, T, D]
      Tensor last = encoder.forward(h0); // [B, T, D]
      Tensor pooled = postLayernorm.forward(last.select(1, 0)); // [B, D]
      return new TowerOutput(last, pooled, rec.hiddenStates(h0), rec.attentions());
    }
  }

  public TowerOutput forward(Tensor pixels) {
    return forward(pixels, ClipOutputs.NONE);
  }

  /**
   * Split execution, first part: embeddings, pre_layrnorm and encoder layers {@code 0 .. layer-1};
   * returns hidden_states[layer] [B, T, D], the residual stream entering layer {@code layer}
   * (spec methods-abs-agla.md A.6 step 1, with layer = L-1).
   */
  public Tensor hiddenStateBefore(Tensor pixels, int layer) {
    checkLayer(layer);
    Tensor h0 = preLayrnorm.forward(embeddings.forward(pixels));
    return encoder.forwardLayers(h0, null, 0, layer);
  }

  /**
   * Split execution, second part: encoder layers {@code layer .. L-1} on token sequences {@code
   * hidden} [B', T', D] (callers may have edited them; any T' works, no position is re-added), then
   * post_layernorm of row 0: pooled [B', D].
   */
  public Tensor pooledFrom(Tensor hidden, int layer) {
    checkLayer(layer);
    if (hidden.dim() != 3 || hidden.size(2) != config.hiddenSize()) {
      throw new TensorException("CLIP vision: token sequences " + java.util.Arrays.toString(hidden.shape()) + " must be [B, T, "
          + config.hiddenSize() + "]");
    }
    Tensor last = encoder.forwardLayers(hidden, null, layer, config.numHiddenLayers());
    return postLayernorm.forward(last.select(1, 0));
  }

  private void checkLayer(int layer) {
    if (layer < 0 || layer > config.numHiddenLayers()) {
      throw new TensorException("CLIP vision: layer " + layer + " out of range 0.." + config.numHiddenLayers());
    }
  }
}
