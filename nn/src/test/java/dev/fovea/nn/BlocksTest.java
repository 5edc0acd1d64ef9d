package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The smaller blocks against double-precision loops: PatchEmbed, GatedMLP, RMSNorm, Embedding. */
class BlocksTest {
  @Test
  void patchEmbedIsAStridedConvInRowMajorPatchOrder() {
    var pe = new PatchEmbed(3, 5, 2, true);
    pe.initRandom(1);
    Tensor px = Tensor.randn(new Random(2), 2, 3, 4, 6);
    Tensor y = pe.forward(px); // [2, 6, 5]
    assertArrayEquals(new int[] {2, 6, 5}, y.shape());
    Tensor w = pe.weight.get();
    for (int b = 0; b < 2; b++) {
      for (int gy = 0; gy < 2; gy++) {
        for (int gx = 0; gx < 3; gx++) {
          for (int o = 0; o < 5; o++) {
            double acc = pe.bias.get().get(o);
            for (int c = 0; c < 3; c++) {
              for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                  acc += w.get(o, c, i, j) * px.get(b, c, gy * 2 + i, gx * 2 + j);
                }
              }
            }
            assertEquals(acc, y.get(b, gy * 3 + gx, o), 1e-5);
          }
        }
      }
    }
  }

  @Test
  void gatedMlpAndRmsNorm() {
    var mlp = new GatedMLP(6, 10);
    mlp.initRandom(3);
    var norm = new RMSNorm(6, 1e-5f);
    norm.initRandom(4);
    Tensor x = Tensor.randn(new Random(5), 3, 6);
    Tensor y = mlp.forward(norm.forward(x));
    double[][] g = MultiHeadAttentionTest.matrix(mlp.gateProj.weight.get());
    double[][] u = MultiHeadAttentionTest.matrix(mlp.upProj.weight.get());
    double[][] d = MultiHeadAttentionTest.matrix(mlp.downProj.weight.get());
    for (int r = 0; r < 3; r++) {
      double ms = 0;
      for (int c = 0; c < 6; c++) {
        ms += x.get(r, c) * x.get(r, c) / 6;
      }
      double[] n = new double[6];
      for (int c = 0; c < 6; c++) {
        n[c] = x.get(r, c) / Math.sqrt(ms + 1e-5) * norm.weight.get().get(c);
      }
      double[] h = new double[10];
      for (int k = 0; k < 10; k++) {
        double a = 0;
        double b = 0;
        for (int c = 0; c < 6; c++) {
          a += g[k][c] * n[c];
          b += u[k][c] * n[c];
        }
        h[k] = a / (1 + Math.exp(-a)) * b; // silu(gate) * up
      }
      for (int c = 0; c < 6; c++) {
        double o = 0;
        for (int k = 0; k < 10; k++) {
          o += d[c][k] * h[k];
        }
        assertEquals(o, y.get(r, c), 1e-5);
      }
    }
  }

  @Test
  void embeddingAndTreePrinting() {
    var e = new Embedding(7, 3);
    e.initRandom(6);
    Tensor y = e.forward(Tensor.ofInts(new int[] {4, 0, 4}, 3));
    assertArrayEquals(new float[] {e.weight.get().get(4, 1), e.weight.get().get(0, 2)}, new float[] {y.get(0, 1), y.get(1, 2)});
    String tree = new Encoder(EncoderLayer.Config.clip(8, 2, 16), 1).toString();
    assertTrue(tree.contains("self_attn: MultiHeadAttention(heads=2") && tree.contains("q_proj: Linear(in=8, out=8, bias=true)"), tree);
    assertThrows(TensorException.class, () -> Activation.fromConfig("gelu_erf_typo"));
    assertEquals(Activation.GELU_TANH, Activation.fromConfig("gelu_pytorch_tanh"));
  }
}
