package dev.fovea.llm.llama;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.nn.StateDictException;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input is a clear error that names what is wrong. */
class LlamaBadInputTest {
  static LlamaForCausalLM model;

  @BeforeAll
  static void load() {
    model = LlamaForCausalLM.load(LlamaFixtures.dir("tiny"));
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static void assertMessage(Throwable t, String... parts) {
    for (String p : parts) {
      assertTrue(t.getMessage().contains(p), "message lacks '" + p + "': " + t.getMessage());
    }
  }

  @Test
  void idsOutsideTheVocabulary() {
    // an "image token" id one past the vocabulary (LLaVA's <image> = 32000 in a 32000-entry LLaMA)
    assertMessage(assertThrows(LlamaException.class, () -> model.prefill(Inputs.ids(1, 5, 512, 7), 16)), "token id 512 at position 2",
        "outside the vocabulary [0, 512)");
    assertMessage(assertThrows(LlamaException.class, () -> model.prefill(Inputs.ids(1, -3), 16)), "token id -3");
    try (var s = model.prefill(Inputs.ids(1, 5), 16)) {
      assertMessage(assertThrows(LlamaException.class, () -> model.step(s, 100000)), "token id 100000");
    }
  }

  @Test
  void contextLongerThanTheModelOrTheCache() {
    int[] longPrompt = new int[300];
    java.util.Arrays.fill(longPrompt, 7);
    assertMessage(assertThrows(LlamaException.class, () -> model.prefill(Inputs.ids(longPrompt), 400)), "context too long",
        "max_position_embeddings 256");
    assertMessage(assertThrows(LlamaException.class, () -> model.newState(1, 1000)), "max_position_embeddings 256");
    try (var s = model.prefill(Inputs.ids(1, 5, 6), 4)) {
      model.step(s, 9);
      assertMessage(assertThrows(LlamaException.class, () -> model.step(s, 9)), "context too long", "capacity of 4");
    }
  }

  @Test
  void badEmbeddingsShape() {
    try (var scope = Scope.open()) {
      assertMessage(assertThrows(LlamaException.class, () -> model.prefill(Inputs.embeddings(Tensor.zeros(1, 3, 32)), 8)), "must be [B, T, 64]");
    }
  }

  @Test
  void badConfigs(@TempDir Path tmp) throws Exception {
    ObjectNode base = (ObjectNode) new ObjectMapper().readTree(LlamaFixtures.dir("tiny").resolve("config.json").toFile());
    ObjectNode kv = base.deepCopy().put("num_key_value_heads", 3);
    assertMessage(assertThrows(LlamaException.class, () -> LlamaConfig.fromJson(kv, "c.json")), "num_key_value_heads", "3", "c.json");
    ObjectNode yarn = base.deepCopy();
    yarn.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
    assertMessage(assertThrows(LlamaException.class, () -> LlamaConfig.fromJson(yarn, "c.json")), "yarn", "not supported");
    ObjectNode noVocab = base.deepCopy();
    noVocab.remove("vocab_size");
    assertMessage(assertThrows(LlamaException.class, () -> LlamaConfig.fromJson(noVocab, "c.json")), "vocab_size");
    ObjectNode linear = base.deepCopy();
    linear.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
    assertTrue(LlamaConfig.fromJson(linear, "c.json").ropeScaling().type().equals("linear"));
  }

  /**
   * A config with more layers than the checkpoint is refused, naming both counts, before the model is
   * built; a checkpoint missing tensors gets one strict-load report naming each of them.
   */
  @Test
  void checkpointMissingTensors(@TempDir Path tmp) throws Exception {
    ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(LlamaFixtures.dir("tiny").resolve("config.json").toFile());
    cfg.put("num_hidden_layers", 4);
    Files.writeString(tmp.resolve("config.json"), cfg.toString());
    Files.copy(LlamaFixtures.dir("tiny").resolve("model.safetensors"), tmp.resolve("model.safetensors"));
    assertMessage(assertThrows(LlamaException.class, () -> LlamaForCausalLM.load(tmp)), "num_hidden_layers = 4 but the weights have 3");

    Path partial = Files.createDirectories(tmp.resolve("partial"));
    Files.copy(LlamaFixtures.dir("tiny").resolve("config.json"), partial.resolve("config.json"));
    var items = new java.util.ArrayList<dev.fovea.tensor.io.SafetensorsWriter.Item>();
    try (var src = dev.fovea.tensor.io.WeightFiles.open(LlamaFixtures.dir("tiny").resolve("model.safetensors"))) {
      for (String n : src.names()) {
        if (!n.equals("model.layers.2.self_attn.q_proj.weight") && !n.equals("model.layers.2.mlp.down_proj.weight")) {
          items.add(new dev.fovea.tensor.io.SafetensorsWriter.Item(n, src.get(n)));
        }
      }
      dev.fovea.tensor.io.SafetensorsWriter.write(partial.resolve("model.safetensors"), items, java.util.Map.of());
    }
    assertMessage(assertThrows(StateDictException.class, () -> LlamaForCausalLM.load(partial)), "model.layers.2.self_attn.q_proj.weight",
        "model.layers.2.mlp.down_proj.weight");
  }
}
