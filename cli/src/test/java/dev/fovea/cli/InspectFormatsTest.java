package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code inspect} (text and --json) on every input format, and reader errors as one line naming the file. */
class InspectFormatsTest {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Fovea.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  static Path fixture(String name) throws Exception {
    return Path.of(InspectFormatsTest.class.getResource("/formats/" + name).toURI());
  }

  static JsonNode json(Run r) throws Exception {
    assertEquals(0, r.code(), r.err());
    return new ObjectMapper().readTree(r.out());
  }

  static JsonNode tensor(JsonNode j, String name) {
    for (JsonNode t : j.get("tensors")) {
      if (t.get("name").asText().equals(name)) {
        return t;
      }
    }
    throw new AssertionError("no tensor " + name + " in " + j);
  }

  @Test
  void safetensors() throws Exception {
    Path f = fixture("basic.safetensors");
    Run r = run("inspect", f.toString(), "--tensors", "--metadata");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(f + ": safetensors"), r.out());
    JsonNode j = json(run("inspect", f.toString(), "--json", "--tensors", "--metadata"));
    assertEquals("safetensors", j.get("format").asText());
    assertEquals(j.get("tensor_count").asInt(), j.get("tensors").size());
    assertTrue(j.get("tensor_count").asInt() > 0);
    for (JsonNode t : j.get("tensors")) {
      assertTrue(r.out().contains(t.get("name").asText()), t.toString());
    }
  }

  @Test
  void shardedIndex() throws Exception {
    Path f = fixture("sharded/model.safetensors.index.json");
    Run r = run("inspect", f.toString(), "--tensors");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("shards:   3 (model-00001-of-00003.safetensors, model-00002-of-00003.safetensors, model-00003-of-00003.safetensors)"), r.out());
    JsonNode j = json(run("inspect", f.toString(), "--json", "--tensors", "--metadata"));
    assertEquals(3, j.get("shards").size());
    assertTrue(j.get("metadata").has("total_size"), j.toString());
    // the folder resolves to the same index
    JsonNode d = json(run("inspect", f.getParent().toString(), "--json"));
    assertEquals(j.get("tensor_count"), d.get("tensor_count"));
  }

  @Test
  void ggufWithKQuantsAndArrays() throws Exception {
    Path f = fixture("tiny.gguf");
    Run r = run("inspect", f.toString(), "--tensors", "--metadata");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(f + ": GGUF v3"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("t.q6_k") && l.contains("Q6_K") && l.contains("[2, 256]")), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("t.q4_k") && l.contains("Q4_K") && l.contains("288 B")), "2 blocks of 144 bytes\n" + r.out());
    assertTrue(r.out().contains("tokenizer.ggml.tokens = [STRING x "), r.out());
    assertTrue(r.out().contains("test.empty = [") && r.out().contains(" x 0]"), r.out());
    assertTrue(r.out().contains("test.bools = [BOOL x 2: true, false]"), r.out());
    assertTrue(r.out().contains("test.u8 = 200"), r.out());

    JsonNode j = json(run("inspect", f.toString(), "--json", "--tensors", "--metadata"));
    assertEquals(3, j.get("gguf_version").asInt());
    assertEquals("Q4_K", tensor(j, "t.q4_k").get("dtype").asText());
    assertEquals("F32", tensor(j, "t.q4_k").get("read_as").asText());
    assertEquals(288, tensor(j, "t.q4_k").get("bytes").asLong());
    assertEquals(1, j.get("dtype_counts").get("Q6_K").asInt());
    JsonNode tokens = j.get("metadata").get("tokenizer.ggml.tokens");
    assertEquals("array", tokens.get("type").asText());
    assertEquals("STRING", tokens.get("element_type").asText());
    assertTrue(tokens.get("first").size() <= InspectCommand.ARRAY_HEAD);
    assertTrue(tokens.get("length").asInt() >= tokens.get("first").size());
    assertEquals("ARRAY", j.get("metadata").get("test.nested").get("element_type").asText());
    assertEquals(200, j.get("metadata").get("test.u8").asInt());
  }

  /**
   * Opening a GGUF with K-quants logs nothing (it used to log a two-line java.util.logging INFO
   * record on stderr); inspect says in a plain line which tensors are read as F32.
   */
  @Test
  void ggufConversionsArePrintedNotLogged() throws Exception {
    Path f = fixture("tiny.gguf");
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger("dev.fovea.tensor.io");
    List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler handler = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        records.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    handler.setLevel(java.util.logging.Level.ALL);
    java.util.logging.Level before = logger.getLevel();
    logger.setLevel(java.util.logging.Level.ALL);
    logger.addHandler(handler);
    Run r;
    JsonNode j;
    try {
      r = run("inspect", f.toString());
      j = json(run("inspect", f.toString(), "--json", "--tensors"));
      run("inspect", f.toString(), "--tensors"); // reads no tensor, but a reader could log on get()
    } finally {
      logger.removeHandler(handler);
      logger.setLevel(before);
    }
    assertEquals(List.of(), records.stream().map(x -> x.getLevel() + " " + x.getMessage()).toList(), "log records");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("read as:  ") && l.contains("Q4_K 1 -> F32") && l.contains("Q6_K 1 -> F32")), r.out());
    long readAs = 0;
    for (JsonNode t : j.get("tensors")) {
      readAs += t.has("read_as") ? 1 : 0;
    }
    assertTrue(readAs >= 2, j.toString());
    assertEquals(readAs, j.get("converted_on_use").asLong(), j.toString());
  }

  @Test
  void pytorchBin() throws Exception {
    Path f = fixture("basic.bin");
    Run r = run("inspect", f.toString(), "--tensors");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(f + ": PyTorch .bin"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("transposed") && l.contains("[6, 4]")), r.out());
    JsonNode j = json(run("inspect", f.toString(), "--json", "--tensors"));
    assertEquals("I64", tensor(j, "i64").get("dtype").asText());
    assertEquals("[2,3]", tensor(j, "i64").get("shape").toString());
  }

  @Test
  void readerErrorsAreOneLineNamingTheFile() throws Exception {
    // truncated GGUF
    byte[] gguf = Files.readAllBytes(fixture("tiny.gguf"));
    Path g = dir.resolve("cut.gguf");
    Files.write(g, Arrays.copyOf(gguf, gguf.length / 2));
    // a zip that is not a torch checkpoint
    Path bin = dir.resolve("broken.bin");
    byte[] b = Files.readAllBytes(fixture("basic.bin"));
    Files.write(bin, Arrays.copyOf(b, 200));
    // an index naming a missing shard
    Path idx = dir.resolve("model.safetensors.index.json");
    Files.writeString(idx, "{\"metadata\": {}, \"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}");
    // a GGUF of another version
    Path v9 = dir.resolve("v9.gguf");
    byte[] v = Arrays.copyOf(gguf, 64);
    v[4] = 9;
    Files.write(v9, v);
    for (Path p : new Path[] {g, bin, idx, v9}) {
      for (String[] args : new String[][] {{"inspect", p.toString()}, {"inspect", p.toString(), "--json"}, {"convert", p.toString(), "-o", dir.resolve("x.fovea").toString(), "--no-progress"}}) {
        Run r = run(args);
        assertEquals(1, r.code(), p + " " + r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("fovea: ") && r.err().contains(p.toString()), r.err());
        assertTrue(r.out().isEmpty(), r.out());
      }
    }
    assertTrue(Files.notExists(dir.resolve("x.fovea")));
  }

  @Test
  void convertLlavaPairFromTheCommandLine() throws Exception {
    Random rng = new Random(1);
    Path model = dir.resolve("model.gguf");
    new GgufWriter()
        .putString("general.architecture", "llama")
        .putUInt32("llama.context_length", 16)
        .putUInt32("llama.embedding_length", 32)
        .putUInt32("llama.block_count", 0)
        .putUInt32("llama.feed_forward_length", 64)
        .putUInt32("llama.attention.head_count", 2)
        .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-6f)
        .putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", java.util.List.of("<unk>", "<s>", "</s>", "a"))
        .addTensor("token_embd.weight", Tensor.randn(rng, 4, 32), GgmlType.Q8_0)
        .addTensor("output_norm.weight", Tensor.randn(rng, 32), GgmlType.F32)
        .write(model);
    Path mmproj = dir.resolve("mmproj.gguf");
    new GgufWriter()
        .putString("general.architecture", "clip")
        .putBool("clip.has_llava_projector", true)
        .putUInt32("clip.vision.image_size", 4)
        .putUInt32("clip.vision.patch_size", 2)
        .putUInt32("clip.vision.embedding_length", 8)
        .putUInt32("clip.vision.feed_forward_length", 16)
        .putUInt32("clip.vision.attention.head_count", 2)
        .putFloat32("clip.vision.attention.layer_norm_epsilon", 1e-5f)
        .putUInt32("clip.vision.block_count", 0)
        .addTensor("v.class_embd", Tensor.randn(rng, 8), GgmlType.F32)
        .addTensor("mm.0.weight", Tensor.randn(rng, 32, 8), GgmlType.F16)
        .addTensor("mm.2.weight", Tensor.randn(rng, 32, 32), GgmlType.F16)
        .write(mmproj);
    Path out = dir.resolve("llava.fovea");
    Run r = run("convert", model.toString(), "--mmproj", mmproj.toString(), "-o", out.toString(), "--no-progress", "--dtype", "q8_0");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("files:   config.json, preprocessor_config.json, tokenizer.gguf.json"), r.out());
    JsonNode j = json(run("inspect", out.toString(), "--json", "--tensors"));
    assertEquals("Q8_0", tensor(j, "multi_modal_projector.linear_2.weight").get("dtype").asText());
    assertEquals("[8]", tensor(j, "vision_tower.vision_model.embeddings.class_embedding").get("shape").toString());
    assertEquals("F32", tensor(j, "language_model.model.norm.weight").get("dtype").asText());

    // the files swapped: one line naming the file at fault
    r = run("convert", mmproj.toString(), "--mmproj", model.toString(), "-o", dir.resolve("y.fovea").toString(), "--no-progress");
    assertEquals(1, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("fovea: FormatException: " + mmproj + ": metadata 'general.architecture'"), r.err());
  }
}
