package dev.fovea.llm.llama;

import dev.fovea.nn.Embedding;
import dev.fovea.nn.KvCache;
import dev.fovea.nn.Module;
import dev.fovea.nn.ModuleList;
import dev.fovea.nn.RMSNorm;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Checkpoint;

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

  /**
   * Runs every layer over h [B, T, C] at {@code positions}, appending to the state's caches; returns norm(h) [B, T, C].
   * Each layer is a {@link Checkpoint} segment while checkpointing is on (its replay in the backward
   * truncates the layer's cache to where the first run started, so the cache ends as without).
   */
  Tensor forward(Tensor h, Tensor positions, DecodeState state) {
    Tensor x = h;
    boolean checkpoint = Checkpoint.isEnabled();
    for (int i = 0; i < layers.size(); i++) {
      LlamaDecoderLayer layer = layers.get(i);
      KvCache cache = state.cache(i);
      if (checkpoint) {
        // The replay in the backward first forgets the positions the first run appended.
        int past = cache.length();
        x = Checkpoint.apply("layers." + i, in -> {
          cache.truncate(past);
          return layer.forward(in[0], positions, cache);
        }, x);
      } else {
        x = forwardFreeing(layer, x, in -> layer.forward(in, positions, cache)); // at inference each layer's intermediates are freed as it ends
      }
    }
    return hooked(norm.forward(x), h);
  }
}
