package dev.fovea.llm.llava;

import static dev.fovea.llm.llava.LlavaFixtures.ints;
import static dev.fovea.llm.llava.LlavaFixtures.maxAbsErr;
import static dev.fovea.llm.llava.LlavaFixtures.maxRelErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The tiny LLaVA (tools/reference/llava/make_llava_reference.py, old llava-hf names) against the
 * plain-torch reference, with one and with two images in one prompt. Tolerances: projected
 * features and logits max |a - b| / max(1, |b|) &lt;= 1e-4, attention probabilities max abs &lt;= 1e-5,
 * greedy tokens exact (the reference's smallest top-1/top-2 gap is 0.016).
 */
class LlavaReferenceTest {

  @ParameterizedTest
  @ValueSource(strings = {"one", "two"})
  void logitsAttentionAndGreedyTokensMatchTorch(String tag) {
    JsonNode meta = LlavaFixtures.meta().get(tag);
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
      LlavaInputs in = model.prepare(ints(ref, tag + ".prompt_ids"), ref.get(tag + ".pixels"));
      // spans reported back, as the reference placed them
      List<ImageSpan> want = new ArrayList<>();
      meta.get("image_spans").forEach(s -> want.add(new ImageSpan(s.get(0).asInt(), s.get(1).asInt())));
      assertEquals(want, in.imageSpans(), "image spans");
      assertEquals(meta.get("length").asInt(), in.length());

      double errF = maxRelErr(model.imageFeatures(ref.get(tag + ".pixels")).toFloatArray(), ref.get(tag + ".features").toFloatArray());
      assertTrue(errF <= 1e-4, "features rel err " + errF);

      Map<Integer, float[]> attn = new LinkedHashMap<>();
      float[] logits;
      try (var h = model.languageModel.addAttentionHook(AttentionHook.reading((ctx, p) -> attn.put(ctx.layerIndex(), p.toFloatArray())));
          var state = model.newState(1, in.length())) {
        logits = model.forward(in, state, true).toFloatArray();
      }
      double errL = maxRelErr(logits, ref.get(tag + ".logits").toFloatArray());
      double errA = 0;
      for (int l = 0; l < model.config.textConfig().numHiddenLayers(); l++) {
        errA = Math.max(errA, maxAbsErr(attn.get(l), ref.get(tag + ".attn." + l).toFloatArray()));
      }
      System.out.printf("llava %s: features rel err %.3g, logits rel err %.3g, attention abs err %.3g%n", tag, errF, errL, errA);
      assertTrue(errL <= 1e-4, "logits rel err " + errL);
      assertTrue(errA <= 1e-5, "attention abs err " + errA);

      int[] greedy = ints(ref, tag + ".greedy_ids");
      Generator.Result r = Generator.generate(model, in.toInputs(), GenerationConfig.maxNewTokens(greedy.length).withStopAtEos(false),
          Sampler.greedy(), null, null);
      assertArrayEquals(greedy, r.tokens(), "greedy continuation");
    }
  }

  /**
   * The fixture's embedding has more rows (576) than its tokenizer has pieces (512), as llava-hf
   * pads 32002 pieces to 32064 rows. A generated id past the tokenizer is kept among the tokens
   * and gives no text (as Hugging Face's decode skips it); streaming does not fail on it.
   */
  @Test
  void idsPastTheTokenizerGiveNoText() {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
      TextTokenizer tok = TokenizerLoader.load(LlavaFixtures.dir());
      assertTrue(tok.vocabSize() < model.vocabSize(), "fixture: tokenizer " + tok.vocabSize() + ", model " + model.vocabSize());
      int past = model.vocabSize() - 20;
      int[] script = {tok.id("\u2581a").getAsInt(), past, tok.id("b").getAsInt(), past + 1};
      int[] at = {0};
      LogitsCombiner replay = l -> {
        float[] one = new float[model.vocabSize()];
        one[script[at[0]++]] = 1f;
        return one;
      };
      LlavaInputs in = model.prepare(ints(ref, "one.prompt_ids"), ref.get("one.pixels"));
      List<String> chunks = new ArrayList<>();
      Generator.Result r = Generator.generate(List.of(new Generator.Branch(model, in.toInputs())), replay,
          GenerationConfig.maxNewTokens(script.length).withStopAtEos(false), Sampler.greedy(), tok, chunks::add);
      assertArrayEquals(script, r.tokens());
      assertEquals(tok.decode(new int[] {script[0], script[2]}), r.text());
      assertEquals("ab", r.text());
      assertEquals(r.text(), String.join("", chunks));
    }
  }

  /** The HF processor's expanded form (N image tokens per image) gives the same sequence. */
  @Test
  void expandedImageTokensAreOneImage() {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
      int[] ids = ints(ref, "two.prompt_ids");
      LlavaInputs marked = model.prepare(ids, ref.get("two.pixels"));
      LlavaInputs expanded = model.prepare(marked.ids(), ref.get("two.pixels"));
      assertEquals(marked.imageSpans(), expanded.imageSpans());
      assertArrayEquals(marked.embeddings().toFloatArray(), expanded.embeddings().toFloatArray());
    }
  }

  /** The newer naming (model.language_model.*, model.vision_tower.*, lm_head.*) loads to the same model. */
  @Test
  void newNamingLoadsTheSameModel() {
    Map<String, Tensor> renamed = new LinkedHashMap<>();
    try (WeightSource old = WeightFiles.open(LlavaFixtures.dir().resolve("model.safetensors"))) {
      for (String n : old.names()) {
        String m = n.startsWith("language_model.model.") ? "model.language_model." + n.substring("language_model.model.".length())
            : n.startsWith("language_model.lm_head.") ? n.substring("language_model.".length()) : "model." + n;
        renamed.put(m, old.get(n));
      }
      assertTrue(renamed.containsKey("lm_head.weight") && renamed.containsKey("model.vision_tower.vision_model.pre_layrnorm.weight"));
      try (var model = LlavaForConditionalGeneration.load(WeightSource.of(renamed), LlavaFixtures.configJson(), "renamed");
          WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
        LlavaInputs in = model.prepare(ints(ref, "one.prompt_ids"), ref.get("one.pixels"));
        try (var state = model.newState(1, in.length())) {
          double err = maxRelErr(model.forward(in, state, true).toFloatArray(), ref.get("one.logits").toFloatArray());
          assertTrue(err <= 1e-4, "logits rel err " + err);
        }
      }
    }
  }
}
