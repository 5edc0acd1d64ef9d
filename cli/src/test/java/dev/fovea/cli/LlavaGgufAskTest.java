package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.convert.LlavaGguf;
import dev.fovea.convert.ModelInput;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufClipNames;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufWriter;
import dev.fovea.tensor.io.WeightFiles;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny LLaVA fixture written as a llama.cpp GGUF pair (F32 model with a synthetic vocabulary
 * holding "&lt;image&gt;" at 512, and an mmproj) and read back through the converter's
 * {@code LlavaGguf.open}: the same logits as the torch reference (rel err &lt;= 1e-4), and
 * {@code ask --mmproj} runs.
 */
class LlavaGgufAskTest {
  static final Path MODEL = LlavaAskCommandTest.MODEL;
  @TempDir Path tmp;

  Path[] writePair() throws Exception {
    JsonNode cfg = new ObjectMapper().readTree(MODEL.resolve("config.json").toFile());
    JsonNode t = cfg.get("text_config");
    JsonNode v = cfg.get("vision_config");
    int heads = t.get("num_attention_heads").asInt();
    int kv = t.get("num_key_value_heads").asInt();
    List<String> vocab = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int b = 0; b < 256; b++) {
      vocab.add(String.format("<0x%02X>", b));
    }
    for (int i = 0; vocab.size() < t.get("vocab_size").asInt(); i++) {
      vocab.add(vocab.size() == 512 ? "<image>" : (i % 2 == 0 ? "\u2581" : "") + (char) ('a' + i % 26) + (i / 26 == 0 ? "" : Integer.toString(i / 26)));
    }
    int[] types = new int[vocab.size()];
    float[] scores = new float[vocab.size()];
    for (int i = 0; i < types.length; i++) {
      types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : i == 512 ? 4 : 1;
      scores[i] = i < 259 ? 0 : -(i - 259);
    }
    Path model = tmp.resolve("tiny-llava.gguf");
    Path mmproj = tmp.resolve("mmproj.gguf");
    try (var src = WeightFiles.open(MODEL.resolve("model.safetensors")); var scope = Scope.open()) {
      GgufWriter lw = new GgufWriter().putString("general.architecture", "llama")
          .putUInt32("llama.context_length", t.get("max_position_embeddings").asInt())
          .putUInt32("llama.embedding_length", t.get("hidden_size").asInt())
          .putUInt32("llama.block_count", t.get("num_hidden_layers").asInt())
          .putUInt32("llama.feed_forward_length", t.get("intermediate_size").asInt())
          .putUInt32("llama.rope.dimension_count", t.get("hidden_size").asInt() / heads)
          .putUInt32("llama.attention.head_count", heads).putUInt32("llama.attention.head_count_kv", kv)
          .putFloat32("llama.attention.layer_norm_rms_epsilon", (float) t.get("rms_norm_eps").asDouble())
          .putFloat32("llama.rope.freq_base", 10000f)
          .putString("tokenizer.ggml.model", "llama").putStrings("tokenizer.ggml.tokens", vocab)
          .putFloats("tokenizer.ggml.scores", scores).putInts("tokenizer.ggml.token_type", types)
          .putUInt32("tokenizer.ggml.bos_token_id", 1).putUInt32("tokenizer.ggml.eos_token_id", 2);
      GgufWriter cw = new GgufWriter().putString("general.architecture", "clip")
          .putBool("clip.has_text_encoder", false).putBool("clip.has_vision_encoder", true).putBool("clip.has_llava_projector", true)
          .putString("clip.projector_type", "mlp").putBool("clip.use_gelu", false)
          .putUInt32("clip.vision.image_size", v.get("image_size").asInt()).putUInt32("clip.vision.patch_size", v.get("patch_size").asInt())
          .putUInt32("clip.vision.embedding_length", v.get("hidden_size").asInt())
          .putUInt32("clip.vision.feed_forward_length", v.get("intermediate_size").asInt())
          .putUInt32("clip.vision.projection_dim", v.get("projection_dim").asInt())
          .putUInt32("clip.vision.attention.head_count", v.get("num_attention_heads").asInt())
          .putUInt32("clip.vision.block_count", v.get("num_hidden_layers").asInt())
          .putFloat32("clip.vision.attention.layer_norm_epsilon", 1e-5f)
          .putFloats("clip.vision.image_mean", new float[] {0.48145466f, 0.4578275f, 0.40821073f})
          .putFloats("clip.vision.image_std", new float[] {0.26862954f, 0.26130258f, 0.27577711f});
      for (String n : src.names()) {
        Tensor x = src.get(n);
        if (n.startsWith("language_model.")) {
          String hf = n.substring("language_model.".length());
          if (hf.endsWith("q_proj.weight")) {
            x = GgufLlamaNames.permuteRows(x, heads);
          } else if (hf.endsWith("k_proj.weight")) {
            x = GgufLlamaNames.permuteRows(x, kv);
          }
          lw.addTensor(GgufLlamaNames.toGguf(hf), x, GgmlType.F32);
        } else {
          String g = GgufClipNames.toGguf(n);
          assertTrue(g != null, "no mmproj name for " + n);
          cw.addTensor(g, x, GgmlType.F32);
        }
      }
      lw.write(model);
      cw.write(mmproj);
    }
    return new Path[] {model, mmproj};
  }

  @Test
  void ggufPairReproducesTheReference() throws Exception {
    Path[] pair = writePair();
    try (ModelInput in = LlavaGguf.open(pair[0], pair[1])) {
      var lm = LlavaForConditionalGeneration.load(in.weights(), in.files().get("config.json"), "pair");
      assertEquals(512, lm.config.imageTokenIndex());
      try (WeightSource ref = WeightFiles.open(MODEL.resolve("reference.safetensors")); var scope = Scope.open()) {
        long[] p = ref.get("one.prompt_ids").toLongArray();
        int[] ids = new int[p.length];
        for (int i = 0; i < p.length; i++) {
          ids[i] = (int) p[i];
        }
        LlavaInputs x = lm.prepare(ids, ref.get("one.pixels"));
        try (var state = lm.newState(1, x.length())) {
          float[] got = lm.forward(x, state, true).toFloatArray();
          float[] want = ref.get("one.logits").toFloatArray();
          double err = 0;
          for (int i = 0; i < got.length; i++) {
            err = Math.max(err, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
          }
          System.out.printf("llava GGUF pair: logits rel err %.3g%n", err);
          assertTrue(err <= 1e-4, "logits rel err " + err);
        }
      }
    }
    BufferedImage img = new BufferedImage(30, 20, BufferedImage.TYPE_INT_RGB);
    img.setRGB(3, 4, 0xff8800);
    Path png = tmp.resolve("x.png");
    ImageIO.write(img, "png", png.toFile());
    var r = LlamaAskCommandTest.run("ask", "--model", pair[0].toString(), "--mmproj", pair[1].toString(), "--question", "What?", "--image", png.toString(),
        "--max-new-tokens", "4", "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    assertEquals(4, new ObjectMapper().readTree(r.out()).get("tokens").size());
  }
}
