package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static dev.fovea.llm.llama.LlamaFixtures.maxAbsErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.GgmlType;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The "tiny" fixture exported by our GgufWriter (q/k permuted llama.cpp-style, llama.* and
 * tokenizer metadata) and loaded back through GgufLlamaNames.asHuggingFace. F32 and F16: the same
 * 32 greedy tokens as the reference. Q8_0 (teacher-forced on the reference's greedy tokens): logits
 * max abs error &lt;= 0.1 and top-1 agreement &gt;= 90% of the 32 steps (measured figures printed).
 */
class LlamaGgufTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(value = GgmlType.class, names = {"F32", "F16"})
  void ggufGivesTheReferenceGreedyTokens(GgmlType type) {
    Path gguf = LlamaFixtures.writeGguf("tiny", type, tmp.resolve("tiny-" + type + ".gguf"));
    try (var model = LlamaForCausalLM.load(gguf); WeightSource ref = LlamaFixtures.reference("tiny")) {
      assertEquals(type == GgmlType.F32 ? DType.F32 : DType.F16, model.model.layers.get(0).mlp.upProj.weight.get().dtype());
      int[] want = ints(ref, "greedy_ids");
      Generator.Result r = Generator.generate(model, Inputs.ids(ints(ref, "prompt_ids")),
          GenerationConfig.maxNewTokens(want.length).withStopAtEos(false), Sampler.greedy(), null, null);
      assertArrayEquals(want, r.tokens(), type + " greedy tokens");
      // the tokenizer comes from the same file's metadata
      assertEquals(model.vocabSize(), TokenizerLoader.fromGguf(gguf).vocabSize());
    }
  }

  @Test
  void q8ZeroStaysWithinStatedError() {
    Path gguf = LlamaFixtures.writeGguf("tiny", GgmlType.Q8_0, tmp.resolve("tiny-q8.gguf"));
    try (var model = LlamaForCausalLM.load(gguf); WeightSource ref = LlamaFixtures.reference("tiny")) {
      assertEquals(DType.Q8_0, model.model.layers.get(0).selfAttn.qProj.weight.get().dtype());
      int[] prompt = ints(ref, "prompt_ids");
      int[] greedy = ints(ref, "greedy_ids");
      float[] wantLogits = ref.get("greedy_logits").toFloatArray();
      int v = model.vocabSize();
      double worst = 0;
      int agree = 0;
      try (var state = model.prefill(Inputs.ids(prompt), prompt.length + greedy.length)) {
        float[] logits = state.logits();
        for (int s = 0; s < greedy.length; s++) {
          float[] w = Arrays.copyOfRange(wantLogits, s * v, (s + 1) * v);
          worst = Math.max(worst, maxAbsErr(logits, w));
          agree += Sampler.argmax(LlamaReferenceTest.toDouble(logits)) == greedy[s] ? 1 : 0;
          if (s + 1 < greedy.length) {
            logits = model.step(state, greedy[s]); // teacher forcing on the reference's tokens
          }
        }
      }
      System.out.printf("llama gguf Q8_0: logits max abs err %.4f, top-1 agreement %d/%d%n", worst, agree, greedy.length);
      assertTrue(worst <= 0.1, "Q8_0 logits max abs err " + worst);
      assertTrue(agree >= 0.9 * greedy.length, "Q8_0 top-1 agreement " + agree + "/" + greedy.length);
    }
  }

  @Test
  void ggufWhoseMetadataDisagreesWithItsTensorsIsAClearError() {
    LlamaConfig c = LlamaConfig.fromJson(LlamaFixtures.dir("tiny").resolve("config.json"));
    // metadata claims 4 kv heads, the k tensors have 2
    LlamaConfig lie = new LlamaConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
        c.numAttentionHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), null, c.maxPositionEmbeddings(), false, 1, java.util.List.of(2), "x");
    Path bad = tmp.resolve("bad.gguf");
    try (var src = dev.fovea.tensor.io.WeightFiles.open(LlamaFixtures.dir("tiny").resolve("model.safetensors")); var scope = Scope.open()) {
      var w = LlamaFixtures.header(lie);
      for (String n : src.names()) {
        Tensor t = src.get(n);
        w.addTensor(dev.fovea.tensor.io.GgufLlamaNames.toGguf(n), t, GgmlType.F32);
      }
      w.write(bad);
    }
    LlamaException e = assertThrows(LlamaException.class, () -> LlamaForCausalLM.load(bad));
    assertTrue(e.getMessage().contains("disagrees with its tensors") && e.getMessage().contains("blk.0.attn_k.weight"), e.getMessage());
  }
}
