package dev.fovea.llm.instructblip;

import static dev.fovea.llm.instructblip.InstructBlipFixtures.ints;
import static dev.fovea.llm.instructblip.InstructBlipFixtures.maxAbsErr;
import static dev.fovea.llm.instructblip.InstructBlipFixtures.maxRelErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.llava.ImageSpan;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.ForwardHook;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The tiny InstructBLIP (tools/reference/instructblip/make_instructblip_reference.py, HF names of
 * Salesforce/instructblip-vicuna-7b, random weights) against its plain-torch reference. Tolerances:
 * vision hidden states, Q-Former output, projected queries and logits max |a - b| / max(1, |b|)
 * &lt;= 1e-4; Q-Former self/cross-attention and decoder attention probabilities max abs &lt;= 1e-5;
 * greedy tokens exact (the reference's smallest top-1/top-2 gap is 0.12).
 */
class InstructBlipReferenceTest {

  @Test
  void visionQformerLogitsAndGreedyTokensMatchTorch() {
    try (var model = InstructBlipForConditionalGeneration.load(InstructBlipFixtures.dir()); WeightSource ref = InstructBlipFixtures.reference();
        var scope = Scope.open()) {
      Tensor pixels = ref.get("pixels");
      int[] qids = ints(ref, "qformer_ids");
      int[] ids = ints(ref, "prompt_ids");
      int q = model.config.numQueryTokens();

      // vision: the embeddings and every layer's output, then post_layernorm
      Map<String, float[]> hidden = new TreeMap<>();
      Tensor image;
      try (var h = model.visionModel.addForwardHook(p -> p.equals("embeddings") || p.matches("encoder\\.layers\\.\\d+"),
          ForwardHook.reading((path, out) -> hidden.put(path.substring("vision_model.".length()), out.toFloatArray())))) {
        image = model.imageEmbeds(pixels);
      }
      double errV = maxRelErr(hidden.get("embeddings"), ref.get("vision.hidden.0").toFloatArray());
      for (int l = 0; l < model.config.visionConfig().numHiddenLayers(); l++) {
        errV = Math.max(errV, maxRelErr(hidden.get("encoder.layers." + l), ref.get("vision.hidden." + (l + 1)).toFloatArray()));
      }
      errV = Math.max(errV, maxRelErr(image.toFloatArray(), ref.get("vision.image_embeds").toFloatArray()));

      // Q-Former: last hidden state and every attention's probabilities
      Map<String, float[]> probs = new TreeMap<>();
      Tensor qh;
      try (var h = model.qformer.addAttentionHook(AttentionHook.reading((ctx, p) -> probs.put(ctx.path().substring("qformer.".length()), p.toFloatArray())))) {
        qh = model.qformerHidden(image, qids);
      }
      double errQ = maxRelErr(qh.toFloatArray(), ref.get("qformer.hidden").toFloatArray());
      double errQA = 0;
      int cross = 0;
      for (int l = 0; l < model.config.qformerConfig().numHiddenLayers(); l++) {
        errQA = Math.max(errQA, maxAbsErr(probs.get("encoder.layer." + l + ".attention.attention"), ref.get("qformer.self." + l).toFloatArray()));
        String c = "encoder.layer." + l + ".crossattention.attention";
        assertEquals(model.config.qformerConfig().hasCrossAttention(l), probs.containsKey(c), c);
        if (probs.containsKey(c)) {
          errQA = Math.max(errQA, maxAbsErr(probs.get(c), ref.get("qformer.cross." + l).toFloatArray()));
          cross++;
        }
      }
      assertEquals(3, cross, "cross-attention layers 0, 2 and 4 of 6 (cross_attention_frequency 2)");

      LlavaInputs in = model.prepare(ids, qids, pixels);
      assertEquals(List.of(new ImageSpan(0, q)), in.imageSpans());
      assertEquals(q + ids.length, in.length());
      double errP = maxRelErr(in.embeddings().narrow(1, 0, q).toFloatArray(), ref.get("query_output").toFloatArray());

      Map<Integer, float[]> attn = new TreeMap<>();
      float[] logits;
      try (var h = model.languageModel.addAttentionHook(AttentionHook.reading((ctx, p) -> attn.put(ctx.layerIndex(), p.toFloatArray())));
          var state = model.newState(1, in.length())) {
        logits = model.forward(in, state, true).toFloatArray();
      }
      double errL = maxRelErr(logits, ref.get("logits").toFloatArray());
      double errA = 0;
      for (int l = 0; l < model.config.textConfig().numHiddenLayers(); l++) {
        errA = Math.max(errA, maxAbsErr(attn.get(l), ref.get("attn." + l).toFloatArray()));
      }
      System.out.printf("instructblip: vision rel %.3g, qformer rel %.3g, qformer attention abs %.3g, queries rel %.3g, logits rel %.3g,"
          + " decoder attention abs %.3g%n", errV, errQ, errQA, errP, errL, errA);
      assertTrue(errV <= 1e-4, "vision hidden states rel err " + errV);
      assertTrue(errQ <= 1e-4, "Q-Former output rel err " + errQ);
      assertTrue(errQA <= 1e-5, "Q-Former attention abs err " + errQA);
      assertTrue(errP <= 1e-4, "projected queries rel err " + errP);
      assertTrue(errL <= 1e-4, "logits rel err " + errL);
      assertTrue(errA <= 1e-5, "decoder attention abs err " + errA);

      int[] greedy = ints(ref, "greedy_ids");
      Generator.Result r = Generator.generate(model, in.toInputs(), GenerationConfig.maxNewTokens(greedy.length).withStopAtEos(false),
          Sampler.greedy(), null, null);
      assertArrayEquals(greedy, r.tokens(), "greedy continuation");
    }
  }
}
