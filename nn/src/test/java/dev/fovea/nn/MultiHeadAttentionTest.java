package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * MultiHeadAttention against a naive double-precision reference written out here with loops
 * (projections, RoPE, GQA head mapping, bias broadcasting, causal offset, softmax, output
 * projection), on both the fused path (no hook) and the explicit path (a no-op hook).
 */
class MultiHeadAttentionTest {
  private static final double TOL = 2e-5;

  @Test
  void selfAttentionClip() {
    check(MultiHeadAttention.Config.of(12, 4), null, 2, 5, 5, null, null);
  }

  @Test
  void causalSelfAttention() {
    check(MultiHeadAttention.Config.of(12, 3).withCausal(true), null, 2, 6, 6, null, null);
  }

  @Test
  void crossAttentionWithOtherWidth() {
    check(MultiHeadAttention.Config.of(12, 4).withKvInputDim(7), null, 2, 3, 8, null, null);
  }

  @Test
  void causalCrossAttentionOffsetsQueriesToTheEnd() {
    // queries are the last Tq positions of Tk (decoding with a prefix)
    check(MultiHeadAttention.Config.of(8, 2).withKvInputDim(8).withCausal(true), null, 1, 3, 7, null, null);
  }

  @Test
  void groupedQueryAttentionLlamaStyle() {
    check(MultiHeadAttention.Config.llama(16, 4, 2), null, 2, 5, 5, null, null);
    check(MultiHeadAttention.Config.llama(16, 4, 1).withCausal(false), null, 1, 4, 4, null, null);
  }

  @Test
  void paddingMaskAndArbitraryPerKeyBias() {
    Random rng = new Random(7);
    Tensor pad = Masks.padding(6, 6, 3); // second sequence: keys 3..5 masked
    check(MultiHeadAttention.Config.of(12, 4), null, 2, 6, 6, pad, null);
    Tensor perKey = Tensor.randn(rng, 2, 4, 6, 6); // full [B, H, Tq, Tk] bias
    check(MultiHeadAttention.Config.of(12, 4).withCausal(true), null, 2, 6, 6, perKey, null);
    Tensor perHead = Tensor.randn(rng, 1, 4, 1, 6); // broadcast over batch and queries
    check(MultiHeadAttention.Config.llama(16, 4, 2), null, 2, 6, 6, perHead, null);
  }

  @Test
  void rotaryHalfSplitAndInterleavedWithGqa() {
    Tensor pos = Tensor.ofInts(new int[] {3, 4, 5, 6, 7}, 5);
    check(MultiHeadAttention.Config.llama(16, 4, 2), new Rope(10000, false), 2, 5, 5, null, pos);
    check(MultiHeadAttention.Config.llama(16, 4, 2), new Rope(100, true), 1, 5, 5, null, pos);
    Tensor batchPos = Tensor.ofInts(new int[] {0, 1, 2, 3, 9, 10, 11, 12}, 2, 4);
    check(MultiHeadAttention.Config.llama(16, 2, 2), new Rope(10000, false), 2, 4, 4, null, batchPos);
  }

  @Test
  void errorsNameTheLayer() {
    var enc = new Encoder(EncoderLayer.Config.clip(8, 2, 16), 1);
    enc.initRandom(1);
    var e = assertThrows(ShapeException.class, () -> enc.forward(Tensor.zeros(1, 3, 9)));
    assertTrue(e.getMessage().contains("layers.0.layer_norm1"), e.getMessage());
    var attn = enc.layers.get(0).selfAttn;
    var e2 = assertThrows(ShapeException.class, () -> attn.forward(Tensor.zeros(1, 3, 8), null, Tensor.zeros(1, 1, 1, 4), null));
    assertTrue(e2.getMessage().contains("layers.0.self_attn") && e2.getMessage().contains("[1, 1, 1, 4]") || e2.getMessage().contains("bias"), e2.getMessage());
  }

  // ------------------------------------------------------------------ harness

  /** The rotary convention under test. */
  record Rope(double theta, boolean interleaved) {
    RotaryEmbedding module() {
      return interleaved ? RotaryEmbedding.interleaved(theta) : RotaryEmbedding.halfSplit(theta);
    }
  }

  private static void check(MultiHeadAttention.Config cfg, Rope rope, int b, int tq, int tk, Tensor bias, Tensor pos) {
    boolean self = cfg.kvInputDim() == cfg.embedDim() && tq == tk && !isCross(cfg, tq, tk);
    var attn = new MultiHeadAttention(cfg, rope == null ? null : rope.module());
    attn.initRandom(11);
    Random rng = new Random(5);
    Tensor x = Tensor.randn(rng, b, tq, cfg.embedDim());
    Tensor ctx = self ? null : Tensor.randn(rng, b, tk, cfg.kvInputDim());
    double[] expected = naive(attn, rope, x, ctx, bias, pos);
    float[] fused = attn.forward(x, ctx, bias, pos).toFloatArray();
    float[] explicit;
    try (var h = attn.addAttentionHook(new AttentionHook() {})) {
      explicit = attn.forward(x, ctx, bias, pos).toFloatArray();
    }
    assertClose(expected, fused, "fused " + cfg);
    assertClose(expected, explicit, "explicit " + cfg);
  }

  private static boolean isCross(MultiHeadAttention.Config cfg, int tq, int tk) {
    return cfg.kvInputDim() != cfg.embedDim() || tq != tk;
  }

  private static void assertClose(double[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.abs(expected[i] - actual[i]);
      if (!(e <= worst)) {
        worst = e;
        at = i;
      }
    }
    assertTrue(worst <= TOL, what + ": max |err| " + worst + " at " + at + " (expected " + (at < 0 ? "" : expected[at] + ", got " + actual[at]) + ")");
  }

  /** The reference: every step in double with explicit loops. */
  static double[] naive(MultiHeadAttention m, Rope rope, Tensor x, Tensor context, Tensor bias, Tensor pos) {
    var c = m.config;
    int B = x.size(0);
    int Tq = x.size(1);
    Tensor src = context == null ? x : context;
    int Tk = src.size(1);
    int H = c.heads();
    int Hkv = c.kvHeads();
    int D = c.headDim();
    double[][][] q = project(x, m.qProj);
    double[][][] k = project(src, m.kProj);
    double[][][] v = project(src, m.vProj);
    if (rope != null) {
      Tensor p = pos != null ? pos : Tensor.ofInts(java.util.stream.IntStream.range(0, Tq).toArray(), Tq);
      rotate(q, H, D, p, rope);
      if (context == null) {
        rotate(k, Hkv, D, p, rope);
      }
    }
    double scale = 1.0 / Math.sqrt(D);
    double[][][] o = new double[B][Tq][H * D];
    for (int b = 0; b < B; b++) {
      for (int h = 0; h < H; h++) {
        int g = h / (H / Hkv); // GQA: query head h reads kv head g
        for (int i = 0; i < Tq; i++) {
          double[] s = new double[Tk];
          double max = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < Tk; j++) {
            double dot = 0;
            for (int d = 0; d < D; d++) {
              dot += q[b][i][h * D + d] * k[b][j][g * D + d];
            }
            s[j] = dot * scale + (bias == null ? 0 : biasAt(bias, b, h, i, j));
            if (c.causal() && j > i + (Tk - Tq)) {
              s[j] = Double.NEGATIVE_INFINITY;
            }
            max = Math.max(max, s[j]);
          }
          double sum = 0;
          for (int j = 0; j < Tk; j++) {
            s[j] = s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
            sum += s[j];
          }
          for (int d = 0; d < D; d++) {
            double acc = 0;
            for (int j = 0; j < Tk; j++) {
              acc += s[j] / sum * v[b][j][g * D + d];
            }
            o[b][i][h * D + d] = acc;
          }
        }
      }
    }
    double[][] wo = matrix(m.outProj.weight.get());
    double[] bo = m.outProj.bias == null ? null : vector(m.outProj.bias.get());
    int C = c.embedDim();
    double[] out = new double[B * Tq * C];
    for (int b = 0; b < B; b++) {
      for (int i = 0; i < Tq; i++) {
        for (int n = 0; n < C; n++) {
          double acc = bo == null ? 0 : bo[n];
          for (int p = 0; p < H * D; p++) {
            acc += o[b][i][p] * wo[n][p];
          }
          out[(b * Tq + i) * C + n] = acc;
        }
      }
    }
    return out;
  }

  /** RoPE in double from the definition, with the angle p * inv_freq formed in float32 as HF does. */
  private static void rotate(double[][][] t, int heads, int D, Tensor pos, Rope rope) {
    boolean interleaved = rope.interleaved();
    int B = t.length;
    int T = t[0].length;
    for (int b = 0; b < B; b++) {
      for (int i = 0; i < T; i++) {
        long p = pos.dim() == 1 ? pos.getLong(i) : pos.getLong(b, i);
        for (int h = 0; h < heads; h++) {
          for (int f = 0; f < D / 2; f++) {
            float inv = (float) (1.0 / Math.pow(rope.theta(), (2.0 * f) / D));
            double a = (float) (p * inv);
            int i1 = interleaved ? 2 * f : f;
            int i2 = interleaved ? 2 * f + 1 : f + D / 2;
            double x1 = t[b][i][h * D + i1];
            double x2 = t[b][i][h * D + i2];
            t[b][i][h * D + i1] = x1 * Math.cos(a) - x2 * Math.sin(a);
            t[b][i][h * D + i2] = x2 * Math.cos(a) + x1 * Math.sin(a);
          }
        }
      }
    }
  }

  private static double biasAt(Tensor bias, int b, int h, int i, int j) {
    int[] s = bias.shape();
    int off = 4 - s.length;
    int[] full = {b, h, i, j};
    int[] idx = new int[s.length];
    for (int d = 0; d < s.length; d++) {
      idx[d] = s[d] == 1 ? 0 : full[d + off];
    }
    return bias.get(idx);
  }

  private static double[][][] project(Tensor x, Linear lin) {
    double[][] w = matrix(lin.weight.get());
    double[] bias = lin.bias == null ? null : vector(lin.bias.get());
    int B = x.size(0);
    int T = x.size(1);
    int in = x.size(2);
    double[][][] y = new double[B][T][w.length];
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        for (int n = 0; n < w.length; n++) {
          double acc = bias == null ? 0 : bias[n];
          for (int p = 0; p < in; p++) {
            acc += x.get(b, t, p) * w[n][p];
          }
          y[b][t][n] = acc;
        }
      }
    }
    return y;
  }

  static double[][] matrix(Tensor t) {
    double[][] m = new double[t.size(0)][t.size(1)];
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < m[0].length; j++) {
        m[i][j] = t.get(i, j);
      }
    }
    return m;
  }

  static double[] vector(Tensor t) {
    double[] v = new double[t.size(0)];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.get(i);
    }
    return v;
  }
}
