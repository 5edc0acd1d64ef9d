package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static dev.fovea.llm.llama.LlamaFixtures.maxAbsErr;
import static dev.fovea.llm.llama.LlamaFixtures.maxRelErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tiny LLaMA fixtures against the plain-torch HF forward of make_llama_reference.py: "tiny"
 * (3 layers, 4 heads / 2 kv heads, untied) and "tied-llama3" (tied embeddings, llama3 rope
 * scaling, no GQA). Tolerances: logits max |a-b| / max(1, |b|) &lt;= 1e-4 (measured ~1e-6);
 * attention probabilities max abs &lt;= 1e-5; greedy and sampled tokens exactly.
 */
class LlamaReferenceTest {

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "tied-llama3"})
  void prefillLogitsAndAttentionMatchReference(String fixture) {
    try (var model = LlamaForCausalLM.load(LlamaFixtures.dir(fixture)); WeightSource ref = LlamaFixtures.reference(fixture);
        var scope = Scope.open(); var state = model.newState(1, 64)) {
      int[] prompt = ints(ref, "prompt_ids");
      List<Tensor> probs = new ArrayList<>();
      Tensor logits;
      try (var h = model.addAttentionHook(AttentionHook.reading((ctx, p) -> probs.add(p)))) {
        logits = model.forward(model.embed(Tensor.ofInts(prompt, 1, prompt.length)), state, true);
      }
      double err = maxRelErr(logits.toFloatArray(), ref.get("logits").toFloatArray());
      System.out.printf("llama reference %s: prefill logits max rel err %.3g%n", fixture, err);
      assertTrue(err <= 1e-4, "prefill logits rel err " + err);
      assertEquals(model.config.numHiddenLayers(), probs.size());
      for (int l = 0; l < probs.size(); l++) {
        double e = maxAbsErr(probs.get(l).toFloatArray(), ref.get("attn." + l).toFloatArray());
        assertTrue(e <= 1e-5, "layer " + l + " attention probs abs err " + e);
      }
      assertEquals(prompt.length, state.position());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "tied-llama3"})
  void greedyContinuationAndStepLogitsMatch(String fixture) {
    try (var model = LlamaForCausalLM.load(LlamaFixtures.dir(fixture)); WeightSource ref = LlamaFixtures.reference(fixture)) {
      int[] prompt = ints(ref, "prompt_ids");
      int[] want = ints(ref, "greedy_ids");
      float[] wantLogits = ref.get("greedy_logits").toFloatArray();
      int v = model.vocabSize();
      // the step API by hand: prefill, then one step per token, comparing each step's logits
      double worst = 0;
      try (var state = model.prefill(Inputs.ids(prompt), prompt.length + want.length)) {
        float[] logits = state.logits();
        for (int s = 0; s < want.length; s++) {
          float[] w = java.util.Arrays.copyOfRange(wantLogits, s * v, (s + 1) * v);
          worst = Math.max(worst, maxRelErr(logits, w));
          int tok = Sampler.argmax(toDouble(logits));
          assertEquals(want[s], tok, "greedy token " + s);
          if (s + 1 < want.length) {
            logits = model.step(state, tok);
          }
        }
      }
      System.out.printf("llama reference %s: decode-step logits max rel err %.3g over %d steps%n", fixture, worst, want.length);
      assertTrue(worst <= 1e-4, "step logits rel err " + worst);
      // and through the generator (EOS off: random weights may pick id 2)
      Generator.Result r = Generator.generate(model, Inputs.ids(prompt), GenerationConfig.maxNewTokens(want.length).withStopAtEos(false),
          Sampler.greedy(), null, null);
      assertArrayEquals(want, r.tokens());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny", "tied-llama3"})
  void sampledContinuationWithRecordedDrawsMatches(String fixture) {
    try (var model = LlamaForCausalLM.load(LlamaFixtures.dir(fixture)); WeightSource ref = LlamaFixtures.reference(fixture)) {
      JsonNode meta = LlamaFixtures.meta(fixture);
      JsonNode s = meta.get("sampling");
      double[] u = new double[meta.get("sample_uniforms").size()];
      for (int i = 0; i < u.length; i++) {
        u[i] = meta.get("sample_uniforms").get(i).asDouble();
      }
      SamplingConfig sc = new SamplingConfig((float) s.get("temperature").asDouble(), s.get("top_k").asInt(), (float) s.get("top_p").asDouble(),
          (float) s.get("repetition_penalty").asDouble());
      int[] want = ints(ref, "sample_ids");
      Generator.Result r = Generator.generate(model, Inputs.ids(ints(ref, "prompt_ids")),
          GenerationConfig.maxNewTokens(want.length).withStopAtEos(false), new Sampler(sc, Uniforms.of(u)), null, null);
      assertArrayEquals(want, r.tokens());
    }
  }

  static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }
}
