package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert x.gguf -o x.fovea} for a llama GGUF without --mmproj: the archive carries the GGUF's
 * config and tokenizer and answers {@code ask} exactly as the GGUF does.
 */
class GgufConvertAskTest {
  static final Path TINY = Path.of("../llm/src/test/resources/llama-reference/tiny");

  @TempDir Path tmp;

  private static LlamaAskCommandTest.Run run(String... args) {
    return LlamaAskCommandTest.run(args);
  }

  private static JsonNode askJson(Path model, String prompt, int maxNew) throws Exception {
    LlamaAskCommandTest.Run r = run("ask", "--model", model.toString(), "--prompt", prompt, "--max-new-tokens", String.valueOf(maxNew), "--json", "--no-progress");
    assertEquals(0, r.code(), model + ": " + r.err());
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void tinyLlamaGgufArchiveAnswersAsTheGguf() throws Exception {
    LlamaAskCommandTest fixture = new LlamaAskCommandTest();
    fixture.tmp = tmp;
    Path gguf = fixture.gguf();
    Path archive = tmp.resolve("tiny.fovea");
    LlamaAskCommandTest.Run c = run("convert", gguf.toString(), "-o", archive.toString(), "--dtype", "f32", "--no-progress");
    assertEquals(0, c.code(), c.err());

    for (String prompt : List.of("a b c", "b c1 d")) {
      JsonNode g = askJson(gguf, prompt, 12);
      JsonNode a = askJson(archive, prompt, 12);
      assertTrue(g.get("tokens").size() > 0, g.toString());
      assertEquals(g.get("prompt_tokens"), a.get("prompt_tokens"));
      assertEquals(g.get("tokens"), a.get("tokens"));
      assertEquals(g.get("text"), a.get("text"));
    }

    // The archive holds the HF checkpoint the GGUF was made from: same names, q/k rows in HF
    // order (the GGUF stores them permuted), same values; config.json with its hyper-parameters.
    JsonNode hf = new ObjectMapper().readTree(TINY.resolve("config.json").toFile());
    try (ArchiveReader ar = ArchiveReader.open(archive); WeightSource ref = WeightFiles.open(TINY.resolve("model.safetensors")); Scope s = Scope.open()) {
      assertEquals(ref.names(), ar.names(), "tensor names");
      for (String n : ref.names()) {
        Tensor want = Ops.to(ref.get(n), DType.F32);
        Tensor got = ar.get(n);
        assertEquals(DType.F32, got.dtype(), n);
        assertArrayEquals(want.toFloatArray(), got.toFloatArray(), n);
      }
      JsonNode cfg = new ObjectMapper().readTree(ar.file("config.json"));
      for (String k : List.of("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "max_position_embeddings")) {
        assertEquals(hf.get(k).asInt(), cfg.get(k).asInt(), k);
      }
      assertEquals((float) hf.get("rms_norm_eps").asDouble(), (float) cfg.get("rms_norm_eps").asDouble());
      assertEquals("llama", cfg.get("model_type").asText());
      assertTrue(ar.fileNames().contains("tokenizer.gguf.json"), ar.fileNames().toString());
      assertFalse(ar.metadata().containsKey("tokenizer.ggml.tokens"), "the vocabulary lives in tokenizer.gguf.json");
      assertEquals("llama", ar.metadata().get("general.architecture"));
    }
  }

  /** The real stories260K (Karpathy's tinyllamas, llama.cpp GGUF with its SentencePiece vocabulary). */
  @Test
  void stories260KArchiveTellsTheSameStory() throws Exception {
    String shared = System.getProperty("fovea.shared", "../shared");
    Path gguf = Path.of(shared, "data", "models", "stories260K", "stories260K.gguf");
    assumeTrue(Files.isRegularFile(gguf), "SKIPPED: ../shared absent (fovea.shared = " + shared + "); needs " + gguf);
    Path archive = tmp.resolve("stories260K.fovea");
    LlamaAskCommandTest.Run c = run("convert", gguf.toString(), "-o", archive.toString(), "--dtype", "f32", "--no-progress");
    assertEquals(0, c.code(), c.err());
    String expected = ", there was a little girl named Lily. She loved to play outside in the park.";
    JsonNode a = askJson(archive, "Once upon a time", 40);
    assertTrue(a.get("text").asText().startsWith(expected), a.get("text").asText());
    JsonNode g = askJson(gguf, "Once upon a time", 40);
    assertEquals(g.get("tokens"), a.get("tokens"));
  }
}
