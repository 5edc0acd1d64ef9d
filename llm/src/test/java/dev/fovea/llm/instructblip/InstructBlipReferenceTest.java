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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tiny InstructBLIP (tools/reference/instructblip/make_instructblip_reference.py, HF names of
 * Salesforce/instructblip-vicuna-7b, random weights) against its plain-torch reference. Tolerances:
 * vision hidden states, Q-Former output, projected queries and logits max |a - b| / max(1, |b|)
 * &lt;= 1e-4; Q-Former self/cross-attention and decoder attention probabilities max abs &lt;= 1e-5;
 * greedy tokens exact (the reference's smallest top-1/top-2 gap is 0.12).
 */
class InstructBlipReferenceTest {

  /** The HF folder, and the same weights under LAVIS's names in a {@code {"model": state_dict}} .pth (config.json beside it). */
  @ParameterizedTest
  @ValueSource(strings = {"tiny", "tiny-lavis/instruct_blip_vicuna7b.pth"})
  void visionQformerLogitsAndGreedyTokensMatchTorch(String checkpoint) {
    try (var model = InstructBlipForConditionalGeneration.load(InstructBlipFixtures.dir().getParent().resolve(checkpoint));
        WeightSource ref = InstructBlipFixtures.reference();
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
      System.out.printf("instructblip " + checkpoint + ": vision rel %.3g, qformer rel %.3g, qformer attention abs %.3g, queries rel %.3g, logits rel %.3g,"
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

  @Test
  void lavisNamesMapAsTheConversionScriptDoes() {
    assertEquals("vision_model.embeddings.class_embedding", InstructBlipNames.toHf("visual_encoder.cls_token"));
    assertEquals("vision_model.encoder.layers.3.self_attn.projection.weight", InstructBlipNames.toHf("visual_encoder.blocks.3.attn.proj.weight"));
    assertEquals("vision_model.encoder.layers.0.layer_norm2.bias", InstructBlipNames.toHf("visual_encoder.blocks.0.norm2.bias"));
    assertEquals("vision_model.post_layernorm.weight", InstructBlipNames.toHf("ln_vision.weight"));
    assertEquals("qformer.embeddings.layernorm.bias", InstructBlipNames.toHf("Qformer.bert.embeddings.LayerNorm.bias"));
    assertEquals("qformer.encoder.layer.4.crossattention.attention.key.weight",
        InstructBlipNames.toHf("Qformer.bert.encoder.layer.4.crossattention.self.key.weight"));
    assertEquals("qformer.encoder.layer.1.attention.output.LayerNorm.weight", InstructBlipNames.toHf("Qformer.bert.encoder.layer.1.attention.output.LayerNorm.weight"));
    assertEquals("language_projection.bias", InstructBlipNames.toHf("llm_proj.bias"));
    assertEquals("language_model.lm_head.weight", InstructBlipNames.toHf("llm_model.lm_head.weight"));
    assertEquals("query_tokens", InstructBlipNames.toHf("query_tokens"));
    assertEquals(null, InstructBlipNames.toHf("Qformer.bert.embeddings.position_ids"));
    assertEquals(null, InstructBlipNames.toHf("visual_encoder.blocks.2.attn.q_bias"));
    try (WeightSource lavis = dev.fovea.tensor.io.WeightFiles.open(InstructBlipFixtures.dir().getParent().resolve("tiny-lavis/instruct_blip_vicuna7b.pth"));
        WeightSource hf = dev.fovea.tensor.io.WeightFiles.open(InstructBlipFixtures.dir().resolve("model.safetensors"))) {
      assertTrue(InstructBlipNames.isLavis(lavis));
      WeightSource view = InstructBlipNames.hfView(lavis);
      assertEquals(new java.util.TreeSet<>(hf.names()), new java.util.TreeSet<>(view.names()), "the view has exactly the HF names");
      String bias = "vision_model.encoder.layers.1.self_attn.qkv.bias";
      assertArrayEquals(hf.get(bias).toFloatArray(), view.get(bias).toFloatArray(), 0f, "[q_bias, 0, v_bias]");
    }
  }
}
