package dev.fovea.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.FormatException;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufClipNames;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.GgufWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny LLaMA GGUF + mmproj GGUF, written as llama.cpp writes them, converted into one archive. */
class LlavaGgufTest {
  static final int H = 32; // LLaMA width = projector output
  static final int HEADS = 2;
  static final int FF = 64;
  static final int LAYERS = 2;
  static final int D = 8; // vision width
  static final int F = 24; // vision FFN
  static final int P = 2;
  static final int IMAGE = 4;

  @TempDir Path dir;

  /** A LLaMA GGUF with a SentencePiece-style vocabulary of {@code tokens}; {@code tied}: no output.weight. */
  static void writeLlama(Path path, List<String> tokens, boolean tied) {
    Random rng = new Random(7);
    int v = tokens.size();
    float[] scores = new float[v];
    int[] types = new int[v];
    for (int i = 0; i < v; i++) {
      scores[i] = -i;
      types[i] = i < 3 ? (i == 0 ? 2 : 3) : 1;
    }
    GgufWriter w = new GgufWriter()
        .putString("general.architecture", "llama")
        .putString("general.name", "tiny-llava-text")
        .putUInt32("llama.context_length", 64)
        .putUInt32("llama.embedding_length", H)
        .putUInt32("llama.block_count", LAYERS)
        .putUInt32("llama.feed_forward_length", FF)
        .putUInt32("llama.rope.dimension_count", H / HEADS)
        .putUInt32("llama.attention.head_count", HEADS)
        .putUInt32("llama.attention.head_count_kv", HEADS)
        .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
        .putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", tokens)
        .putFloats("tokenizer.ggml.scores", scores)
        .putInts("tokenizer.ggml.token_type", types)
        .putUInt32("tokenizer.ggml.bos_token_id", 1)
        .putUInt32("tokenizer.ggml.eos_token_id", 2)
        .putUInt32("tokenizer.ggml.unknown_token_id", 0)
        .putBool("tokenizer.ggml.add_bos_token", true);
    w.addTensor("token_embd.weight", Tensor.randn(rng, v, H), GgmlType.F16);
    for (int l = 0; l < LAYERS; l++) {
      String b = "blk." + l + ".";
      w.addTensor(b + "attn_norm.weight", Tensor.randn(rng, H), GgmlType.F32)
          .addTensor(b + "attn_q.weight", Tensor.randn(rng, H, H), GgmlType.Q8_0)
          .addTensor(b + "attn_k.weight", Tensor.randn(rng, H, H), GgmlType.F16)
          .addTensor(b + "attn_v.weight", Tensor.randn(rng, H, H), GgmlType.F16)
          .addTensor(b + "attn_output.weight", Tensor.randn(rng, H, H), GgmlType.F16)
          .addTensor(b + "ffn_norm.weight", Tensor.randn(rng, H), GgmlType.F32)
          .addTensor(b + "ffn_gate.weight", Tensor.randn(rng, FF, H), GgmlType.F16)
          .addTensor(b + "ffn_up.weight", Tensor.randn(rng, FF, H), GgmlType.F16)
          .addTensor(b + "ffn_down.weight", Tensor.randn(rng, H, FF), GgmlType.Q4_0);
    }
    w.addTensor("output_norm.weight", Tensor.randn(rng, H), GgmlType.F32);
    if (!tied) {
      w.addTensor("output.weight", Tensor.randn(rng, v, H), GgmlType.Q8_0);
    }
    w.write(path);
  }

  /** An mmproj as convert_image_encoder_to_gguf.py writes it ({@code legacy}: fc1 as ffn_down) or gguf-py's current map. */
  static void writeMmproj(Path path, boolean legacy, int projOut) {
    writeMmproj(path, legacy, projOut, P);
  }

  /** As above, with {@code clip.vision.patch_size} = {@code patchMeta} (the tensors keep patch P). */
  static void writeMmproj(Path path, boolean legacy, int projOut, int patchMeta) {
    Random rng = new Random(9);
    GgufWriter w = new GgufWriter()
        .putString("general.architecture", "clip")
        .putString("general.name", "tiny-mmproj")
        .putBool("clip.has_text_encoder", false)
        .putBool("clip.has_vision_encoder", true)
        .putBool("clip.has_llava_projector", true)
        .putString("clip.projector_type", "mlp")
        .putBool("clip.use_gelu", false)
        .putUInt32("clip.vision.image_size", IMAGE)
        .putUInt32("clip.vision.patch_size", patchMeta)
        .putUInt32("clip.vision.embedding_length", D)
        .putUInt32("clip.vision.feed_forward_length", F)
        .putUInt32("clip.vision.projection_dim", 6)
        .putUInt32("clip.vision.attention.head_count", 2)
        .putFloat32("clip.vision.attention.layer_norm_epsilon", 1e-5f)
        .putUInt32("clip.vision.block_count", LAYERS)
        .putFloats("clip.vision.image_mean", new float[] {0.48145466f, 0.4578275f, 0.40821073f})
        .putFloats("clip.vision.image_std", new float[] {0.26862954f, 0.26130258f, 0.27577711f});
    w.addTensor("v.class_embd", Tensor.randn(rng, D), GgmlType.F32)
        .addTensor("v.patch_embd.weight", Tensor.randn(rng, D, 3, P, P), GgmlType.F16)
        .addTensor("v.position_embd.weight", Tensor.randn(rng, (IMAGE / P) * (IMAGE / P) + 1, D), GgmlType.F16)
        .addTensor("v.pre_ln.weight", Tensor.randn(rng, D), GgmlType.F32)
        .addTensor("v.pre_ln.bias", Tensor.randn(rng, D), GgmlType.F32);
    for (int l = 0; l < LAYERS; l++) {
      String b = "v.blk." + l + ".";
      for (String m : new String[] {"attn_q", "attn_k", "attn_v", "attn_out"}) {
        w.addTensor(b + m + ".weight", Tensor.randn(rng, D, D), GgmlType.F16).addTensor(b + m + ".bias", Tensor.randn(rng, D), GgmlType.F32);
      }
      for (String m : new String[] {"ln1", "ln2"}) {
        w.addTensor(b + m + ".weight", Tensor.randn(rng, D), GgmlType.F32).addTensor(b + m + ".bias", Tensor.randn(rng, D), GgmlType.F32);
      }
      String fc1 = legacy ? "ffn_down" : "ffn_up";
      String fc2 = legacy ? "ffn_up" : "ffn_down";
      w.addTensor(b + fc1 + ".weight", Tensor.randn(rng, F, D), GgmlType.F16).addTensor(b + fc1 + ".bias", Tensor.randn(rng, F), GgmlType.F32);
      w.addTensor(b + fc2 + ".weight", Tensor.randn(rng, D, F), GgmlType.F16).addTensor(b + fc2 + ".bias", Tensor.randn(rng, D), GgmlType.F32);
    }
    w.addTensor("mm.0.weight", Tensor.randn(rng, projOut, D), GgmlType.F16).addTensor("mm.0.bias", Tensor.randn(rng, projOut), GgmlType.F32);
    w.addTensor("mm.2.weight", Tensor.randn(rng, projOut, projOut), GgmlType.F16).addTensor("mm.2.bias", Tensor.randn(rng, projOut), GgmlType.F32);
    w.write(path);
  }

  static List<String> vocab(int n, String... extra) {
    List<String> t = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int i = t.size(); i < n; i++) {
      t.add("\u2581t" + i);
    }
    t.addAll(List.of(extra));
    return t;
  }

  /** Issue 21 item 2: a hostile patch size is left for LlavaConfig to refuse by name, not a / by zero while synthesizing the config. */
  @Test
  void zeroPatchSizeIsNotADivisionByZero() throws Exception {
    Path model = dir.resolve("model.gguf");
    Path mmproj = dir.resolve("mmproj-zero-patch.gguf");
    writeLlama(model, vocab(40), false);
    writeMmproj(mmproj, true, H, 0);
    try (ModelInput in = LlavaGguf.open(model, mmproj)) {
      JsonNode c = new ObjectMapper().readTree(in.files().get("config.json"));
      assertFalse(c.has("image_seq_length"), c.toString());
      assertEquals(0, c.get("vision_config").get("patch_size").asInt());
    }
  }

  @Test
  void pairConvertsToOneArchiveEqualToTheHuggingFaceViews() throws Exception {
    Path model = dir.resolve("model.gguf");
    Path mmproj = dir.resolve("mmproj.gguf");
    writeLlama(model, vocab(40), false);
    writeMmproj(mmproj, true, H);
    Path out = dir.resolve("llava.fovea");
    try (ModelInput in = LlavaGguf.open(model, mmproj)) {
      Converter.convert(in, out, Converter.Options.of(DType.F32), Converter.Progress.NONE);
    }
    try (ArchiveReader a = ArchiveReader.open(out);
        WeightSource text = GgufLlamaNames.asHuggingFace(GgufSource.open(model));
        WeightSource vision = GgufClipNames.asHuggingFace(GgufSource.open(mmproj))) {
      assertEquals(text.names().size() + vision.names().size(), a.names().size());
      for (String n : text.names()) {
        String an = "language_model." + n;
        assertTrue(a.names().contains(an), an);
        assertArrayEquals(text.get(n).toFloatArray(), a.get(an).toFloatArray(), an);
      }
      for (String n : vision.names()) {
        assertArrayEquals(vision.get(n).shape(), a.get(n).shape(), n);
        assertArrayEquals(vision.get(n).toFloatArray(), a.get(n).toFloatArray(), n);
      }
      assertTrue(a.names().contains("language_model.model.layers.1.self_attn.q_proj.weight"));
      assertTrue(a.names().contains("language_model.lm_head.weight"));
      assertTrue(a.names().contains("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight"));
      assertArrayEquals(new int[] {F, D}, a.info("vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight").shape());
      assertTrue(a.names().contains("multi_modal_projector.linear_2.bias"));

      JsonNode c = new ObjectMapper().readTree(a.file("config.json"));
      assertEquals("llava", c.get("model_type").asText());
      assertEquals("LlavaForConditionalGeneration", c.get("architectures").get(0).asText());
      assertEquals(32000, c.get("image_token_index").asInt(), "no <image> in the vocabulary: llava-hf's id");
      assertEquals(-1, c.get("vision_feature_layer").asInt(), "legacy mmproj: last layer already dropped");
      assertEquals("default", c.get("vision_feature_select_strategy").asText());
      assertEquals("gelu", c.get("projector_hidden_act").asText());
      assertEquals(4, c.get("image_seq_length").asInt());
      JsonNode t = c.get("text_config");
      assertEquals(40, t.get("vocab_size").asInt());
      assertEquals(H, t.get("hidden_size").asInt());
      assertEquals(FF, t.get("intermediate_size").asInt());
      assertEquals(LAYERS, t.get("num_hidden_layers").asInt());
      assertEquals(HEADS, t.get("num_key_value_heads").asInt());
      assertEquals(1e-5, t.get("rms_norm_eps").asDouble(), 1e-12);
      assertEquals(10000.0, t.get("rope_theta").asDouble());
      assertFalse(t.get("tie_word_embeddings").asBoolean());
      JsonNode v = c.get("vision_config");
      assertEquals(D, v.get("hidden_size").asInt());
      assertEquals(F, v.get("intermediate_size").asInt());
      assertEquals("quick_gelu", v.get("hidden_act").asText());
      assertEquals(IMAGE, v.get("image_size").asInt());

      JsonNode tok = new ObjectMapper().readTree(a.file(LlavaGguf.TOKENIZER_FILE));
      assertEquals(LlavaGguf.TOKENIZER_FORMAT, tok.get("format").asText());
      assertEquals("llama", tok.get("model").asText());
      assertEquals(40, tok.get("tokens").size());
      assertEquals("\u2581t5", tok.get("tokens").get(5).asText());
      assertEquals(-5.0, tok.get("scores").get(5).asDouble());
      assertEquals(3, tok.get("token_type").get(1).asInt());
      assertEquals(1, tok.get("bos_token_id").asInt());
      assertTrue(tok.get("add_bos_token").asBoolean());

      JsonNode pre = new ObjectMapper().readTree(a.file("preprocessor_config.json"));
      assertEquals(IMAGE, pre.get("crop_size").get("height").asInt());
      assertEquals("CLIPImageProcessor", pre.get("image_processor_type").asText());

      assertEquals("llama", a.metadata().get("general.architecture"));
      assertEquals("clip", a.metadata().get("mmproj.general.architecture"));
      assertEquals("mmproj.gguf", a.metadata().get("fovea.mmproj"));
      assertFalse(a.metadata().containsKey("tokenizer.ggml.tokens"), "the vocabulary lives in tokenizer.gguf.json");
    }
  }

  @Test
  void imageTokenFromTheVocabularyCurrentNamingAndTiedEmbeddings() throws Exception {
    Path model = dir.resolve("model.gguf");
    Path mmproj = dir.resolve("mmproj.gguf");
    writeLlama(model, vocab(40, "<image>", "<pad>"), true);
    writeMmproj(mmproj, false, H);
    Path out = dir.resolve("llava.fovea");
    try (ModelInput in = LlavaGguf.open(model, mmproj)) {
      Converter.convert(in, out, Converter.Options.of(DType.Q8_0), Converter.Progress.NONE);
    }
    try (ArchiveReader a = ArchiveReader.open(out)) {
      JsonNode c = new ObjectMapper().readTree(a.file("config.json"));
      assertEquals(40, c.get("image_token_index").asInt());
      assertEquals(-2, c.get("vision_feature_layer").asInt());
      assertTrue(c.get("tie_word_embeddings").asBoolean());
      assertFalse(a.names().contains("language_model.lm_head.weight"));
      assertEquals(DType.Q8_0, a.info("multi_modal_projector.linear_2.weight").dtype());
      assertEquals(DType.F32, a.info("vision_tower.vision_model.embeddings.class_embedding").dtype());
    }
  }

  @Test
  void mismatchedOrWrongFilesAreRefusedNamingTheFile() throws Exception {
    Path model = dir.resolve("model.gguf");
    Path mmproj = dir.resolve("mmproj.gguf");
    writeLlama(model, vocab(40), false);
    writeMmproj(mmproj, true, H + 8);
    FormatException e = assertThrows(FormatException.class, () -> LlavaGguf.open(model, mmproj).close());
    assertTrue(e.getMessage().startsWith(mmproj + ": tensor 'mm.2.weight'"), e.getMessage());

    e = assertThrows(FormatException.class, () -> LlavaGguf.open(mmproj, model).close());
    assertTrue(e.getMessage().contains("needs 'llama'"), e.getMessage());
    assertTrue(Files.exists(model));
  }
}
