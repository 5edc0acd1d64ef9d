package dev.fovea.vit.clip;

import static dev.fovea.vit.clip.ClipReference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The gradient of one image-text logit, logits_per_image[0, 1], with respect to the pixels and to
 * every layer's attention probabilities of both towers, against torch's (retain_grad). The
 * probabilities are taken with a plain nn attention hook that calls retainGrad(), as a method would
 * (torch made the weights require grad; here a forward hook makes the text embeddings a leaf).
 * Tolerance: max|a-b| &lt;= atol + rtol*|b| with rtol 1e-4 and atol = 1e-5 * max|b| of the tensor
 * (gradients are sums over the whole forward; float32 noise grows with depth).
 */
class ClipGradientTest {
  static final double RTOL = 1e-4;

  static void check(String model) {
    try (ClipReference ref = new ClipReference(model); ClipModel.Loaded m = ClipModel.open(ref.folder());
        Scope s = Scope.open(); GradMode.Guard g = GradMode.enable()) {
      Map<String, Tensor> probs = new TreeMap<>();
      Tensor pixels = ref.get("images", "pixel_values").contiguous().copyTo(Scope.current()).requiresGrad(true);
      // the text tower has no input that requires grad (ids are integers, weights are constants): a
      // forward hook turns its embeddings into a leaf, so its attention probabilities join the graph
      try (HookHandle leaf = m.model().addForwardHook("text_model.embeddings", (path, mod, in, y) -> y.detach().requiresGrad(true));
          HookHandle h = m.model().addAttentionHook(AttentionHook.reading((ctx, p) -> {
        String tower = ctx.path().startsWith("vision_model") ? "vision" : "text";
        probs.put(tower + ".attentions." + ctx.layerIndex(), p.retainGrad());
      }))) {
        ClipModel.Output out = m.model().forward(pixels, ref.ints("ids"), ref.ints("attention_mask"), ClipOutputs.NONE);
        assertClose(model + " grad-mode logits_per_image", out.logitsPerImage(), ref.get("images", "logits_per_image"), 1e-4, 1e-4);
        out.logitsPerImage().select(0, 0).select(0, 1).backward();
      }
      assertNotNull(pixels.grad(), "pixels got no gradient");
      check(model + " d logit / d pixels", pixels.grad(), ref.get("images", "grad.pixels"));
      int expected = m.model().config.visionConfig().numHiddenLayers() + m.model().config.textConfig().numHiddenLayers();
      assertEquals(expected, probs.size());
      for (Map.Entry<String, Tensor> e : probs.entrySet()) {
        assertNotNull(e.getValue().grad(), e.getKey() + " got no gradient");
        check(model + " d logit / d " + e.getKey(), e.getValue().grad(), ref.get("images", "grad." + e.getKey()));
      }
    }
  }

  private static void check(String what, Tensor actual, Tensor expected) {
    float[] b = expected.toFloatArray();
    double max = 0;
    for (float v : b) {
      max = Math.max(max, Math.abs(v));
    }
    assertClose(what, actual, expected, RTOL, 1e-5 * max);
  }

  @Test
  void p32GradientsMatchTorch() {
    check("tiny-p32");
  }

  @Test
  void p14GradientsMatchTorch() {
    check("tiny-p14");
  }
}
