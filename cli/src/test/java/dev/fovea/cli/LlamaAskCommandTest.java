package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufWriter;
import dev.fovea.tensor.io.WeightFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ask} on the llm module's tiny LLaMA fixture exported as GGUF (with a synthetic SentencePiece vocabulary). */
class LlamaAskCommandTest {
  @TempDir Path tmp;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Fovea.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return new Run(cl.execute(args), out.toString(), err.toString());
  }

  /** ../llm/src/test/resources/llama-reference/tiny as a GGUF (F32, q/k permuted llama.cpp-style). */
  Path gguf() throws Exception {
    Path dir = Path.of("../llm/src/test/resources/llama-reference/tiny");
    JsonNode c = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    int heads = c.get("num_attention_heads").asInt();
    int kv = c.get("num_key_value_heads").asInt();
    List<String> vocab = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int b = 0; b < 256; b++) {
      vocab.add(String.format("<0x%02X>", b));
    }
    for (int i = 0; vocab.size() < c.get("vocab_size").asInt(); i++) {
      vocab.add((i % 2 == 0 ? "\u2581" : "") + (char) ('a' + i % 26) + (i / 26 == 0 ? "" : Integer.toString(i / 26)));
    }
    int[] types = new int[vocab.size()];
    float[] scores = new float[vocab.size()];
    for (int i = 0; i < types.length; i++) {
      types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
      scores[i] = i < 259 ? 0 : -(i - 259);
    }
    Path out = tmp.resolve("tiny.gguf");
    try (var src = WeightFiles.open(dir.resolve("model.safetensors")); var scope = Scope.open()) {
      GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
          .putUInt32("llama.context_length", c.get("max_position_embeddings").asInt())
          .putUInt32("llama.embedding_length", c.get("hidden_size").asInt())
          .putUInt32("llama.block_count", c.get("num_hidden_layers").asInt())
          .putUInt32("llama.feed_forward_length", c.get("intermediate_size").asInt())
          .putUInt32("llama.attention.head_count", heads).putUInt32("llama.attention.head_count_kv", kv)
          .putFloat32("llama.attention.layer_norm_rms_epsilon", (float) c.get("rms_norm_eps").asDouble())
          .putString("tokenizer.ggml.model", "llama").putStrings("tokenizer.ggml.tokens", vocab)
          .putFloats("tokenizer.ggml.scores", scores).putInts("tokenizer.ggml.token_type", types)
          .putUInt32("tokenizer.ggml.bos_token_id", 1).putUInt32("tokenizer.ggml.eos_token_id", 2);
      for (String n : src.names()) {
        Tensor t = src.get(n);
        if (n.endsWith("q_proj.weight")) {
          t = GgufLlamaNames.permuteRows(t, heads);
        } else if (n.endsWith("k_proj.weight")) {
          t = GgufLlamaNames.permuteRows(t, kv);
        }
        w.addTensor(GgufLlamaNames.toGguf(n), t, GgmlType.F32);
      }
      w.write(out);
    }
    return out;
  }

  @Test
  void askStreamsGreedyTextAndJsonAgrees() throws Exception {
    Path m = gguf();
    Run text = run("ask", "--model", m.toString(), "--prompt", "a b c", "--max-new-tokens", "8", "--no-progress");
    assertEquals(0, text.code(), text.err());
    Run js = run("ask", "--model", m.toString(), "--prompt", "a b c", "--max-new-tokens", "8", "--json", "--no-progress");
    assertEquals(0, js.code(), js.err());
    JsonNode j = new ObjectMapper().readTree(js.out());
    assertEquals(j.get("text").asText() + "\n", text.out());
    assertTrue(j.get("tokens").size() <= 8 && j.get("prompt_tokens").asInt() > 1, js.out());
    // the first token came after the process started and after the prefill began (the process's start includes this test JVM's)
    assertTrue(j.get("first_token_ms").asDouble() >= j.get("prefill_ms").asDouble(), js.out());
    // sampling with a seed repeats
    String[] sampled = {"ask", "--model", m.toString(), "--prompt", "a b", "--max-new-tokens", "6", "--temperature", "0.9", "--top-p", "0.9",
        "--top-k", "20", "--seed", "3", "--json", "--no-progress"};
    JsonNode s1 = new ObjectMapper().readTree(run(sampled).out());
    JsonNode s2 = new ObjectMapper().readTree(run(sampled).out());
    assertEquals(s1.get("tokens"), s2.get("tokens"));
    assertEquals(s1.get("text"), s2.get("text"));
  }

  @Test
  void badOptionsAreClearErrors() throws Exception {
    Path m = gguf();
    Run r = run("ask", "--model", m.toString(), "--prompt", "a", "--temperature", "0.5", "--top-p", "1.5", "--no-progress");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --top-p must be within (0, 1], got 1.5"), r.err());
    Run g = run("ask", "--model", m.toString(), "--prompt", "a", "--top-k", "5", "--no-progress");
    assertTrue(g.err().contains("need --temperature"), g.err());
    // an archive converted from a folder without a tokenizer: the error names the archive, not a temporary folder
    Path archive = tmp.resolve("no-tokenizer.fovea");
    Run c = run("convert", "../llm/src/test/resources/llama-reference/tiny", "-o", archive.toString(), "--no-progress");
    assertEquals(0, c.code(), c.err());
    Run t = run("ask", "--model", archive.toString(), "--prompt", "a", "--no-progress");
    assertEquals(1, t.code());
    assertTrue(t.err().contains(archive + ": the archive carries no tokenizer"), t.err());
    // a malformed tokenizer inside an archive is named as archive!file, not as a temporary copy
    Path folder = Files.createDirectories(tmp.resolve("bad-tokenizer"));
    for (String f : new String[] {"config.json", "model.safetensors"}) {
      Files.copy(Path.of("../llm/src/test/resources/llama-reference/tiny", f), folder.resolve(f));
    }
    Files.writeString(folder.resolve("tokenizer.model"), "not a protobuf");
    Path bad = tmp.resolve("bad-tokenizer.fovea");
    assertEquals(0, run("convert", folder.toString(), "-o", bad.toString(), "--no-progress").code());
    Run b = run("ask", "--model", bad.toString(), "--prompt", "a", "--no-progress");
    assertEquals(1, b.code());
    assertTrue(b.err().contains(bad + "!tokenizer.model: "), b.err());
    assertFalse(b.err().contains("fovea-tokenizer"), b.err());
  }
}
