package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Forward hooks: read and replace a module's output by path; removal restores the plain output. */
class ForwardHookTest {
  @Test
  void readsInputsAndOutputByPath() {
    var m = AttentionHookTest.model();
    Tensor x = AttentionHookTest.input();
    List<String> paths = new ArrayList<>();
    Tensor[] seen = new Tensor[2];
    try (var h = m.addForwardHook("layers.0.mlp.fc1", (path, mod, in, out) -> {
      paths.add(path);
      assertSame(m.layers.get(0).mlp.fc1, mod);
      seen[0] = in.get(0);
      seen[1] = out;
      return null;
    })) {
      m.forward(x);
    }
    assertEquals(List.of("layers.0.mlp.fc1"), paths);
    assertArrayEquals(new int[] {AttentionHookTest.B, AttentionHookTest.T, 32}, seen[1].shape());
    // the output is fc1 of the input the hook saw
    var fc1 = m.layers.get(0).mlp.fc1;
    assertArrayEquals(Ops.linear(seen[0], fc1.weight.get(), fc1.bias.get()).toFloatArray(), seen[1].toFloatArray());
  }

  /**
   * Layers computed together (q/k/v of self attention, gate/up of a gated MLP: one GEMV pass for a
   * single row) still run each layer's hooks: a hook on v_proj sees the decode-step row and its
   * v_proj output, and one on up_proj that zeroes it zeroes the MLP's output.
   */
  @Test
  void hooksOnLayersComputedTogetherStillRun() {
    var attn = new MultiHeadAttention(new MultiHeadAttention.Config(16, 16, 4, 2, 4, false, true, "o_proj", true));
    attn.initRandom(3);
    Tensor x = Tensor.randn(new java.util.Random(4), 1, 1, 16);
    Tensor[] seen = new Tensor[2];
    try (var h = attn.addForwardHook("v_proj", (path, mod, in, out) -> {
      seen[0] = in.get(0);
      seen[1] = out;
      return null;
    })) {
      attn.forward(x);
    }
    assertSame(x, seen[0]);
    assertArrayEquals(Ops.linear(x, attn.vProj.weight.get(), null).toFloatArray(), seen[1].toFloatArray());

    var mlp = new GatedMLP(16, 24);
    mlp.initRandom(5);
    try (var h = mlp.addForwardHook("up_proj", (path, mod, in, out) -> Ops.mulScalar(out, 0f))) {
      for (float v : mlp.forward(x).toFloatArray()) {
        assertEquals(0f, Math.abs(v));
      }
    }
    Tensor gate = Ops.linear(x, mlp.gateProj.weight.get(), null);
    Tensor up = Ops.linear(x, mlp.upProj.weight.get(), null);
    Tensor want = Ops.linear(Ops.mul(Ops.silu(gate), up), mlp.downProj.weight.get(), null);
    assertArrayEquals(want.toFloatArray(), mlp.forward(x).toFloatArray());
  }

  @Test
  void replacesAnOutputAndRemovalRestores() {
    var m = AttentionHookTest.model();
    Tensor x = AttentionHookTest.input();
    float[] plain = m.forward(x).toFloatArray();
    float[] skipped;
    // replace layer 0's output by its input: the stack then computes layer 1 alone
    try (var h = m.addForwardHook("layers.0", (path, mod, in, out) -> in.get(0))) {
      skipped = m.forward(x).toFloatArray();
    }
    assertArrayEquals(m.layers.get(1).forward(x).toFloatArray(), skipped);
    assertArrayEquals(plain, m.forward(x).toFloatArray());
  }

  @Test
  void hooksChainInOrderAndMatchByPredicate() {
    var m = AttentionHookTest.model();
    Tensor x = AttentionHookTest.input();
    float[] plain = m.forward(x).toFloatArray();
    try (var a = m.addForwardHook("", (p, mod, in, out) -> Ops.mulScalar(out, 2f));
        var b = m.addForwardHook("", (p, mod, in, out) -> Ops.addScalar(out, 1f))) {
      float[] y = m.forward(x).toFloatArray();
      for (int i = 0; i < y.length; i++) {
        assertEquals(plain[i] * 2f + 1f, y[i], 1e-5);
      }
    }
    List<String> linears = new ArrayList<>();
    try (var h = m.addForwardHook(p -> m.module(p) instanceof Linear, ForwardHook.reading((p, out) -> linears.add(p)))) {
      m.forward(x);
    }
    assertEquals(12, linears.size());
    assertEquals("layers.0.self_attn.q_proj", linears.get(0));
    assertEquals("layers.1.mlp.fc2", linears.get(11));
  }

  @Test
  void unknownPathNamesTheClosestModule() {
    var m = AttentionHookTest.model();
    var e = assertThrows(TensorException.class, () -> m.addForwardHook("layers.7.mlp", (p, mod, in, out) -> null));
    assertTrue(e.getMessage().contains("layers.7.mlp") && e.getMessage().contains("'layers' exists with children [0, 1]"), e.getMessage());
  }
}
