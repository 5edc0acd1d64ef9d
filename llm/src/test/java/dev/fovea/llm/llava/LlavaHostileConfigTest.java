package dev.fovea.llm.llava;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A hostile LLaVA config.json (issue 21 item 2): both towers' keys are typed and bounded, the config is
 * compared with the tensor list before any module is built, and every error is one short
 * LlavaException naming the file, the dotted key and the value as written.
 */
class LlavaHostileConfigTest {
  static ObjectNode config() throws Exception {
    return (ObjectNode) new ObjectMapper().readTree(LlavaFixtures.configJson());
  }

  static byte[] edited(Consumer<ObjectNode> edit) throws Exception {
    ObjectNode c = config();
    edit.accept(c);
    return c.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Loading the tiny checkpoint with {@code json} fails within 10 s with a short LlavaException containing every part. */
  static void loadFails(byte[] json, String... parts) {
    try (WeightSource w = WeightFiles.open(LlavaFixtures.dir().resolve("model.safetensors"))) {
      check(assertTimeoutPreemptively(Duration.ofSeconds(10),
          () -> assertThrows(LlavaException.class, () -> LlavaForConditionalGeneration.load(w, json, "cfg.json"))), parts);
    }
  }

  static void check(LlavaException e, String... parts) {
    String m = e.getMessage();
    for (String p : parts) {
      assertTrue(m.contains(p), "message lacks '" + p + "': " + m.substring(0, Math.min(m.length(), 4000)));
    }
    assertTrue(m.length() < 2048, "message of " + m.length() + " chars: " + m.substring(0, Math.min(m.length(), 4000)));
    assertFalse(m.contains("REDACTED"), m);
    if (!String.join("", parts).contains("[")) { // a shape disagreement comes with its lm_head twin, on two lines
      assertFalse(m.contains("\n"), m);
    }
  }

  @Test
  void aMillionLayersInEitherTowerFailAtOnce() throws Exception {
    loadFails(edited(c -> ((ObjectNode) c.get("text_config")).put("num_hidden_layers", 1_000_000)),
        "cfg.json: 'text_config.num_hidden_layers' must be at most 1024 (fovea's limit), found 1000000");
    loadFails(edited(c -> ((ObjectNode) c.get("vision_config")).put("num_hidden_layers", 1_000_000)),
        "cfg.json: 'vision_config.num_hidden_layers' must be at most 1024 (fovea's limit), found 1000000");
  }

  @Test
  void layerCountsAreComparedWithTheWeightsBeforeBuilding() throws Exception {
    loadFails(edited(c -> ((ObjectNode) c.get("vision_config")).put("num_hidden_layers", 1000)), "cfg.json disagrees with the weights in",
        "vision_config.num_hidden_layers = 1000 but the weights have 3 (vision_tower.vision_model.encoder.layers.0 to");
    loadFails(edited(c -> ((ObjectNode) c.get("text_config")).put("num_hidden_layers", 1000)),
        "text_config.num_hidden_layers = 1000 but the weights have 2 (language_model.model.layers.0 to language_model.model.layers.1)");
    loadFails(edited(c -> ((ObjectNode) c.get("text_config")).put("vocab_size", 4000)),
        "language_model.model.embed_tokens.weight is [576, 64] but [vocab_size, hidden_size] of text_config = [4000, 64]");
  }

  @Test
  void badValuesNameTheDottedKeyAndTheValueAsWritten() throws Exception {
    record Case(Consumer<ObjectNode> edit, String expected) {}
    for (Case c : List.of(
        new Case(n -> ((ObjectNode) n.get("text_config")).put("num_attention_heads", 0), "cfg.json: 'text_config.num_attention_heads' must be positive, found 0"),
        new Case(n -> ((ObjectNode) n.get("text_config")).put("hidden_size", 1099511627776L),
            "cfg.json: 'text_config.hidden_size' must be at most 65536 (fovea's limit), found 1099511627776"),
        new Case(n -> ((ObjectNode) n.get("vision_config")).put("hidden_size", 64.5), "cfg.json: 'vision_config.hidden_size' must be an integer, found 64.5"),
        new Case(n -> ((ObjectNode) n.get("vision_config")).put("image_size", "28"), "cfg.json: 'vision_config.image_size' must be an integer, found \"28\""),
        new Case(n -> ((ObjectNode) n.get("vision_config")).put("image_size", 1 << 20),
            "cfg.json: 'vision_config.image_size' must be at most 8192 (fovea's limit), found 1048576"),
        new Case(n -> n.put("image_seq_length", 4.0), "cfg.json: 'image_seq_length' must be an integer, found 4.0"),
        new Case(n -> n.put("multimodal_projector_bias", "true"), "cfg.json: 'multimodal_projector_bias' must be true or false, found \"true\""),
        new Case(n -> n.put("text_config", 5), "cfg.json: a LLaVA config needs the objects vision_config and text_config"))) {
      byte[] json = edited(c.edit());
      check(assertThrows(LlavaException.class, () -> LlavaConfig.fromJson(json, "cfg.json")), c.expected());
    }
  }

  @Test
  void textThatIsNotJsonIsOneLineWithTheLineAndColumn() {
    check(assertThrows(LlavaException.class, () -> LlavaConfig.fromJson("{\"model_type\": llava}".getBytes(StandardCharsets.UTF_8), "cfg.json")),
        "cfg.json: not valid JSON at line 1, column", "Unrecognized token 'llava'");
  }
}
