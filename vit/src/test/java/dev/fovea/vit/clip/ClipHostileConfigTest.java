package dev.fovea.vit.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.SafetensorsWriter;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile CLIP config.json (issue 21 item 2) fails at once with one short ClipConfigException naming
 * the file, the dotted key and the value as written; the config is compared with the tensor list
 * before any module is built.
 */
class ClipHostileConfigTest {
  @TempDir Path dir;

  static final Path TINY = ClipReference.ROOT.resolve("tiny-p32");

  /** A copy of tiny-p32 whose config.json has {@code from} replaced by {@code to}. */
  Path folder(String name, String from, String to) throws Exception {
    Path f = Files.createDirectories(dir.resolve(name));
    Files.copy(TINY.resolve("model.safetensors"), f.resolve("model.safetensors"));
    String config = Files.readString(TINY.resolve("config.json"));
    assertTrue(config.contains(from), from);
    Files.writeString(f.resolve("config.json"), config.replace(from, to));
    return f;
  }

  static ClipConfigException fails(Executable e, String... parts) {
    ClipConfigException x = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(ClipConfigException.class, e));
    String m = x.getMessage();
    for (String p : parts) {
      assertTrue(m.contains(p), "message lacks '" + p + "': " + m.substring(0, Math.min(m.length(), 4000)));
    }
    assertTrue(m.length() < 2048, "message of " + m.length() + " chars: " + m.substring(0, Math.min(m.length(), 4000)));
    assertFalse(m.contains("REDACTED") || m.contains("Source:"), m);
    return x;
  }

  static ClipConfig parse(String json) {
    return ClipConfig.parse(json.getBytes(StandardCharsets.UTF_8), "test/config.json");
  }

  @Test
  void aMillionLayersFailAtOnce() throws Exception {
    Path f = folder("million", "\"num_hidden_layers\": 2,\n    \"num_attention_heads\": 4", "\"num_hidden_layers\": 1000000,\n    \"num_attention_heads\": 4");
    ClipConfigException e = fails(() -> ClipModel.open(f), f.resolve("config.json").toString(),
        "'vision_config.num_hidden_layers' must be at most 1024 (fovea's limit), found 1000000");
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void layerCountsAreComparedWithTheWeightsBeforeBuilding() throws Exception {
    Path f = folder("thousand", "\"num_hidden_layers\": 2,\n    \"num_attention_heads\": 2", "\"num_hidden_layers\": 1000,\n    \"num_attention_heads\": 2");
    ClipConfigException e = fails(() -> ClipModel.open(f), "the sizes in " + f.resolve("config.json") + " disagree with the weights in",
        "text_config.num_hidden_layers = 1000 but the weights have 2 (text_model.encoder.layers.0 to text_model.encoder.layers.1)");
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    // the towers loaded alone check their own part
    fails(() -> {
      try (ClipCheckpoint c = ClipCheckpoint.open(f)) {
        ClipTextModel.load(c);
      }
    }, "text_config.num_hidden_layers = 1000");
    Path v = folder("vision", "\"image_size\": 64", "\"image_size\": 96");
    fails(() -> {
      try (ClipCheckpoint c = ClipCheckpoint.open(v)) {
        ClipVisionModel.load(c);
      }
    }, "vision_model.embeddings.position_embedding.weight is [5, 32] but [(image_size / patch_size)^2 + 1, hidden_size] of vision_config = [10, 32]");
  }

  @Test
  void badValuesNameTheFileTheDottedKeyAndTheValueAsWritten() {
    record Case(String json, String expected) {}
    for (Case c : List.of(
        new Case("{\"vision_config\": {\"num_attention_heads\": 0}}", "'vision_config.num_attention_heads' must be positive, found 0"),
        new Case("{\"text_config\": {\"hidden_size\": 1099511627776}}",
            "'text_config.hidden_size' must be at most 65536 (fovea's limit), found 1099511627776"),
        new Case("{\"vision_config\": {\"hidden_size\": 64.5, \"num_attention_heads\": 2}}", "'vision_config.hidden_size' must be an integer, found 64.5"),
        new Case("{\"vision_config\": {\"patch_size\": 1e12}}", "'vision_config.patch_size' must be an integer, found 1.0E12"),
        new Case("{\"text_config\": {\"num_hidden_layers\": \"2\"}}", "'text_config.num_hidden_layers' must be an integer, found \"2\""),
        new Case("{\"text_config\": {\"layer_norm_eps\": \"1e-5\"}}", "'text_config.layer_norm_eps' must be a finite number, found \"1e-5\""),
        new Case("{\"text_config\": {\"hidden_act\": 5}}", "'text_config.hidden_act' must be a string, found 5"),
        new Case("{\"vision_config\": [1]}", "'vision_config' must be an object, found [1]"),
        new Case("{\"projection_dim\": 1e3}", "'projection_dim' must be an integer, found 1000.0"),
        new Case("hello", "not valid JSON at line 1, column"),
        new Case("{\"a\": 1} {}", "unexpected text after the top-level value"))) {
      ClipConfigException e = fails(() -> parse(c.json()), c.expected());
      assertTrue(e.getMessage().startsWith("test/config.json: "), e.getMessage());
    }
  }

  @Test
  void nullKeysTakeTheDefaults() {
    ClipConfig c = parse("{\"projection_dim\": null, \"text_config\": {\"hidden_size\": null, \"eos_token_id\": null}, \"vision_config\": null}");
    assertEquals(512, c.projectionDim());
    assertEquals(512, c.textConfig().hiddenSize());
    assertEquals(49407, c.textConfig().eosTokenId());
    assertEquals(768, c.visionConfig().hiddenSize());
  }

  /** Many strict-load problems: the first ten by name, then how many more. */
  @Test
  void aLongListOfProblemsIsCutToTheFirstFewAndACount() throws Exception {
    Path f = Files.createDirectories(dir.resolve("stray"));
    Files.copy(TINY.resolve("config.json"), f.resolve("config.json"));
    List<SafetensorsWriter.Item> items = new ArrayList<>();
    try (WeightSource w = WeightFiles.open(TINY)) {
      for (String n : w.names()) {
        items.add(new SafetensorsWriter.Item(n, w.get(n)));
      }
      for (int i = 0; i < 500; i++) {
        items.add(new SafetensorsWriter.Item("text_model.encoder.layers.0.extra." + i + ".weight", Tensor.zeros(2)));
      }
      SafetensorsWriter.write(f.resolve("model.safetensors"), items, Map.of());
    }
    fails(() -> ClipModel.open(f), "500 unexpected", "... and 490 more");
  }
}
