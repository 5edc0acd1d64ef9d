package dev.fovea.llm.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.nn.StateDictException;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufWriter;
import dev.fovea.tensor.io.SafetensorsWriter;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile config.json (issue 21 item 2) fails at once with one short line naming the file, the key
 * and the value as written: no OutOfMemoryError from building a million layers, no ArithmeticException,
 * no truncated value, no megabyte list of missing tensors, no Jackson boilerplate.
 */
class LlamaHostileConfigTest {
  @TempDir Path tmp;

  /** Messages stay well under this (the old 10 000-layer message was 8.7 MB). */
  static final int SHORT = 2048;

  static ObjectNode tinyConfig() throws Exception {
    return (ObjectNode) new ObjectMapper().readTree(LlamaFixtures.dir("tiny").resolve("config.json").toFile());
  }

  /** A folder with the tiny checkpoint's weights and {@code config}. */
  Path folder(String name, String config) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.copy(LlamaFixtures.dir("tiny").resolve("model.safetensors"), dir.resolve("model.safetensors"));
    Files.writeString(dir.resolve("config.json"), config);
    return dir;
  }

  Path folder(String name, Consumer<ObjectNode> edit) throws Exception {
    ObjectNode c = tinyConfig();
    edit.accept(c);
    return folder(name, c.toString());
  }

  /** Loading fails within 10 s (the old code ran for minutes into an OutOfMemoryError) with a short message containing every part. */
  static <T extends Throwable> T fails(Class<T> type, Executable load, String... parts) {
    T e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(type, load));
    String m = e.getMessage();
    for (String p : parts) {
      assertTrue(m.contains(p), "message lacks '" + p + "': " + m.substring(0, Math.min(m.length(), 4000)));
    }
    assertTrue(m.length() < SHORT, "message of " + m.length() + " chars: " + m.substring(0, Math.min(m.length(), 4000)));
    assertFalse(m.contains("REDACTED") || m.contains("Source:"), m);
    return e;
  }

  @Test
  void aMillionLayersFailAtOnceNamingTheKeyAndTheLimit() throws Exception {
    Path dir = folder("million", c -> c.put("num_hidden_layers", 1_000_000));
    LlamaException e = fails(LlamaException.class, () -> LlamaForCausalLM.load(dir), dir.resolve("config.json").toString(),
        "'num_hidden_layers' must be at most 1024", "found 1000000");
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void aLayerCountWithinTheLimitIsComparedWithTheWeightsBeforeBuilding() throws Exception {
    // 1000 layers against the 3 of the checkpoint: one line, not 9000 missing tensors
    Path dir = folder("thousand", c -> c.put("num_hidden_layers", 1000));
    LlamaException e = fails(LlamaException.class, () -> LlamaForCausalLM.load(dir), dir.resolve("config.json") + " disagrees with the weights in",
        "num_hidden_layers = 1000 but the weights have 3 (model.layers.0 to model.layers.2)");
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    // ten thousand (the 8.7 MB message) is refused as over the limit, shortly
    Path ten = folder("ten-thousand", c -> c.put("num_hidden_layers", 10_000));
    fails(LlamaException.class, () -> LlamaForCausalLM.load(ten), "'num_hidden_layers'", "10000");
  }

  @Test
  void sizesThatDisagreeWithTheEmbeddingAreNamedBeforeBuilding() throws Exception {
    Path dir = folder("vocab", c -> c.put("vocab_size", 100_000));
    fails(LlamaException.class, () -> LlamaForCausalLM.load(dir), "model.embed_tokens.weight is [512, 64] but [vocab_size, hidden_size] = [100000, 64]",
        "lm_head.weight is [512, 64]");
  }

  @Test
  void zeroHeadsIsAConfigErrorNotADivisionByZero() throws Exception {
    Path dir = folder("zero-heads", c -> c.put("num_attention_heads", 0));
    fails(LlamaException.class, () -> LlamaForCausalLM.load(dir), dir.resolve("config.json").toString(), "'num_attention_heads' must be positive, found 0");
    ObjectNode kv = tinyConfig().put("num_key_value_heads", 0);
    fails(LlamaException.class, () -> LlamaConfig.fromJson(kv, "c.json"), "c.json: 'num_key_value_heads' must be positive, found 0");
  }

  @Test
  void valuesAreShownAsWrittenAndMustBeIntegersOfTheRightType() throws Exception {
    record Case(Consumer<ObjectNode> edit, String expected) {}
    for (Case c : List.of(
        new Case(n -> n.put("hidden_size", 1099511627776L), "c.json: 'hidden_size' must be at most 65536 (fovea's limit), found 1099511627776"),
        new Case(n -> n.put("hidden_size", 64.5), "c.json: 'hidden_size' must be an integer, found 64.5"),
        new Case(n -> n.put("vocab_size", 1e12), "c.json: 'vocab_size' must be an integer, found 1.0E12"),
        new Case(n -> n.put("intermediate_size", -128), "c.json: 'intermediate_size' must be positive, found -128"),
        new Case(n -> n.put("num_key_value_heads", "2"), "c.json: 'num_key_value_heads' must be an integer, found \"2\""),
        new Case(n -> n.put("max_position_embeddings", "256"), "'max_position_embeddings' must be an integer, found \"256\""),
        new Case(n -> n.put("rms_norm_eps", "1e-5"), "'rms_norm_eps' must be a finite number, found \"1e-5\""),
        new Case(n -> n.put("tie_word_embeddings", "false"), "'tie_word_embeddings' must be true or false, found \"false\""),
        new Case(n -> n.put("hidden_act", 7), "'hidden_act' must be a string, found 7"),
        new Case(n -> n.putArray("eos_token_id").add(2).add(2.5), "'eos_token_id[1]' must be an integer, found 2.5"),
        new Case(n -> n.put("rope_scaling", "linear"), "'rope_scaling' must be an object, found \"linear\""),
        new Case(n -> n.put("num_hidden_layers", "x".repeat(100_000)), "'num_hidden_layers' must be an integer, found \"xxx"))) {
      ObjectNode n = tinyConfig();
      c.edit().accept(n);
      fails(LlamaException.class, () -> LlamaConfig.fromJson(n, "c.json"), c.expected());
    }
  }

  @Test
  void nullAndUnknownKeysKeepTheirDefaults() throws Exception {
    ObjectNode n = tinyConfig();
    n.putNull("num_key_value_heads");
    n.putNull("head_dim");
    n.putNull("bos_token_id");
    n.putNull("max_position_embeddings");
    n.put("pretraining_tp", 1);
    n.putObject("quantization_config").put("bits", 4.5);
    LlamaConfig c = LlamaConfig.fromJson(n, "c.json");
    assertEquals(4, c.numKeyValueHeads());
    assertEquals(16, c.headDim());
    assertEquals(-1, c.bosTokenId());
    assertEquals(2048, c.maxPositionEmbeddings());
  }

  @Test
  void textThatIsNotJsonIsOneLineWithTheLineAndColumn() throws Exception {
    Path dir = folder("not-json", "hello, config");
    LlamaException e = fails(LlamaException.class, () -> LlamaForCausalLM.load(dir), dir.resolve("config.json") + ": not valid JSON at line 1, column",
        "Unrecognized token 'hello'");
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    Path unclosed = folder("unclosed", "{\"hidden_size\": 64,\n \"vocab_size\": 512");
    fails(LlamaException.class, () -> LlamaForCausalLM.load(unclosed), ": not valid JSON at line 2");
    Path brace = folder("brace", tinyConfig() + " }");
    fails(LlamaException.class, () -> LlamaForCausalLM.load(brace), ": not valid JSON at line 1");
    Path trailing = folder("trailing", tinyConfig() + " {}");
    fails(LlamaException.class, () -> LlamaForCausalLM.load(trailing), ": not valid JSON at line 1", "unexpected text after the top-level value");
    Path array = folder("array", "[1, 2]");
    fails(LlamaException.class, () -> LlamaForCausalLM.load(array), ": not a JSON object (found an array)");
    Path empty = folder("empty", "");
    fails(LlamaException.class, () -> LlamaForCausalLM.load(empty), ": empty, not a JSON object");
  }

  /** Many strict-load problems: the first ten by name, then how many more. */
  @Test
  void aLongListOfProblemsIsCutToTheFirstFewAndACount() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("stray"));
    Files.copy(LlamaFixtures.dir("tiny").resolve("config.json"), dir.resolve("config.json"));
    List<SafetensorsWriter.Item> items = new ArrayList<>();
    try (var src = WeightFiles.open(LlamaFixtures.dir("tiny").resolve("model.safetensors")); var scope = Scope.open()) {
      for (String n : src.names()) {
        items.add(new SafetensorsWriter.Item(n, src.get(n)));
      }
      for (int i = 0; i < 500; i++) {
        items.add(new SafetensorsWriter.Item("model.layers.0.extra." + i + ".weight", Tensor.zeros(2)));
      }
      SafetensorsWriter.write(dir.resolve("model.safetensors"), items, Map.of());
    }
    StateDictException e = fails(StateDictException.class, () -> LlamaForCausalLM.load(dir), "500 unexpected", "... and 490 more");
    assertEquals(500, e.problems().size());
  }

  /** A GGUF with hostile llama.* metadata: the same limits, named by the GGUF keys. */
  @Test
  void hostileGgufMetadata() throws Exception {
    Path million = gguf("million.gguf", Map.of("llama.block_count", 1_000_000L));
    fails(LlamaException.class, () -> LlamaForCausalLM.load(million), "metadata 'llama.block_count' must be at most 1024", "found 1000000");
    Path zero = gguf("zero.gguf", Map.of("llama.attention.head_count", 0L));
    fails(LlamaException.class, () -> LlamaForCausalLM.load(zero), "metadata 'llama.attention.head_count' must be positive, found 0");
    Path more = gguf("more.gguf", Map.of("llama.block_count", 1000L));
    fails(LlamaException.class, () -> LlamaForCausalLM.load(more), "GGUF metadata disagrees with its tensors",
        "llama.block_count = 1000 but the weights have 3 (blk.0 to blk.2)");
  }

  /** The tiny checkpoint as a llama GGUF, with some llama.* values replaced. */
  Path gguf(String name, Map<String, Long> overrides) {
    LlamaConfig c = LlamaConfig.fromJson(LlamaFixtures.dir("tiny").resolve("config.json"));
    List<String> vocab = LlamaFixtures.vocabulary(c.vocabSize());
    GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
    Map<String, Long> values = new java.util.LinkedHashMap<>(Map.of("llama.context_length", (long) c.maxPositionEmbeddings(),
        "llama.embedding_length", (long) c.hiddenSize(), "llama.block_count", (long) c.numHiddenLayers(), "llama.feed_forward_length",
        (long) c.intermediateSize(), "llama.attention.head_count", (long) c.numAttentionHeads(), "llama.attention.head_count_kv",
        (long) c.numKeyValueHeads(), "llama.rope.dimension_count", (long) c.headDim()));
    values.putAll(overrides);
    values.forEach(w::putUInt32);
    w.putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps()).putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", vocab);
    Path out = tmp.resolve(name);
    try (var src = WeightFiles.open(LlamaFixtures.dir("tiny").resolve("model.safetensors")); var scope = Scope.open()) {
      for (String n : src.names()) {
        w.addTensor(GgufLlamaNames.toGguf(n), GgufLlamaNames.ggufRows(n, src.get(n), c.numAttentionHeads(), c.numKeyValueHeads()), GgmlType.F32);
      }
      w.write(out);
    }
    return out;
  }
}
