package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Module.forwardFreeing in a CLIP-style Encoder: at inference the caller's scope keeps each layer's
 * output only, so 12 layers hold about what 2 do plus 10 outputs (before: every layer's
 * intermediates, about 20 outputs' worth each, until the caller's scope closed); the values are the
 * plain path's; a hook in a layer's tree or grad mode keeps the plain path (a hook or the graph may
 * hold what the layer computed), and so does an input of one position (a decode step, where
 * closing a scope per layer cost more than the memory it gave back).
 */
class ForwardFreeingTest {
  static final int B = 1;
  static final int T = 64;
  static final int C = 32;

  static Encoder encoder(int layers) {
    Encoder m = new Encoder(EncoderLayer.Config.clip(C, 4, 4 * C), layers);
    m.initRandom(7);
    return m;
  }

  /** Bytes the caller's scope handed out for one forward. */
  static long held(Encoder m, Tensor x) {
    try (Scope s = Scope.open()) {
      m.forward(x);
      return s.allocatedBytes();
    }
  }

  @Test
  void deepStacksHoldOutputsNotIntermediates() {
    Tensor x = Tensor.randn(new Random(1), B, T, C);
    long out = 4L * B * T * C;
    Encoder two = encoder(2);
    Encoder twelve = encoder(12);
    long extra = held(twelve, x) - held(two, x);
    assertTrue(extra <= 10 * 2 * out, "10 more layers kept " + extra + " bytes in the caller's scope, " + extra / (10.0 * out) + " outputs each");
    // a hook on every layer: the plain path, every intermediate kept, the same values
    float[] freed;
    float[] plain;
    long hookedExtra;
    try (Scope s = Scope.open()) {
      freed = twelve.forward(x).toFloatArray();
    }
    Tensor[] seen = new Tensor[1];
    try (var h = twelve.addForwardHook(p -> p.matches("layers\\.\\d+\\.mlp"), ForwardHook.reading((p, o) -> seen[0] = o)); Scope s = Scope.open()) {
      plain = twelve.forward(x).toFloatArray();
      assertNotNull(seen[0]);
      assertTrue(seen[0].toFloatArray().length == B * T * C, "what the hook kept is still readable");
      hookedExtra = held(twelve, x) - held(two, x);
    }
    assertArrayEquals(plain, freed, "freeing changes no value");
    assertTrue(hookedExtra > 10 * 4 * out, "with hooks the layers' intermediates stay: " + hookedExtra + " bytes");
    // grad mode: the graph needs the intermediates
    try (var g = GradMode.enable()) {
      assertTrue(held(twelve, x) - held(two, x) > 10 * 4 * out, "grad mode keeps the plain path");
    }
  }

  @Test
  void onePositionKeepsThePlainPath() {
    Tensor x = Tensor.randn(new Random(2), B, 1, C); // one position
    long out = 4L * B * C;
    long extra = held(encoder(12), x) - held(encoder(2), x);
    assertTrue(extra > 10 * 4 * out, "one token's 10 more layers kept only " + extra + " bytes: a scope per layer was opened");
  }
}
