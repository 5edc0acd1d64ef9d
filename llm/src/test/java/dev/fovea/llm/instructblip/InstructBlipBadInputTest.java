package dev.fovea.llm.instructblip;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Wrong configs, checkpoints, prompts and images fail with an InstructBlipException (or a shape error) that names what is wrong. */
class InstructBlipBadInputTest {

  private static RuntimeException fails(Executable e, String... words) {
    RuntimeException x = assertThrows(RuntimeException.class, e);
    for (String w : words) {
      assertTrue(x.getMessage().contains(w), "message lacks \"" + w + "\": " + x.getMessage());
    }
    return x;
  }

  private static byte[] config(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode root = (ObjectNode) new ObjectMapper().readTree(Files.readAllBytes(InstructBlipFixtures.dir().resolve("config.json")));
    edit.accept(root);
    return new ObjectMapper().writeValueAsBytes(root);
  }

  private static InstructBlipForConditionalGeneration load(byte[] config) {
    WeightSource w = WeightFiles.open(InstructBlipFixtures.dir().resolve("model.safetensors"));
    try {
      return InstructBlipForConditionalGeneration.load(w, config, "edited config.json");
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
  }

  @Test
  void configErrorsNameTheKey() throws Exception {
    fails(() -> load(config(r -> r.put("model_type", "llava"))), "edited config.json", "model_type", "instructblip");
    fails(() -> load(config(r -> r.remove("qformer_config"))), "qformer_config");
    fails(() -> load(config(r -> ((ObjectNode) r.get("qformer_config")).put("encoder_hidden_size", 48))), "encoder_hidden_size 48",
        "vision_config.hidden_size 32");
    fails(() -> load(config(r -> ((ObjectNode) r.get("qformer_config")).put("hidden_size", 30))), "qformer_config", "hidden_size");
    fails(() -> load(config(r -> ((ObjectNode) r.get("vision_config")).put("qkv_bias", false))), "vision_config", "qkv_bias");
    fails(() -> load(config(r -> r.put("use_decoder_only_language_model", false))), "Flan-T5");
    var e = fails(() -> load(config(r -> ((ObjectNode) r.get("vision_config")).put("hidden_act", "swish9"))), "hidden_act");
    assertInstanceOf(InstructBlipException.class, e);
  }

  @Test
  void configThatDisagreesWithTheWeightsIsRefusedBeforeBuilding() throws Exception {
    fails(() -> load(config(r -> r.put("num_query_tokens", 32))), "query_tokens", "num_query_tokens");
    fails(() -> load(config(r -> ((ObjectNode) r.get("qformer_config")).put("num_hidden_layers", 4))), "qformer_config.num_hidden_layers");
    fails(() -> load(config(r -> ((ObjectNode) r.get("vision_config")).put("image_size", 224))), "position_embedding");
    fails(() -> load(config(r -> ((ObjectNode) r.get("qformer_config")).put("vocab_size", 99))), "word_embeddings", "qformer_config");
  }

  @Test
  void missingTensorIsNamed() throws Exception {
    try (WeightSource full = WeightFiles.open(InstructBlipFixtures.dir().resolve("model.safetensors"))) {
      Map<String, Tensor> some = new LinkedHashMap<>();
      for (String n : full.names()) {
        if (!n.equals("qformer.encoder.layer.2.crossattention.attention.key.bias")) {
          some.put(n, full.get(n));
        }
      }
      fails(() -> InstructBlipForConditionalGeneration.load(WeightSource.of(some), config(r -> { }), "config.json"),
          "qformer.encoder.layer.2.crossattention.attention.key.bias");
    }
  }

  @Test
  void badPromptsAndImagesAreNamed() {
    try (var model = InstructBlipForConditionalGeneration.load(InstructBlipFixtures.dir()); var scope = Scope.open()) {
      Tensor pixels = Tensor.of(new float[3 * 56 * 56], 1, 3, 56, 56);
      fails(() -> model.prepare(new int[] {2, 5}, new int[] {101, 102}, Tensor.of(new float[3 * 28 * 28], 1, 3, 28, 28)), "[n, 3, 56, 56]");
      fails(() -> model.prepare(new int[] {2, 5}, new int[] {101, 9999}, pixels), "9999", "qformer_config.vocab_size");
      fails(() -> model.prepare(new int[] {2, 5000}, new int[] {101, 102}, pixels), "5000", "vocabulary");
      fails(() -> model.prepare(new int[0], new int[] {101, 102}, pixels), "empty");
      fails(() -> model.prepare(new int[200], new int[] {101, 102}, pixels), "context too long", "8 queries");
      fails(() -> model.prepare(new int[] {2}, new int[70], pixels), "70 tokens", "max_position_embeddings 64");
      fails(() -> model.prepare(new int[] {2}, new int[] {101, 102}, Tensor.of(new float[2 * 3 * 56 * 56], 2, 3, 56, 56)), "exactly one image");
    }
  }
}
