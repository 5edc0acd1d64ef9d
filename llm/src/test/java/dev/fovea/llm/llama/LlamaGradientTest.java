package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static dev.fovea.llm.llama.LlamaFixtures.maxAbs;
import static dev.fovea.llm.llama.LlamaFixtures.maxAbsErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Gradients of the top next-token log-probability through a grad-mode prefill (cache writes stay
 * out of the graph) against torch autograd of the reference forward, and attention hooks on decode
 * steps. Tolerance: max |a - b| &lt;= 1e-5 + 1e-4 max |b| (measured ~1e-7 relative).
 */
class LlamaGradientTest {

  @Test
  void gradientsOfAttentionProbabilitiesAndEmbeddingsMatchTorch() {
    int layer = LlamaFixtures.meta("tiny").get("grad_layer").asInt();
    try (var model = LlamaForCausalLM.load(LlamaFixtures.dir("tiny")); WeightSource ref = LlamaFixtures.reference("tiny");
        var scope = Scope.open(); var g = GradMode.enable(); var state = model.newState(1, 32)) {
      int[] prompt = ints(ref, "prompt_ids");
      Tensor e = model.embed(Tensor.ofInts(prompt, 1, prompt.length)).detach().requiresGrad(true); // [1, T, C]
      Tensor[] probs = new Tensor[1];
      try (var h = model.addAttentionHook("model.layers." + layer, AttentionHook.reading((ctx, p) -> probs[0] = p.retainGrad()))) {
        Tensor logits = model.forward(e, state, false).reshape(model.vocabSize()); // [V]
        Tensor lp = Ops.logSoftmax(logits, -1);
        int top = (int) Ops.argmax(lp, 0, false).getLong();
        lp.select(0, top).backward();
      }
      assertNotNull(probs[0].grad(), "attention probabilities kept no gradient");
      float[] wantA = ref.get("grad_attn." + layer).toFloatArray();
      float[] wantE = ref.get("grad_embeds").toFloatArray();
      double errA = maxAbsErr(probs[0].grad().toFloatArray(), wantA);
      double errE = maxAbsErr(e.grad().toFloatArray(), wantE);
      System.out.printf("llama gradients: d/dA layer %d max abs err %.3g (max |grad| %.3g); d/dembeds max abs err %.3g (max |grad| %.3g)%n", layer, errA,
          maxAbs(wantA), errE, maxAbs(wantE));
      assertTrue(errA <= 1e-5 + 1e-4 * maxAbs(wantA), "grad attn err " + errA);
      assertTrue(errE <= 1e-5 + 1e-4 * maxAbs(wantE), "grad embeds err " + errE);
    }
  }

  /** A hook sees a decode step's row [1, H, 1, T] and it equals the last row of the full prefill's probabilities. */
  @Test
  void attentionHooksSeeDecodeSteps() {
    try (var model = LlamaForCausalLM.load(LlamaFixtures.dir("tiny")); WeightSource ref = LlamaFixtures.reference("tiny")) {
      int[] prompt = ints(ref, "prompt_ids");
      int t = prompt.length;
      List<float[]> rows = new ArrayList<>();
      List<int[]> shapes = new ArrayList<>();
      try (var state = model.prefill(Inputs.ids(Arrays.copyOf(prompt, t - 1)), t)) {
        try (var h = model.addAttentionHook(AttentionHook.reading((ctx, p) -> {
          rows.add(p.toFloatArray());
          shapes.add(p.shape());
        }))) {
          model.step(state, prompt[t - 1]);
        }
      }
      int heads = model.config.numAttentionHeads();
      for (int l = 0; l < rows.size(); l++) {
        assertArrayEquals(new int[] {1, heads, 1, t}, shapes.get(l));
        float[] full = ref.get("attn." + l).toFloatArray(); // [H, T, T]
        float[] want = new float[heads * t];
        for (int hd = 0; hd < heads; hd++) {
          System.arraycopy(full, (hd * t + t - 1) * t, want, hd * t, t);
        }
        assertTrue(maxAbsErr(rows.get(l), want) <= 1e-5, "layer " + l + " decode-step probabilities");
      }
    }
  }
}
