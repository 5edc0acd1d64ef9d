package dev.fovea.nn;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.Checkpoint;

/**
 * A stack of {@link EncoderLayer}s under "layers" (HF CLIPEncoder: {@code encoder.layers.N}). Each
 * layer is a {@link Checkpoint} segment while checkpointing is on.
 */
public final class Encoder extends Module {
  public final ModuleList<EncoderLayer> layers;

  public Encoder(EncoderLayer.Config config, int numLayers) {
    this.layers = register("layers", new ModuleList<>());
    for (int i = 0; i < numLayers; i++) {
      layers.add(new EncoderLayer(config));
    }
  }

  public Tensor forward(Tensor x) {
    return forward(x, null);
  }

  public Tensor forward(Tensor x, Tensor attnBias) {
    return hooked(forwardLayers(x, attnBias, layers.size()), x, attnBias);
  }

  /**
   * The first {@code count} layers only (hidden_states[count]), without this module's own forward
   * hooks: for models that read an inner layer's output (LLaVA's feature layer).
   */
  public Tensor forwardLayers(Tensor x, Tensor attnBias, int count) {
    return forwardLayers(x, attnBias, 0, count);
  }

  /**
   * Layers {@code from} (inclusive) to {@code to} (exclusive) on {@code x}, the residual stream
   * entering layer {@code from} (hidden_states[from]); without this module's own forward hooks.
   * Split execution: run the shared prefix once, then only the last layers on edited sequences.
   */
  public Tensor forwardLayers(Tensor x, Tensor attnBias, int from, int to) {
    if (from < 0 || to > layers.size() || from > to) {
      throw new TensorException("Encoder: cannot run layers " + from + ".." + (to - 1) + " of its " + layers.size() + " layers");
    }
    Tensor h = x;
    boolean checkpoint = Checkpoint.isEnabled();
    for (int i = from; i < to; i++) {
      EncoderLayer layer = layers.get(i);
      h = checkpoint ? Checkpoint.apply("encoder.layers." + i, in -> layer.forward(in[0], attnBias), h)
          : forwardFreeing(layer, h, in -> layer.forward(in, attnBias)); // at inference each layer's intermediates are freed as it ends
    }
    return h;
  }
}
