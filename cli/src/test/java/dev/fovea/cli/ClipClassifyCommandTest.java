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

  /** A small decodable image, so that these checks need no shared data. */
  private Path anyImage() throws Exception {
    Path p = dir.resolve("any.png");
    javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(40, 30, java.awt.image.BufferedImage.TYPE_INT_RGB), "png", p.toFile());
    return p;
  }

  /**
   * Another model's folder, archive or GGUF is refused in one line that says what it is, before any
   * weight is loaded (the old code printed every missing and unexpected tensor: 16-41 KB).
   */
  @Test
  void anotherModelIsNamedInOneLine() throws Exception {
    Path image = anyImage();
    Path llama = Path.of("../llm/src/test/resources/llama-reference/tiny").toAbsolutePath().normalize();
    Path llava = Path.of("../llm/src/test/resources/llava-reference/tiny").toAbsolutePath().normalize();
    Path archive = dir.resolve("llama.fovea");
    assertEquals(0, run("convert", llama.toString(), "-o", archive.toString(), "--no-progress").code());
    record Case(Path model, String says) {}
    for (Case c : List.of(new Case(llama, llama.resolve("config.json") + ": this is a llama model (model_type \"llama\", architectures LlamaForCausalLM), not CLIP"),
        new Case(llava, llava.resolve("config.json") + ": this is a llava model (model_type \"llava\", architectures LlavaForConditionalGeneration), not CLIP"),
        new Case(archive, archive + "!config.json: this is a llama model"))) {
      Run r = run(classify(c.model(), image, "--no-progress"));
      assertEquals(1, r.code(), r.err());
      assertEquals(1, r.err().lines().count(), r.err());
      assertTrue(r.err().startsWith("fovea: ClipConfigException: " + c.says()), r.err());
      assertTrue(r.err().contains("needs a CLIP checkpoint (model_type \"clip\", architectures CLIPModel)"), r.err());
      assertEquals("", r.out());
    }
    LlamaAskCommandTest ask = new LlamaAskCommandTest();
    ask.tmp = dir;
    Path gguf = ask.gguf();
    Run r = run(classify(gguf, image, "--no-progress"));
    assertEquals(1, r.code(), r.err());
    assertEquals(List.of("fovea: ClipConfigException: " + gguf + ": a single weights file (general.architecture llama), not a CLIP checkpoint:"
        + " CLIP loads from an HF model folder (config.json, weights, vocab.json, merges.txt) or a fovea archive of one"), r.err().lines().toList());
  }

  /**
   * --labels: a value that looks like a file name (a / or a .txt/.csv/.tsv/.json ending, no comma)
   * must name a file (the old code took "/nonexistent.txt" as the one label and printed 1.0000); a
   * folder is not a file of labels; one label is refused (its probability is 1 whatever the image);
   * a .json file is an array of strings.
   */
  @Test
  void labelsThatLookLikeAFileMustBeOne() throws Exception {
    Path image = anyImage();
    List<String> base = List.of("classify", "--model", TINY.toString(), "--image", image.toString(), "--no-progress", "--labels");
    Path missing = dir.resolve("nonexistent.txt");
    for (String v : List.of(missing.toString(), "/nonexistent.txt", "labels.csv", "sub/labels", "LABELS.JSON")) {
      OptionRangesTest.usageError("--labels " + v + ": no such file (a value without a comma that contains a / or ends in .txt, .csv, .tsv, .json"
          + " is a file name; give labels as a,b,c)", with(base, v));
    }
    OptionRangesTest.usageError("--labels " + dir + ": a folder, not a file of labels", with(base, dir.toString()));
    OptionRangesTest.usageError("--labels needs at least 2 labels (with one, its probability is 1 whatever the image), got 1 from \"cat\"",
        with(base, "cat"));
    Path one = Files.writeString(dir.resolve("one.txt"), "cat\n\n");
    OptionRangesTest.usageError("--labels needs at least 2 labels (with one, its probability is 1 whatever the image), got 1 in " + one,
        with(base, one.toString()));
    Path badJson = Files.writeString(dir.resolve("labels.json"), "{\"cat\": 1}");
    OptionRangesTest.usageError("--labels " + badJson + ": expected a JSON array of label strings", with(base, badJson.toString()));

    Path json = Files.writeString(dir.resolve("labels2.json"), "[\"cat\", \"dog\", \"rocket\"]");
    Run r = run(with(base, json.toString(), "--json"));
    assertEquals(0, r.code(), r.err());
    JsonNode preds = new ObjectMapper().readTree(r.out()).get("predictions");
    assertEquals(3, preds.size(), r.out());
    // a list whose labels hold a / is still a list
    r = run(with(base, "AC/DC,rock band", "--json"));
    assertEquals(0, r.code(), r.err());
    assertEquals(2, new ObjectMapper().readTree(r.out()).get("predictions").size(), r.out());
  }

  private static String[] with(List<String> base, String... extra) {
    List<String> all = new java.util.ArrayList<>(base);
    all.addAll(List.of(extra));
    return all.toArray(String[]::new);
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
