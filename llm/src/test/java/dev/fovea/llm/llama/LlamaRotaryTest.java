package dev.fovea.llm.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The cos/sin rows LlamaRotary hands to the rope op, for runs of consecutive positions (taken as
 * rows of the cached tables, no gather) and for any other positions (gathered), against the
 * table Hugging Face's formula gives: cos/sin of the float32 angle p * inv_freq_i, inv_freq_i =
 * float32(1 / theta^(2i/D)). Exact equality (tolerance 0): both sides round the same float angle.
 */
class LlamaRotaryTest {
  @Test
  void consecutiveAndScatteredPositionsGiveTheFormulasRows() throws Exception {
    LlamaConfig c = LlamaConfig.fromJson(new ObjectMapper().readTree("""
        {"model_type": "llama", "hidden_size": 32, "num_attention_heads": 2, "num_key_value_heads": 1,
         "num_hidden_layers": 1, "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 16,
         "rope_theta": 10000.0, "rms_norm_eps": 1e-6}"""), "inline");
    LlamaRotary r = new LlamaRotary(c);
    int half = c.headDim() / 2;
    try (Scope s = Scope.open()) {
      // [T] consecutive, [1, T] consecutive, [T] scattered, [2, T] (batch: gathered), past the
      // configured maximum (the tables grow)
      check(r, Tensor.ofLongs(new long[] {5, 6, 7}, 3), half, new long[] {5, 6, 7}, new int[] {3, half});
      check(r, Tensor.ofLongs(new long[] {0, 1}, 1, 2), half, new long[] {0, 1}, new int[] {1, 1, 2, half});
      check(r, Tensor.ofLongs(new long[] {3, 9, 4}, 3), half, new long[] {3, 9, 4}, new int[] {3, half});
      check(r, Tensor.ofLongs(new long[] {2, 3, 0, 1}, 2, 2), half, new long[] {2, 3, 0, 1}, new int[] {2, 1, 2, half});
      check(r, Tensor.ofLongs(new long[] {9000}, 1), half, new long[] {9000}, new int[] {1, half});
    }
  }

  private static void check(LlamaRotary r, Tensor positions, int half, long[] ps, int[] shape) {
    Tensor[] cs = r.tables(positions);
    for (int t = 0; t < 2; t++) {
      assertArrayEquals(shape, cs[t].shape(), "shape of " + (t == 0 ? "cos" : "sin"));
      float[] got = cs[t].contiguous().toFloatArray();
      assertEquals(ps.length * half, got.length);
      for (int j = 0; j < ps.length; j++) {
        for (int i = 0; i < half; i++) {
          float inv = (float) (1.0 / Math.pow(10000.0, (2.0 * i) / (2 * half)));
          float a = ps[j] * inv;
          float want = (float) (t == 0 ? Math.cos(a) : Math.sin(a));
          assertEquals(want, got[j * half + i], 0f, (t == 0 ? "cos" : "sin") + " at position " + ps[j] + ", i " + i);
        }
      }
    }
  }
}
