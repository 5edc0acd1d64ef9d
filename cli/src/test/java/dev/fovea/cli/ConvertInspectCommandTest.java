package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.archive.ArchiveWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runs {@code convert} and {@code inspect} in-process on a small archive made here. */
class ConvertInspectCommandTest {
  @TempDir Path dir;
  private Path source;

  record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Fovea.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @BeforeEach
  void makeArchive() throws Exception {
    Random rng = new Random(5);
    source = dir.resolve("tiny-f32.fovea");
    ArchiveWriter.to(source)
        .tensor("encoder.layers.0.mlp.fc1.weight", Tensor.randn(rng, 64, 32))
        .tensor("encoder.layers.0.mlp.fc1.bias", Tensor.randn(rng, 64))
        .tensor("encoder.layers.0.self_attn.q_proj.weight", DType.BF16, new int[] {32, 32}, "BF16", () -> Ops.to(Tensor.randn(rng, 32, 32), DType.BF16))
        .tensor("embeddings.position_embedding.weight", Tensor.randn(rng, 10, 32))
        .file("config.json", "{\"hidden_size\": 32}".getBytes(StandardCharsets.UTF_8))
        .file("preprocessor_config.json", "{\"crop_size\": 224}".getBytes(StandardCharsets.UTF_8))
        .metadata("general.name", "tiny")
        .write();
  }

  @Test
  void convertThenInspect() throws Exception {
    Path out = dir.resolve("tiny-q8.fovea");
    Run r = run("convert", source.toString(), "-o", out.toString(), "--dtype", "q8_0", "--report-error", "--no-progress");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("tensors: 4 (F32 2, Q8_0 2)"), r.out());
    assertTrue(r.out().contains("files:   config.json, preprocessor_config.json"), r.out());
    assertTrue(r.out().contains("encoder.layers.0.mlp.fc1.weight") && r.out().contains("F32>Q8_0"), r.out());
    try (ArchiveReader a = ArchiveReader.open(out)) {
      assertEquals(DType.Q8_0, a.info("encoder.layers.0.mlp.fc1.weight").dtype());
      assertEquals("tiny", a.metadata().get("general.name"));
    }

    r = run("inspect", out.toString(), "--tensors", "--metadata");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(out + ": fovea archive v1"), r.out());
    assertTrue(r.out().contains("encoder.layers.0.self_attn.q_proj.weight") && r.out().contains("[32, 32]"), r.out());
    assertTrue(r.out().contains("fovea.dtype = q8_0"), r.out());
    assertTrue(r.out().contains("config.json (18 B)"), r.out());

    r = run("inspect", out.toString(), "--json", "--tensors");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(4, j.get("tensor_count").asInt());
    assertEquals("Q8_0", j.get("tensors").get(0).get("dtype").asText());
    assertEquals(2, j.get("dtype_counts").get("Q8_0").asInt());
    assertEquals(2176, j.get("tensors").get(0).get("bytes").asLong(), "64 rows x 1 block x 34 bytes");
    assertFalse(j.has("metadata"));
  }

  @Test
  void convertJsonWithProgressBar() throws Exception {
    Path out = dir.resolve("tiny-f16.fovea");
    Run r = run("convert", source.toString(), "-o", out.toString(), "--dtype", "f16", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(4, j.get("tensors").asInt());
    assertEquals(2, j.get("dtype_counts").get("F16").asInt());
    assertEquals(Files.size(out), j.get("file_bytes").asLong());
    // standard error is not a terminal here: plain lines, from the start to 100%, no \r frames
    assertFalse(r.err().contains("\r"), r.err());
    List<String> lines = r.err().lines().toList();
    assertTrue(lines.size() >= 2, r.err());
    assertTrue(lines.stream().allMatch(l -> l.startsWith("convert ")), r.err());
    assertTrue(lines.getFirst().startsWith("convert   0% 0/"), r.err());
    assertTrue(lines.getLast().matches("convert 100% (\\d+)/\\1 KiB \\(0:\\d\\d\\) 4/4 .*"), r.err());
  }

  @Test
  void errorsAreOneLineNamingTheFile() throws Exception {
    Path bad = dir.resolve("bad.fovea");
    byte[] b = Files.readAllBytes(source);
    Files.write(bad, java.util.Arrays.copyOf(b, b.length - 3));
    Run r = run("inspect", bad.toString());
    assertEquals(1, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("fovea: ArchiveException: " + bad + ": data_length"), r.err());

    r = run("convert", source.toString(), "-o", dir.resolve("x.fovea").toString(), "--dtype", "q5_k", "--no-progress");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("unknown --dtype 'q5_k'"), r.err());
    assertFalse(Files.exists(dir.resolve("x.fovea")));

    // a safetensors file whose header promises more bytes than the file holds
    Path st = dir.resolve("model.safetensors");
    Files.write(st, new byte[] {64, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
    r = run("inspect", st.toString());
    assertEquals(1, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains(st.toString()), r.err());
  }
}
