package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.convert.Converter;
import dev.fovea.convert.Inputs;
import dev.fovea.convert.ModelInput;
import dev.fovea.tensor.DType;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code fovea classify} in-process on the tiny CLIP reference folder (vit's test resources, made by
 * tools/reference/clip/make_clip_reference.py) and on a fovea archive converted from it; the
 * probabilities are torch's (tiny-p32.ref.safetensors "zeroshot/probs", labels x 2 templates).
 */
class ClipClassifyCommandTest {
  static final Path TINY = Path.of("..", "vit", "src", "test", "resources", "clip-reference", "tiny-p32").toAbsolutePath().normalize();
  static final List<String> LABELS = List.of("cat", "dog", "astronaut", "rocket", "coffee");
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

  static Path sharedImage(String name) {
    String shared = System.getProperty("fovea.shared");
    Path p = shared == null ? null : Path.of(shared, "data", "images", name);
    assumeTrue(p != null && Files.isRegularFile(p), "SKIPPED: ../shared/data/images absent (fovea.shared = " + shared + "); needs " + name);
    return p;
  }

  static float[] torchProbs() throws Exception {
    try (var ref = dev.fovea.tensor.io.WeightFiles.open(TINY.resolveSibling("tiny-p32.ref.safetensors"))) {
      return ref.get("zeroshot/probs").toFloatArray();
    }
  }

  private static void assertMatchesTorch(JsonNode preds, float[] probs) {
    assertEquals(LABELS.size(), preds.size());
    for (JsonNode p : preds) {
      int k = LABELS.indexOf(p.get("label").asText());
      assertEquals(probs[k], p.get("probability").floatValue(), 1e-5, p.toString());
    }
  }

  private String[] classify(Path model, Path image, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("classify", "--model", model.toString(), "--image", image.toString(),
        "--labels", String.join(",", LABELS), "--template", "a photo of a {}.", "--template", "a blurry photo of the {}."));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  @Test
  void classifyFromTheFolderMatchesTorchWithAProgressBar() throws Exception {
    Path cats = sharedImage("000000039769.png");
    Run r = run(classify(TINY, cats, "--top", "5", "--json"));
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("classify"), "progress bar on stderr: " + r.err());
    assertMatchesTorch(new ObjectMapper().readTree(r.out()).get("predictions"), torchProbs());

    r = run(classify(TINY, cats, "--top", "2", "--no-progress"));
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(2, lines.length, r.out());
    assertTrue(lines[0].matches("\\s*0\\.\\d{4}  \\w+"), lines[0]);
    assertEquals("", r.err());
  }

  @Test
  void classifyFromAConvertedArchiveWithALabelFile() throws Exception {
    Path cats = sharedImage("000000039769.png");
    Path labels = dir.resolve("labels.txt");
    Files.writeString(labels, String.join("\n", LABELS) + "\n\n");
    for (DType dtype : List.of(DType.F32, DType.F16)) {
      Path archive = dir.resolve("tiny-" + dtype + ".fovea");
      try (ModelInput in = Inputs.open(TINY)) {
        Converter.convert(in, archive, Converter.Options.of(dtype), Converter.Progress.NONE);
      }
      Run r = run("classify", "--model", archive.toString(), "--image", cats.toString(), "--labels", labels.toString(),
          "--template", "a photo of a {}.", "--template", "a blurry photo of the {}.", "--json", "--no-progress");
      assertEquals(0, r.code(), r.err());
      JsonNode preds = new ObjectMapper().readTree(r.out()).get("predictions");
      if (dtype == DType.F32) {
        assertMatchesTorch(preds, torchProbs());
      } else {
        // F16 weight matrices: same ranking, probabilities within 1e-2
        float[] probs = torchProbs();
        for (JsonNode p : preds) {
          assertEquals(probs[LABELS.indexOf(p.get("label").asText())], p.get("probability").floatValue(), 1e-2, p.toString());
        }
      }
    }
  }

  @Test
  void truncatedImageIsAClearError() {
    Path bad = sharedImage("truncated.jpg");
    Run r = run(classify(TINY, bad, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains(bad.toString()) && r.err().contains("truncated"), r.err());
  }

  @Test
  void unreadableAndOversizedImagesAreClearErrors() throws Exception {
    Path missing = dir.resolve("nope.png");
    Run r = run(classify(TINY, missing, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains(missing.toString()), r.err());

    Path text = Files.writeString(dir.resolve("notes.png"), "not an image");
    r = run(classify(TINY, text, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains(text.toString()), r.err());

    Path zero = Files.write(dir.resolve("zero.png"), pngHeaderOnly(0, 10));
    r = run(classify(TINY, zero, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains(zero.toString()) && r.err().contains("PNG"), r.err());

    Path wide = Files.write(dir.resolve("wide.png"), pngHeaderOnly(100_000, 1));
    r = run(classify(TINY, wide, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains(wide.toString()), r.err());
  }

  @Test
  void configThatDisagreesWithTheWeightsNamesFileAndTensor() throws Exception {
    Path bad = dir.resolve("bad-model");
    Files.createDirectories(bad);
    for (String f : List.of("model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json")) {
      Files.copy(TINY.resolve(f), bad.resolve(f));
    }
    String config = Files.readString(TINY.resolve("config.json")).replace("\"intermediate_size\": 64", "\"intermediate_size\": 80");
    Files.writeString(bad.resolve("config.json"), config);
    Path anyImage = Files.write(dir.resolve("tiny.png"), pngHeaderOnly(1, 1));
    Run r = run(classify(bad, anyImage, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains(bad.resolve("config.json").toString()), r.err());
    assertTrue(r.err().contains("text_model.encoder.layers.0.mlp.fc1.weight") && r.err().contains("[80, 32]") && r.err().contains("[64, 32]"), r.err());

    Files.writeString(bad.resolve("config.json"), config.replace("\"num_attention_heads\": 2", "\"num_attention_heads\": 3"));
    r = run(classify(bad, anyImage, "--no-progress"));
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("config.json") && r.err().contains("text_config.hidden_size") && r.err().contains("num_attention_heads 3"), r.err());
  }

  static byte[] pngHeaderOnly(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(17);
    ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    CRC32 crc = new CRC32();
    crc.update(ihdr.array());
    out.writeBytes(ByteBuffer.allocate(4).putInt(13).array());
    out.writeBytes(ihdr.array());
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    return out.toByteArray();
  }
}
