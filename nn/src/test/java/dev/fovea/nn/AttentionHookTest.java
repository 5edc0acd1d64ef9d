package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.GradMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Attention hooks on a two-layer CLIP-style encoder with seeded random weights: reading the
 * probabilities, masking a key through the bias, d(output)/d(probabilities) against finite
 * differences, and removal restoring the plain (fused) path exactly.
 */
class AttentionHookTest {
  static final int B = 2;
  static final int T = 6;
  static final int C = 16;
  static final int H = 4;

  static Encoder model() {
    var m = new Encoder(EncoderLayer.Config.clip(C, H, 32), 2);
    m.initRandom(42);
    return m;
  }

  static Tensor input() {
    return Tensor.randn(new Random(3), B, T, C);
  }

  @Test
  void probabilitiesAreRowDistributionsWithContext() {
    var m = model();
    Map<Integer, Tensor> seen = new HashMap<>();
    List<AttentionContext> ctxs = new ArrayList<>();
    try (var h = m.addAttentionHook(AttentionHook.reading((ctx, p) -> {
      seen.put(ctx.layerIndex(), p);
      ctxs.add(ctx);
    }))) {
      m.forward(input());
    }
    assertEquals(2, seen.size());
    assertEquals("layers.0.self_attn", ctxs.get(0).path());
    assertEquals("layers.1.self_attn", ctxs.get(1).path());
    assertEquals(1, ctxs.get(1).layerIndex());
    for (Tensor p : seen.values()) {
      assertArrayEquals(new int[] {B, H, T, T}, p.shape());
      assertRowsAreDistributions(p);
    }
  }

  @Test
  void maskingAKeyZeroesItsProbabilityAndChangesTheOutput() {
    var m = model();
    Tensor x = input();
    float[] plain = m.forward(x).toFloatArray();
    int masked = 2;
    Tensor[] kept = new Tensor[1];
    AttentionHook maskAndRead = new AttentionHook() {
      @Override
      public Tensor biasBeforeSoftmax(AttentionContext ctx) {
        return Masks.maskKeys(ctx.keys(), masked); // [1, 1, 1, Tk]
      }

      @Override
      public Tensor onProbabilities(AttentionContext ctx, Tensor probs) {
        kept[0] = probs;
        return null;
      }
    };
    float[] out;
    try (var h = m.addAttentionHook("layers.1", maskAndRead)) {
      out = m.forward(x).toFloatArray();
    }
    Tensor p = kept[0];
    for (int b = 0; b < B; b++) {
      for (int hh = 0; hh < H; hh++) {
        for (int i = 0; i < T; i++) {
          assertEquals(0f, p.get(b, hh, i, masked), "masked key must get probability 0");
        }
      }
    }
    assertRowsAreDistributions(p);
    double diff = 0;
    for (int i = 0; i < out.length; i++) {
      diff = Math.max(diff, Math.abs(out[i] - plain[i]));
    }
    assertTrue(diff > 1e-3, "masking a key must change the output (max diff " + diff + ")");
    // and with the hook gone the output is the plain one again
    assertArrayEquals(plain, m.forward(x).toFloatArray());
  }

  @Test
  void gradientWithRespectToProbabilitiesMatchesFiniteDifferences() {
    for (int layer = 0; layer < 2; layer++) {
      checkProbGradient(layer);
    }
  }

  private void checkProbGradient(int layer) {
    var m = model();
    Tensor x = input();
    Random rng = new Random(9);
    float[] w = new float[B * T * C];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rng.nextGaussian();
    }
    Tensor weights = Tensor.of(w, B, T, C);
    String path = "layers." + layer + ".self_attn";
    // analytic: retain the probabilities' gradient, backward on sum(output * weights)
    Tensor grad;
    try (var scope = Scope.open(); var g = GradMode.enable()) {
      Tensor xl = x.copyTo(scope).requiresGrad(true);
      Tensor[] probs = new Tensor[1];
      try (var h = m.addAttentionHook(path, AttentionHook.reading((ctx, p) -> probs[0] = p.retainGrad()))) {
        Tensor out = m.forward(xl);
        Ops.sumAll(Ops.mul(out, weights)).backward();
      }
      assertNotNull(probs[0].grad(), "probabilities of " + path + " must receive a gradient");
      grad = probs[0].grad().copyTo(Scope.global());
    }
    // numeric: a hook adds +-eps at one element of the probabilities; the loss is formed in double
    double eps = 1e-2;
    int n = B * H * T * T;
    double worst = 0;
    double largest = 0;
    for (int trial = 0; trial < 24; trial++) {
      int idx = rng.nextInt(n);
      double plus = loss(m, x, w, path, idx, eps);
      double minus = loss(m, x, w, path, idx, -eps);
      double numeric = (plus - minus) / (2 * eps);
      int[] at = {idx / (H * T * T), idx / (T * T) % H, idx / T % T, idx % T};
      double analytic = grad.get(at);
      double err = Math.abs(analytic - numeric);
      worst = Math.max(worst, err);
      largest = Math.max(largest, Math.abs(numeric));
      assertTrue(err <= 5e-3 + 1e-2 * Math.abs(numeric),
          path + ": d(loss)/d(probs" + java.util.Arrays.toString(at) + "): analytic " + analytic + " vs numeric " + numeric);
    }
    System.out.println(path + ": 24 probes, largest |d loss/d p| " + largest + ", worst |analytic - numeric| " + worst);
    assertTrue(largest > 0.1, "the probed gradients should not all vanish (largest " + largest + ")");
  }

  private static double loss(Encoder m, Tensor x, float[] w, String path, int idx, double delta) {
    float[] d = new float[B * H * T * T];
    d[idx] = (float) delta;
    try (var scope = Scope.open();
        var h = m.addAttentionHook(path, AttentionHook.replacing((ctx, p) -> Ops.add(p, Tensor.of(d, B, H, T, T))))) {
      float[] y = m.forward(x).toFloatArray();
      double s = 0;
      for (int i = 0; i < y.length; i++) {
        s += (double) y[i] * w[i];
      }
      return s;
    }
  }

  @Test
  void removingTheHookGivesBitIdenticalOutputToANeverHookedModel() {
    Tensor x = input();
    var m = model();
    // Warm the kernels first: the Vector API's lanewise exp (quick_gelu) may round differently
    // before and after C2 compiles it, and this test compares bits.
    for (int i = 0; i < 200; i++) {
      try (var s = Scope.open()) {
        m.forward(x);
      }
    }
    float[] never = model().forward(x).toFloatArray();
    var h1 = m.addAttentionHook(AttentionHook.biasing(ctx -> Masks.maskKeys(ctx.keys(), 0)));
    var h2 = m.addAttentionHook("layers.0.self_attn", AttentionHook.reading((ctx, p) -> {}));
    var f = m.addForwardHook("layers.1.mlp", (path, mod, in, out) -> Ops.mulScalar(out, 2f));
    m.forward(x);
    h1.close();
    h2.remove();
    f.close();
    h1.close(); // idempotent
    for (var layer : m.layers) {
      assertFalse(layer.selfAttn.hasAttentionHooks());
    }
    assertArrayEquals(never, m.forward(x).toFloatArray());
  }

  @Test
  void fusedAndExplicitPathsAgree() {
    var m = model();
    Tensor x = input();
    float[] fused = m.forward(x).toFloatArray();
    float[] explicit;
    try (var h = m.addAttentionHook(new AttentionHook() {})) {
      explicit = m.forward(x).toFloatArray();
    }
    for (int i = 0; i < fused.length; i++) {
      assertEquals(fused[i], explicit[i], 2e-5, "element " + i);
    }
  }

  @Test
  void onlyHookedLayersMaterializeProbabilities() {
    var m = model();
    Tensor x = input();
    long plain;
    long oneHooked;
    long probsBytes = (long) B * H * T * T * 4;
    try (var s = Scope.open()) {
      m.forward(x);
      plain = s.allocatedBytes();
    }
    try (var s = Scope.open(); var h = m.addAttentionHook("layers.1", new AttentionHook() {})) {
      m.forward(x);
      oneHooked = s.allocatedBytes();
    }
    // the fused path allocates no [B, H, Tq, Tk] tensor; the explicit path at least scores and probabilities
    assertTrue(plain < oneHooked - 2 * probsBytes, "plain " + plain + " bytes vs hooked " + oneHooked);
  }

  @Test
  void hookErrorsNameTheLayer() {
    var m = model();
    var e = assertThrows(TensorException.class, () -> m.addAttentionHook("layers.0.mlp", new AttentionHook() {}));
    assertTrue(e.getMessage().contains("layers.0.mlp"), e.getMessage());
    try (var h = m.addAttentionHook(AttentionHook.biasing(ctx -> Tensor.zeros(1, 1, 1, ctx.keys() + 1)))) {
      var e2 = assertThrows(TensorException.class, () -> m.forward(input()));
      assertTrue(e2.getMessage().contains("layers.0.self_attn") && e2.getMessage().contains("[1, 1, 1, 7]"), e2.getMessage());
    }
    try (var h = m.addAttentionHook(AttentionHook.replacing((ctx, p) -> p.slice(3, 0, 2)))) {
      var e3 = assertThrows(TensorException.class, () -> m.forward(input()));
      assertTrue(e3.getMessage().contains("layers.0.self_attn") && e3.getMessage().contains("replaced"), e3.getMessage());
    }
  }

  static void assertRowsAreDistributions(Tensor p) {
    int[] s = p.shape();
    for (int b = 0; b < s[0]; b++) {
      for (int h = 0; h < s[1]; h++) {
        for (int i = 0; i < s[2]; i++) {
          double sum = 0;
          for (int j = 0; j < s[3]; j++) {
            float v = p.get(b, h, i, j);
            assertTrue(v >= 0 && v <= 1, "probability " + v);
            sum += v;
          }
          assertEquals(1.0, sum, 1e-5, "row " + b + "," + h + "," + i);
        }
      }
    }
  }
}
