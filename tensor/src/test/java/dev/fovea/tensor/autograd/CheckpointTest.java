package dev.fovea.tensor.autograd;

import static dev.fovea.tensor.Gens.qt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

/**
 * Activation checkpointing: the gradient through checkpointed segments is the plain gradient (the
 * same ops; only the order in which an input's several contributions are summed differs, so they
 * agree to float rounding: 1e-6 relative), it passes the finite-difference check,
 * and the caller's scope holds only the segments' boundaries, not their intermediates.
 */
class CheckpointTest {

  /** A residual block: x + softmax(x W1) W2 (rows [T, C]), with a tanh and a product in between. */
  private static Tensor block(Tensor x, Tensor w1, Tensor w2) {
    Tensor a = Ops.softmax(Ops.matmul(x, w1), -1);
    Tensor h = Ops.mul(Ops.tanh(Ops.matmul(a, w2)), x);
    return Ops.add(x, h);
  }

  private static Tensor stack(Tensor x, Tensor[] ws, boolean checkpoint) {
    Tensor h = x;
    for (int i = 0; i < ws.length / 2; i++) {
      Tensor w1 = ws[2 * i];
      Tensor w2 = ws[2 * i + 1];
      Function<Tensor[], Tensor> seg = in -> block(in[0], w1, w2);
      h = checkpoint ? Checkpoint.apply("block" + i, seg, h) : seg.apply(new Tensor[] {h});
    }
    return h;
  }

  private static Tensor[] weights(Random rng, int layers, int c, int hidden) {
    Tensor[] ws = new Tensor[2 * layers];
    for (int i = 0; i < layers; i++) {
      ws[2 * i] = Ops.mulScalar(Tensor.randn(rng, c, hidden), 0.5f);
      ws[2 * i + 1] = Ops.mulScalar(Tensor.randn(rng, hidden, c), 0.5f);
    }
    return ws;
  }

  private record Case(long seed, int layers, int t, int c) {}

  private static Gen<Case> cases() {
    return Gens.seeds().zip(SourceDSL.integers().between(1, 4), SourceDSL.integers().between(1, 6), SourceDSL.integers().between(1, 7),
        (s, l, t, c) -> new Case(s, l, t, c));
  }

  @Test
  void gradientEqualsThePlainGradient() {
    qt(1).forAll(cases()).checkAssert(k -> {
      try (Scope s = Scope.open()) {
        Random rng = new Random(k.seed());
        Tensor[] ws = weights(rng, k.layers(), k.c(), 5);
        float[] x0 = Tensor.randn(rng, k.t(), k.c()).toFloatArray();
        float[] plain = inputGradient(x0, k, ws, false);
        float[] checkpointed = inputGradient(x0, k, ws, true);
        for (int i = 0; i < plain.length; i++) {
          float tol = 1e-6f * Math.max(1f, Math.abs(plain[i]));
          assertEquals(plain[i], checkpointed[i], tol, "checkpointed vs plain gradient element " + i + ", " + k);
        }
      }
    });
  }

  private static float[] inputGradient(float[] x0, Case k, Tensor[] ws, boolean checkpoint) {
    Tensor x = Tensor.of(x0, k.t(), k.c()).requiresGrad(true);
    try (var g = GradMode.enable()) {
      Ops.sumAll(Ops.mul(stack(x, ws, checkpoint), stack(x, ws, checkpoint))).backward();
    }
    return x.grad().toFloatArray();
  }

  @Test
  void checkpointedStackPassesTheFiniteDifferenceCheck() {
    qt(0.5).forAll(cases()).checkAssert(k -> {
      try (Scope s = Scope.open()) {
        Random rng = new Random(k.seed());
        Tensor[] ws = weights(rng, k.layers(), k.c(), 4);
        Tensor x = Tensor.randn(rng, k.t(), k.c()).requiresGrad(true);
        Tensor w0 = ws[0].detach().requiresGrad(true); // a captured weight that requires grad is an input too
        GradCheck.check("checkpointed stack " + k, in -> {
          Tensor[] all = ws.clone();
          all[0] = in.get(1);
          Tensor h = in.get(0);
          for (int i = 0; i < k.layers(); i++) {
            Tensor w1 = all[2 * i];
            Tensor w2 = all[2 * i + 1];
            h = Checkpoint.apply("block" + i, a -> block(a[0], a[1], w2), h, w1);
          }
          return h;
        }, List.of(x, w0), 1e-3, 2e-3, 2e-2);
      }
    });
  }

  @Test
  void theCallersScopeHoldsOnlyTheBoundaries() {
    Random rng = new Random(7);
    int layers = 6;
    int t = 64;
    int c = 32;
    int hidden = 256;
    Tensor[] ws = weights(rng, layers, c, hidden);
    long[] used = new long[2];
    for (int mode = 0; mode < 2; mode++) {
      try (Scope s = Scope.open(); var g = GradMode.enable()) {
        Tensor x = Tensor.randn(rng, t, c).requiresGrad(true);
        Ops.sumAll(stack(x, ws, mode == 1)).backward();
        used[mode] = s.allocatedBytes();
      }
    }
    // Per block, plain autograd keeps [T, hidden] logits, probabilities, tanh input and output
    // (4 * 64 KB); checkpointing keeps the block's output and its input gradient ([T, C], 8 KB each).
    long boundaries = 2L * layers * t * c * Float.BYTES;
    assertTrue(used[1] < used[0] / 4, "checkpointed " + used[1] + " bytes vs plain " + used[0]);
    assertTrue(used[1] < 4 * boundaries + 64 * 1024, "checkpointed " + used[1] + " bytes vs boundaries " + boundaries);
  }

  @Test
  void offWithoutGradModeOrWithoutInputsThatRequireGrad() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.randn(new Random(1), 3, 3);
      try (var c = Checkpoint.enable()) {
        assertFalse(Checkpoint.isEnabled(), "checkpointing only matters in grad mode");
        try (var g = GradMode.enable()) {
          assertTrue(Checkpoint.isEnabled());
          Tensor y = Checkpoint.apply("plain", in -> Ops.tanh(in[0]), x);
          assertNull(y.gradFn(), "no input requires grad: nothing recorded");
          Tensor z = Checkpoint.apply("recorded", in -> Ops.tanh(in[0]), x.detach().requiresGrad(true));
          assertEquals("checkpoint(recorded)", z.gradFn().name());
        }
      }
      assertFalse(Checkpoint.isEnabled());
    }
  }

  @Test
  void aSegmentThatChangesShapeOnReplayIsATypedError() {
    try (Scope s = Scope.open(); var g = GradMode.enable()) {
      int[] calls = {0};
      Tensor x = Tensor.randn(new Random(2), 4).requiresGrad(true);
      Tensor y = Checkpoint.apply("unstable", in -> calls[0]++ == 0 ? Ops.tanh(in[0]) : Ops.tanh(in[0].narrow(0, 0, 2)), x);
      TensorException e = assertThrows(TensorException.class, () -> Ops.sumAll(y).backward());
      assertTrue(e.getMessage().contains("checkpoint(unstable)"), e.getMessage());
    }
  }
}
