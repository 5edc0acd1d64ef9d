package dev.fovea.vit.clip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.SafetensorsWriter;
import dev.fovea.tensor.io.WeightFiles;
import java.util.ArrayList;
import java.util.Map;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json reading: HF keys, class defaults, legacy *_config_dict, vision-only files, and errors naming the file and key. */
class ClipConfigTest {
  @TempDir Path dir;

  static ClipConfig parse(String json) {
    return ClipConfig.parse(json.getBytes(StandardCharsets.UTF_8), "test/config.json");
  }

  @Test
  void defaultsAreHfClassDefaults() {
    ClipConfig c = parse("{}");
    assertEquals(512, c.projectionDim());
    assertEquals(2.6592, c.logitScaleInitValue(), 1e-12);
    assertEquals(49408, c.textConfig().vocabSize());
    assertEquals(49407, c.textConfig().eosTokenId());
    assertEquals(77, c.textConfig().maxPositionEmbeddings());
    assertEquals(768, c.visionConfig().hiddenSize());
    assertEquals(32, c.visionConfig().patchSize());
    assertEquals(50, c.visionConfig().numPositions());
    assertEquals(64, c.visionConfig().headDim());
  }

  @Test
  void legacyConfigDictsOverrideThePlainOnes() {
    ClipConfig c = parse("{\"text_config\": {\"hidden_size\": 64, \"num_attention_heads\": 2},"
        + " \"text_config_dict\": {\"hidden_size\": 96, \"num_attention_heads\": 3, \"eos_token_id\": 2},"
        + " \"vision_config_dict\": {\"image_size\": 336, \"patch_size\": 14, \"hidden_size\": 1024, \"num_attention_heads\": 16}}");
    assertEquals(96, c.textConfig().hiddenSize());
    assertEquals(2, c.textConfig().eosTokenId());
    assertEquals(577, c.visionConfig().numPositions());
  }

  /**
   * Another model's config.json is refused by its model_type (or, without one, its architectures)
   * before any value is bound; the old parser read a LLaMA config as CLIP's defaults, and loading
   * then listed every tensor.
   */
  @Test
  void anotherModelTypeIsRefusedByName() {
    ClipConfigException e = assertThrows(ClipConfigException.class,
        () -> parse("{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096}"));
    assertEquals("test/config.json: this is a llama model (model_type \"llama\", architectures LlamaForCausalLM), not CLIP: a CLIP model"
        + " (zero-shot classification, text and image embeddings) needs a CLIP checkpoint (model_type \"clip\", architectures CLIPModel)", e.getMessage());
    e = assertThrows(ClipConfigException.class, () -> parse("{\"model_type\": \"llava\", \"vision_config\": {\"model_type\": \"clip_vision_model\"}}"));
    assertTrue(e.getMessage().startsWith("test/config.json: this is a llava model (model_type \"llava\"), not CLIP"), e.getMessage());
    e = assertThrows(ClipConfigException.class, () -> parse("{\"architectures\": [\"SiglipModel\"]}"));
    assertTrue(e.getMessage().startsWith("test/config.json: this is a SiglipModel model (model_type absent, architectures SiglipModel), not CLIP"),
        e.getMessage());
    // CLIP's own, and files that say nothing, are read as before
    assertEquals(512, parse("{\"model_type\": \"clip\", \"architectures\": [\"CLIPModel\"]}").projectionDim());
    assertEquals(512, parse("{\"architectures\": [\"CLIPModel\"]}").projectionDim());
    assertEquals(512, parse("{}").projectionDim());
  }

  /** Found by bench/fuzz.sh: a hostile model_type or architectures list was echoed whole (a 200 KB message). */
  @Test
  void aLongModelTypeIsCutInTheMessage() {
    String longText = "x".repeat(100_000);
    ClipConfigException e = assertThrows(ClipConfigException.class, () -> parse("{\"model_type\": \"" + longText + "\"}"));
    assertTrue(e.getMessage().startsWith("test/config.json: this is a xxx") && e.getMessage().length() < 1000, e.getMessage().length() + " chars");
    e = assertThrows(ClipConfigException.class, () -> parse("{\"architectures\": [\"Llama\", \"" + longText + "\"]}"));
    assertTrue(e.getMessage().startsWith("test/config.json: this is a Llama model") && e.getMessage().length() < 1000, e.getMessage().length() + " chars");
  }

  @Test
  void visionConfigFromAVisionOnlyFileOrANestedOne() {
    String vision = "{\"model_type\": \"clip_vision_model\", \"image_size\": 336, \"patch_size\": 14, \"hidden_size\": 1024, \"num_attention_heads\": 16}";
    assertEquals(336, ClipVisionConfig.parse(vision.getBytes(StandardCharsets.UTF_8), "v.json").imageSize());
    String llava = "{\"model_type\": \"llava\", \"vision_config\": " + vision + ", \"text_config\": {\"model_type\": \"llama\"}}";
    assertEquals(1024, ClipVisionConfig.parse(llava.getBytes(StandardCharsets.UTF_8), "l.json").hiddenSize());
    ClipConfigException e = assertThrows(ClipConfigException.class, () -> parse(vision));
    assertTrue(e.getMessage().contains("test/config.json") && e.getMessage().contains("ClipVisionModel"), e.getMessage());
  }

  @Test
  void badValuesNameTheFileAndTheKey() {
    record Case(String json, String expected) {}
    for (Case c : List.of(
        new Case("{\"vision_config\": {\"hidden_size\": 100, \"num_attention_heads\": 12}}", "'vision_config.hidden_size' 100 is not a multiple of num_attention_heads 12"),
        new Case("{\"vision_config\": {\"image_size\": 100, \"patch_size\": 32}}", "'vision_config.image_size' 100 is not a multiple of patch_size 32"),
        new Case("{\"text_config\": {\"num_hidden_layers\": 0}}", "'text_config.num_hidden_layers' must be positive, found 0"),
        new Case("{\"text_config\": {\"hidden_act\": \"swishy\"}}", "'text_config.hidden_act' unknown activation 'swishy'"),
        new Case("{\"text_config\": {\"eos_token_id\": 50000}}", "'text_config.eos_token_id' 50000 is outside the vocabulary [0, 49408)"),
        new Case("{\"projection_dim\": -1}", "'projection_dim' must be positive, found -1"),
        new Case("{\"vision_config\": {\"hidden_size\": \"wide\"}}", "'vision_config.hidden_size' must be an integer, found \"wide\""),
        new Case("{\"vision_config\": ", "not valid JSON"))) {
      ClipConfigException e = assertThrows(ClipConfigException.class, () -> parse(c.json()), c.json());
      assertTrue(e.getMessage().startsWith("test/config.json: "), e.getMessage());
      assertTrue(e.getMessage().contains(c.expected()), "expected '" + c.expected() + "' in: " + e.getMessage());
    }
  }

  @Test
  void missingConfigAndMissingWeightsAreNamed() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Exception e = assertThrows(RuntimeException.class, () -> ClipModel.open(empty));
    assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());

    Path noConfig = Files.createDirectories(dir.resolve("no-config"));
    Files.copy(ClipReference.ROOT.resolve("tiny-p32/model.safetensors"), noConfig.resolve("model.safetensors"));
    e = assertThrows(ClipConfigException.class, () -> ClipModel.open(noConfig));
    assertTrue(e.getMessage().contains(noConfig.resolve("config.json").toString()) && e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void sizesThatDisagreeWithTheWeightsAreAllListedWithTheConfigFile() throws Exception {
    Path bad = Files.createDirectories(dir.resolve("bad"));
    Files.copy(ClipReference.ROOT.resolve("tiny-p32/model.safetensors"), bad.resolve("model.safetensors"));
    String config = Files.readString(ClipReference.ROOT.resolve("tiny-p32/config.json"))
        .replace("\"projection_dim\": 24", "\"projection_dim\": 16").replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3");
    Files.writeString(bad.resolve("config.json"), config);
    ClipConfigException e = assertThrows(ClipConfigException.class, () -> ClipModel.open(bad));
    String m = e.getMessage();
    assertTrue(m.contains("the sizes in " + bad.resolve("config.json") + " disagree with the weights in"), m);
    assertTrue(m.contains("model.safetensors"), m);
    // found from the tensor list before any module is built, every disagreement at once
    assertTrue(m.contains("visual_projection.weight is [24, 32] but [projection_dim, vision_config.hidden_size] = [16, 32]"), m);
    assertTrue(m.contains("text_config.num_hidden_layers = 3 but the weights have 2 (text_model.encoder.layers.0 to text_model.encoder.layers.1)"), m);
  }

  @Test
  void positionIdsBuffersAreIgnoredButOtherStrayTensorsAreNot() throws Exception {
    Path src = ClipReference.ROOT.resolve("tiny-p32");
    for (boolean stray : new boolean[] {false, true}) {
      Path folder = Files.createDirectories(dir.resolve(stray ? "stray" : "old-checkpoint"));
      Files.copy(src.resolve("config.json"), folder.resolve("config.json"));
      List<SafetensorsWriter.Item> items = new ArrayList<>();
      try (WeightSource w = WeightFiles.open(src)) {
        for (String n : w.names()) {
          items.add(new SafetensorsWriter.Item(n, w.get(n)));
        }
        // older HF checkpoints carry the position_ids buffers (int64)
        items.add(new SafetensorsWriter.Item("vision_model.embeddings.position_ids", Tensor.ofLongs(new long[] {0, 1, 2, 3, 4}, 1, 5)));
        items.add(new SafetensorsWriter.Item("text_model.embeddings.position_ids", Tensor.ofLongs(new long[32], 1, 32)));
        if (stray) {
          items.add(new SafetensorsWriter.Item("text_model.encoder.layers.0.mlp.fc3.weight", Tensor.zeros(4, 4)));
        }
        SafetensorsWriter.write(folder.resolve("model.safetensors"), items, Map.of());
      }
      if (!stray) {
        try (ClipModel.Loaded m = ClipModel.open(folder)) {
          assertEquals(m.checkpoint().weights().names().size() - 2, m.model().namedParameters().size());
        }
      } else {
        ClipConfigException e = assertThrows(ClipConfigException.class, () -> ClipModel.open(folder));
        assertTrue(e.getMessage().contains("unexpected: text_model.encoder.layers.0.mlp.fc3.weight found [4, 4] F32"), e.getMessage());
        assertTrue(!e.getMessage().contains("position_ids"), e.getMessage());
      }
    }
  }
}
