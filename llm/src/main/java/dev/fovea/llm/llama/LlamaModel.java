package dev.fovea.llm.llama;

import dev.fovea.nn.Embedding;
import dev.fovea.nn.Module;
import dev.fovea.nn.ModuleList;
import dev.fovea.nn.RMSNorm;
import dev.fovea.tensor.Tensor;

/** {@code model}: token embedding, the decoder layers and the final norm (transformers {@code LlamaModel}). */
public final class LlamaModel extends Module {
  public final Embedding embedTokens; // weight [V, C]
  public final ModuleList<LlamaDecoderLayer> layers;
  public final RMSNorm norm; // weight [C]

  LlamaModel(LlamaConfig c) {
    LlamaRotary rotary = new LlamaRotary(c);
    this.embedTokens = register("embed_tokens", new Embedding(c.vocabSize(), c.hiddenSize()));
    this.layers = register("layers", new ModuleList<>());
    for (int i = 0; i < c.numHiddenLayers(); i++) {
      layers.add(new LlamaDecoderLayer(c, rotary));
    }
    this.norm = register("norm", new RMSNorm(c.hiddenSize(), c.rmsNormEps()));
  }

  /** Runs every layer over h [B, T, C] at {@code positions}, appending to the state's caches; returns norm(h) [B, T, C]. */
  Tensor forward(Tensor h, Tensor positions, DecodeState state) {
    Tensor x = h;
    for (int i = 0; i < layers.size(); i++) {
      x = layers.get(i).forward(x, positions, state.cache(i));
    }
    return hooked(norm.forward(x), h);
  }
}
