package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;

import dev.fovea.tensor.Check;
import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Naive;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.quicktheories.generators.SourceDSL;

/**
 * Scaled dot-product attention: both paths (fused, and explicit with probabilities) against the
 * naive kernel, with broadcast biases, causal masks with Tq != Tk, grouped-query heads and
 * non-contiguous q/k/v; the two paths against each other; gradients of q, k, v, bias and of the
 * probabilities.
 *
 * <p>Forward tolerance: |err| &lt;= 2e-5 + 1e-4 |want| against the naive kernel (scores carry
 * float error ~ D ulp |q||k|, amplified by |v|); fused vs explicit the same bound.
 */
class AttentionTest {

  record Case(Gens.View q, Gens.View k, Gens.View v, Gens.View bias, boolean causal, float scale) {
    String what() {
      return "q " + q + " k " + k + " v " + v + " bias " + bias + " causal " + causal;
    }
  }

  static Case randomCase(Random rng, int d) {
    int b = 1 + rng.nextInt(2);
    int hkv = 1 + rng.nextInt(2);
    int h = hkv * (1 + rng.nextInt(3));
    int tq = 1 + rng.nextInt(12);
    int tk = rng.nextBoolean() ? tq : 1 + rng.nextInt(20);
    Gens.View q = Gens.view(rng, new int[] {b, h, tq, d}, true);
    Gens.View k = Gens.view(rng, new int[] {b, hkv, tk, d}, true);
    Gens.View v = Gens.view(rng, new int[] {b, hkv, tk, d}, true);
    Gens.View bias = rng.nextBoolean() ? Gens.view(rng, ElementwiseTest.broadcastable(new int[] {b, h, tq, tk}, rng), true) : null;
    return new Case(q, k, v, bias, rng.nextBoolean(), (float) (1 / Math.sqrt(d)));
  }

  @Tag("kernel")
  @Test
  void bothPathsMatchNaive() {
    qt(0.5).forAll(Gens.size(), Gens.seeds()).checkAssert((d, seed) -> {
      try (var s = Scope.open()) {
        Case c = randomCase(new Random(seed), d);
        Tensor bias = c.bias == null ? null : c.bias.t();
        Naive.Arr want = Naive.attention(c.q.a(), c.k.a(), c.v.a(), c.bias == null ? null : c.bias.a(), c.causal, c.scale);
        Tensor fused = Ops.scaledDotProductAttention(c.q.t(), c.k.t(), c.v.t(), bias, c.causal, c.scale);
        Attention.Result explicit = Attention.attention(c.q.t(), c.k.t(), c.v.t(), bias, c.causal, c.scale, true);
        Check.close("fused attention " + c.what(), fused, want, 2e-5, 1e-4);
        Check.close("explicit attention " + c.what(), explicit.output(), want, 2e-5, 1e-4);
        Check.close("fused vs explicit attention " + c.what(), fused, Naive.Arr.of(explicit.output()), 2e-5, 1e-4);
      }
    });
  }

  /**
   * Gradients of q, k, v and the bias through the explicit path (grad mode picks it), with GQA
   * (H = 2 Hkv), causal masking with Tq &lt; Tk, and a transposed k; also the gradient of the
   * probabilities themselves. Smooth in all inputs: eps = 1e-2, |err| &lt;= 2e-3 + 1e-2 |numeric|.
   */
  @Test
  void attentionBackward() {
    qt(0.1).forAll(SourceDSL.booleans().all(), Gens.seeds()).checkAssert((causal, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int d = 1 + rng.nextInt(4);
        int tq = 1 + rng.nextInt(3);
        int tk = tq + rng.nextInt(3);
        Tensor q = Tensor.randn(rng, 1, 2, tq, d).requiresGrad(true);
        Tensor kT = Tensor.randn(rng, 1, 1, d, tk).requiresGrad(true);
        Tensor v = Tensor.randn(rng, 1, 1, tk, d).requiresGrad(true);
        Tensor bias = Tensor.randn(rng, 1, 1, tq, tk).requiresGrad(true);
        float scale = (float) (1 / Math.sqrt(d));
        GradCheck.check("sdpa (GQA 2:1, causal " + causal + ", Tq " + tq + ", Tk " + tk + ")",
            in -> Ops.scaledDotProductAttention(in.get(0), in.get(1).mT(), in.get(2), in.get(3), causal, scale),
            List.of(q, kT, v, bias), 1e-2, 2e-3, 1e-2);
        GradCheck.check("attention probabilities (GQA 2:1, causal " + causal + ")",
            in -> Attention.attention(in.get(0), in.get(1).mT(), in.get(2), in.get(3), causal, scale, true).probs(),
            List.of(q, kT, v, bias), 1e-2, 2e-3, 1e-2);
      }
    });
  }

  /**
   * Decode steps over keys stored as KvCache stores them, position-minor (K^T [D, cap] per kv head,
   * seen as [B, Hkv, len, D] with strides (.., .., 1, cap)): the fused kernel's key-major path against
   * the naive kernel. Head sizes with and without a remainder of eight K^T rows, context lengths
   * around the vector width (a masked last vector), GQA groups 1 to 10 (four-head value blocks and
   * the heads left over; from 8 on, register-tile scores for the fours and row blocks for the rest),
   * one to three queries, causal or not, with and without a bias. Tolerance as
   * above: |err| &lt;= 2e-5 + 1e-4 |want|. The same inputs on 1 and 2 threads give the same bits.
   */
  @Test
  void fusedDecodeOverPositionMinorKeys() {
    Random rng = new Random(21);
    int before = dev.fovea.tensor.cpu.Parallel.threads();
    try (var s = Scope.open()) {
      for (int d : new int[] {5, 16, 64, 72}) {
        for (int tk : new int[] {1, 7, 16, 17, 33, 130}) {
          for (int group : new int[] {1, 3, 4, 8, 10}) {
            int b = 1 + rng.nextInt(2);
            int hkv = 2;
            int tq = Math.min(tk, 1 + rng.nextInt(3));
            int cap = tk + rng.nextInt(9);
            Tensor kStore = Tensor.randn(rng, b, hkv, d, cap);
            Tensor k = kStore.transpose(2, 3).narrow(2, 0, tk);
            Tensor v = Tensor.randn(rng, b, hkv, cap, d).narrow(2, 0, tk);
            Tensor q = Tensor.randn(rng, b, hkv * group, tq, d);
            Tensor bias = rng.nextBoolean() ? Tensor.randn(rng, 1, hkv * group, tq, tk) : null;
            boolean causal = rng.nextBoolean();
            float scale = (float) (1 / Math.sqrt(d));
            String what = "D " + d + " Tk " + tk + " group " + group + " B " + b + " Tq " + tq + " causal " + causal + " bias " + (bias != null);
            Naive.Arr want = Naive.attention(Naive.Arr.of(q), Naive.Arr.of(k), Naive.Arr.of(v), bias == null ? null : Naive.Arr.of(bias), causal,
                scale);
            dev.fovea.tensor.cpu.Parallel.setThreads(1);
            Tensor one = Ops.scaledDotProductAttention(q, k, v, bias, causal, scale);
            Check.close("fused decode over position-minor keys, " + what, one, want, 2e-5, 1e-4);
            dev.fovea.tensor.cpu.Parallel.setThreads(2);
            Tensor two = Ops.scaledDotProductAttention(q, k, v, bias, causal, scale);
            org.junit.jupiter.api.Assertions.assertArrayEquals(one.toFloatArray(), two.toFloatArray(), "1 vs 2 threads, " + what);
          }
        }
      }
    } finally {
      dev.fovea.tensor.cpu.Parallel.setThreads(before);
    }
  }

  /**
   * Grouped-query attention on the fused path reads each kv head in place (query head h uses kv
   * head h / (H / Hkv)), here over a KV-cache-like view [B, Hkv, 0:len, D] of a larger buffer, and
   * equals the explicit path that repeats the heads.
   */
  @Test
  void fusedGroupedQueryAttentionOverACacheView() {
    try (var s = Scope.open()) {
      Random rng = new Random(11);
      Tensor cacheK = Tensor.randn(rng, 2, 2, 40, 16);
      Tensor cacheV = Tensor.randn(rng, 2, 2, 40, 16);
      for (int tq : new int[] {1, 5}) {
        Tensor q = Tensor.randn(rng, 2, 8, tq, 16);
        Tensor k = cacheK.narrow(2, 0, 23);
        Tensor v = cacheV.narrow(2, 0, 23);
        Tensor fused = Ops.scaledDotProductAttention(q, k, v, null, true, 0.25f);
        Attention.Result explicit = Attention.attention(q, k, v, null, true, 0.25f, true);
        Check.close("fused GQA over a cache view, Tq " + tq, fused, Naive.Arr.of(explicit.output()), 2e-5, 1e-4);
      }
    }
  }
}
