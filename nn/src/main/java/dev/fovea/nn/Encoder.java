package dev.fovea.nn;

import dev.fovea.tensor.Tensor;

/** A stack of {@link EncoderLayer}s under "layers" (HF CLIPEncoder: {@code encoder.layers.N}). */
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
    Tensor h = x;
    for (EncoderLayer layer : layers) {
      h = layer.forward(h, attnBias);
    }
    return hooked(h, x, attnBias);
  }
}
