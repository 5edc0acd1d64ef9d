package dev.fovea.jmh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.instructblip.InstructBlipPrompt;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.image.ImageProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * InstructBlipFolder on the full-size config with every width shrunk (vocabularies and the Q-Former
 * and EVA layer counts kept): the shards and their index cover every parameter once, in BF16; the
 * folder loads and answers (finite logits, the tokenizers and processor from the folder); the bytes
 * do not depend on where the shards are cut.
 */
class InstructBlipFolderTest {
  @TempDir Path tmp;

  static String smallConfig() throws Exception {
    ObjectNode c = (ObjectNode) new ObjectMapper().readTree(InstructBlipFolder.vicuna7bConfig());
    ((ObjectNode) c.get("vision_config")).put("hidden_size", 32).put("intermediate_size", 64).put("num_attention_heads", 2).put("image_size", 56);
    ((ObjectNode) c.get("qformer_config")).put("hidden_size", 32).put("intermediate_size", 64).put("num_attention_heads", 4)
        .put("encoder_hidden_size", 32);
    ((ObjectNode) c.get("text_config")).put("hidden_size", 64).put("intermediate_size", 128).put("num_attention_heads", 4)
        .put("num_key_value_heads", 4).put("num_hidden_layers", 2).put("max_position_embeddings", 256);
    return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(c);
  }

  @Test
  void writesALoadableShardedFolder() throws Exception {
    Path shared = ModelFiles.sharedData();
    assumeTrue(shared != null, "needs ../shared/data (the LLaMA and BERT vocabularies)");
    String config = smallConfig();
    Path a = tmp.resolve("a");
    long bytes = InstructBlipFolder.write(a, config, 4_000_000, shared);
    JsonNode index = new ObjectMapper().readTree(a.resolve("model.safetensors.index.json").toFile());
    assertEquals(bytes, index.get("metadata").get("total_size").asLong());
    Set<String> shards = new HashSet<>();
    index.get("weight_map").forEach(f -> shards.add(f.asText()));
    assertTrue(shards.size() > 1, "several shards: " + shards);
    try (var lm = InstructBlipForConditionalGeneration.load(a); var scope = Scope.open()) {
      assertEquals(index.get("weight_map").size(), lm.namedParameters().size(), "every parameter once");
      lm.namedParameters().values().forEach(p -> assertEquals(DType.BF16, p.get().dtype(), p.path()));
      assertEquals(bytes, lm.weightBytes());
      var tok = TokenizerLoader.load(a);
      var wp = TokenizerLoader.fromVocabTxt(a.resolve("qformer_tokenizer/vocab.txt"));
      String q = "What is unusual about this image?";
      int[] qids = InstructBlipPrompt.qformerIds(wp, q, lm.config);
      assertTrue(java.util.Arrays.stream(qids).noneMatch(i -> i == 100), "the real BERT vocabulary knows every word");
      var img = new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB);
      Random r = new Random(1);
      for (int y = 0; y < 30; y++) {
        for (int x = 0; x < 40; x++) {
          img.setRGB(x, y, r.nextInt(1 << 24));
        }
      }
      Path png = tmp.resolve("x.png");
      javax.imageio.ImageIO.write(img, "png", png.toFile());
      Tensor pixels = ImageProcessor.fromConfig(a.resolve("preprocessor_config.json")).process(png).unsqueeze(0);
      var in = lm.prepare(InstructBlipPrompt.llmIds(tok, q), qids, pixels);
      try (var s = lm.prefill(in.toInputs(), in.ids().length + 2)) {
        float[] logits = s.logits();
        assertEquals(32001, logits.length);
        for (float v : logits) {
          assertTrue(Float.isFinite(v), "finite logits");
        }
      }
    }
    // the same bytes cut into other shards
    Path b = tmp.resolve("b");
    InstructBlipFolder.write(b, config, 1L << 40, shared);
    assertTrue(Files.isRegularFile(b.resolve("model-00001-of-00001.safetensors")));
    try (var wa = WeightFiles.open(a); var wb = WeightFiles.open(b)) {
      for (String n : new String[] {"language_model.model.embed_tokens.weight", "vision_model.encoder.layers.38.mlp.fc2.weight"}) {
        assertArrayEquals(wa.get(n).toFloatArray(), wb.get(n).toFloatArray(), n);
      }
    }
  }
}
