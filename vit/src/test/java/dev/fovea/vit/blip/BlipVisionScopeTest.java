package dev.fovea.vit.blip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.nn.ForwardHook;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The BLIP/EVA vision tower at inference keeps each layer's output in the caller's scope, not the
 * layer's intermediates (issue 24, item 4: InstructBLIP's 39-layer EVA ViT-g held 1.6 GB of them
 * at 257 tokens until the answer ended, taking the 7B model's resident memory to 1.15x its weights
 * plus KV cache). A tiny tower shows it: 12 layers hold about what 2 do plus 10 outputs, with the
 * same values as the plain path a hook keeps.
 */
class BlipVisionScopeTest {
  static BlipVisionModel tower(int layers) {
    BlipVisionModel m = new BlipVisionModel(new BlipConfig.Vision(48, 192, layers, 4, 112, 14, 1e-6, "gelu"));
    m.initRandom(3);
    return m;
  }

  static long held(BlipVisionModel m, Tensor pixels) {
    try (Scope s = Scope.open()) {
      m.forward(pixels);
      return s.allocatedBytes();
    }
  }

  @Test
  void layersLeaveOnlyTheirOutputsInTheCallersScope() {
    Tensor pixels = Tensor.randn(new Random(2), 1, 3, 112, 112);
    long out = 4L * 65 * 48; // N = (112 / 14)^2 + 1 tokens of D = 48
    BlipVisionModel two = tower(2);
    BlipVisionModel twelve = tower(12);
    long extra = held(twelve, pixels) - held(two, pixels);
    assertTrue(extra <= 10 * 2 * out, "10 more layers kept " + extra + " bytes, " + extra / (10.0 * out) + " outputs each");
    float[] freed;
    try (Scope s = Scope.open()) {
      freed = twelve.forward(pixels).toFloatArray();
    }
    try (var h = twelve.addForwardHook(p -> p.matches("encoder\\.layers\\.\\d+\\.mlp"), ForwardHook.reading((p, o) -> {}));
        Scope s = Scope.open()) {
      assertArrayEquals(twelve.forward(pixels).toFloatArray(), freed, "freeing changes no value");
      assertTrue(held(twelve, pixels) - held(two, pixels) > 10 * 4 * out, "a hook in the layers keeps the plain path");
    }
  }
}
