package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every numeric option is bounded: a value outside its range is a usage error (exit 2) of one line
 * naming the option, the allowed range and the value, plus the --help hint, and it comes before any
 * long work (the old code ran {@code vicrop --high-res --tile-size 1} for 30,000 tiles). Ranges
 * that the model sets (context, vocabulary, layers, tower input size) are checked once it is
 * loaded, before its weights are paged in.
 */
class OptionRangesTest {
  static final Path LLAVA = VicropCommandTest.MODEL; // 84 px tower, 3 layers, context 320
  static final Path LLAMA = Path.of("../llm/src/test/resources/llama-reference/tiny"); // context 256, vocabulary 512, no tokenizer
  static final Path LLAVA_TOKENIZER = Path.of("../llm/src/test/resources/llava-reference/tiny"); // tokenizer.bin
  /** Each rejected call must return at once; the old code spent minutes on some of them. */
  static final Duration QUICK = Duration.ofSeconds(60);

  @TempDir Path tmp;

  /** Runs fovea and expects a usage error: exactly {@code message} and the hint, exit 2. */
  static void usageError(String message, String... args) {
    var r = assertTimeoutPreemptively(QUICK, () -> LlamaAskCommandTest.run(args), () -> "still running after " + QUICK + ": " + List.of(args));
    String command = args[0].equals("eval") ? "fovea eval " + args[1] : "fovea " + args[0];
    assertEquals(List.of(command + ": " + message, "Try '" + command + " --help' for more information."), r.err().lines().toList(),
        "exit " + r.code() + ", " + List.of(args));
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
  }

  private Path png(String name, int width, int height) throws Exception {
    Path p = tmp.resolve(name);
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.setRGB(x, y, (x * 7 % 256) << 16 | (y * 5 % 256) << 8 | (x + y) % 256);
      }
    }
    ImageIO.write(img, "png", p.toFile());
    return p;
  }

  private static String[] vicrop(Path image, String... extra) {
    List<String> args = new ArrayList<>(List.of("vicrop", "--model", LLAVA.toString(), "--image", image.toString(), "--question", "What is it?",
        "--no-progress"));
    args.addAll(List.of(extra));
    return args.toArray(String[]::new);
  }

  @Test
  void vicropTileSizeIsBoundedBeforeAnyTileRuns() throws Exception {
    Path image = png("small.png", 200, 150);
    usageError("--tile-size must be within [64, 100000], got 1", vicrop(image, "--method", "rel-att", "--layer", "1", "--high-res", "--tile-size", "1"));
    usageError("--tile-size must be within [64, 100000], got 0", vicrop(image, "--tile-size", "0"));
    usageError("--tile-size must be within [64, 100000], got 200000", vicrop(image, "--tile-size", "200000"));
    // the model's own floor: tiles at least its tower's input (84 px here), known once it is loaded
    usageError("--tile-size must be within [84, 100000] (at least the vision tower's input size, 84 px), got 64",
        vicrop(image, "--method", "rel-att", "--layer", "1", "--high-res", "--tile-size", "64"));
  }

  @Test
  void vicropRefusesMoreThan64TilesAndSaysWhichTileSizeWorks() throws Exception {
    // 1000 x 800 at 84: ceil(800 / 84) = 10 rows, int(10 * 1000 / 800) = 12 columns
    Path image = png("large.png", 1000, 800);
    usageError("--tile-size 84 splits the 1000 x 800 image into 10 x 12 = 120 tiles, more than 64; use --tile-size 115 or more",
        vicrop(image, "--method", "rel-att", "--layer", "1", "--high-res", "--tile-size", "84"));
    // 115: ceil(800 / 115) = 7 rows, int(7 * 1000 / 800) = 8 columns, 56 tiles; 114 gives 8 x 10
    assertEquals(56, dev.fovea.methods.vicrop.Tiling.plan(1000, 800, 115).count());
    assertEquals(80, dev.fovea.methods.vicrop.Tiling.plan(1000, 800, 114).count());
  }

  @Test
  void vicropBaseSizeLayerAndAnswerLength() throws Exception {
    Path image = png("small.png", 200, 150);
    usageError("--base-size must be within [64, 100000], got 0", vicrop(image, "--method", "none", "--base-size", "0"));
    usageError("--base-size must be within [64, 100000], got 1", vicrop(image, "--method", "none", "--base-size", "1"));
    usageError("--layer must be at least 0, got -1", vicrop(image, "--layer", "-1"));
    usageError("--layer must be within [0, 2] (the language model has 3 layers), got 3", vicrop(image, "--method", "grad-att", "--layer", "3"));
    usageError("--max-new-tokens must be at least 1, got 0", vicrop(image, "--method", "none", "--max-new-tokens", "0"));
    usageError("--max-new-tokens must be within [1, 320] (the model's context), got 100000",
        vicrop(image, "--method", "none", "--max-new-tokens", "100000"));
  }

  @Test
  void evalVqaLimitDataAndImages() throws Exception {
    Path data = Files.writeString(tmp.resolve("q.jsonl"), "{\"image\": \"small.png\", \"question\": \"What?\", \"answers\": [\"x\"]}\n");
    Path out = tmp.resolve("results.jsonl");
    List<String> base = List.of("eval", "vqa", "--model", LLAVA.toString(), "--images", tmp.toString(), "--out", out.toString(), "--no-progress");
    usageError("--limit must be at least 1, got 0", concat(base, "--data", data.toString(), "--limit", "0"));
    usageError("--tile-size must be within [64, 100000], got 1", concat(base, "--data", data.toString(), "--tile-size", "1"));
    Path missing = tmp.resolve("nonexistent.jsonl");
    usageError("--data " + missing + ": no such file", concat(base, "--data", missing.toString()));
    usageError("--data " + tmp + ": a folder, not a file", concat(base, "--data", tmp.toString()));
    List<String> noImages = List.of("eval", "vqa", "--model", LLAVA.toString(), "--data", data.toString(), "--out", out.toString());
    usageError("--images " + tmp.resolve("nope") + ": no such folder", concat(noImages, "--images", tmp.resolve("nope").toString()));
    usageError("--images " + data + ": not a folder", concat(noImages, "--images", data.toString()));
    // a setting the model refuses leaves no results file, whose header would refuse the next run
    usageError("--layer must be within [0, 2] (the language model has 3 layers), got 7", concat(base, "--data", data.toString(), "--layer", "7"));
    assertTrue(!Files.exists(out), "no results file written");
  }

  private static String[] concat(List<String> base, String... extra) {
    List<String> all = new ArrayList<>(base);
    all.addAll(List.of(extra));
    return all.toArray(String[]::new);
  }

  @Test
  void askSamplingAndLength() {
    String m = LLAMA.toString();
    usageError("--max-new-tokens must be at least 1, got 0", "ask", "--model", m, "--prompt", "a", "--max-new-tokens", "0");
    usageError("--temperature must be within [0, 100], got 1000", "ask", "--model", m, "--prompt", "a", "--temperature", "1000");
    usageError("--temperature must be within [0, 100], got NaN", "ask", "--model", m, "--prompt", "a", "--temperature", "NaN");
    usageError("--temperature must be within [0, 100], got -0.5", "ask", "--model", m, "--prompt", "a", "--temperature", "-0.5");
    usageError("--top-p must be within (0, 1], got 0", "ask", "--model", m, "--prompt", "a", "--temperature", "1", "--top-p", "0");
    usageError("--top-p must be within (0, 1], got 1.5", "ask", "--model", m, "--prompt", "a", "--temperature", "1", "--top-p", "1.5");
    usageError("--top-k must be at least 0, got -1", "ask", "--model", m, "--prompt", "a", "--temperature", "1", "--top-k", "-1");
    usageError("--repetition-penalty must be within [0.1, 10], got 0", "ask", "--model", m, "--prompt", "a", "--repetition-penalty", "0");
    usageError("--repetition-penalty must be within [0.1, 10], got 1000", "ask", "--model", m, "--prompt", "a", "--repetition-penalty", "1000");
    usageError("--stop must not be empty", "ask", "--model", m, "--prompt", "a", "--stop", "");
    // the model's bounds: its context (256 positions) and its vocabulary (512 ids)
    usageError("--max-new-tokens must be within [1, 256] (the model's context), got 100000", "ask", "--model", m, "--prompt", "a",
        "--max-new-tokens", "100000", "--no-progress");
    usageError("--top-k must be within [0, 512] (the model's vocabulary), got 100000", "ask", "--model", m, "--prompt", "a", "--temperature", "1",
        "--top-k", "100000", "--no-progress");
  }

  @Test
  void demoStepsHiddenAndLearningRate() {
    usageError("--steps must be within [1, 100000], got 0", "spirals", "--steps", "0");
    usageError("--steps must be within [1, 100000], got 2000000000", "spirals", "--steps", "2000000000");
    usageError("--hidden must be within [1, 4096], got 100000", "spirals", "--steps", "1", "--hidden", "100000");
    usageError("--lr must be within (0, 10], got 0", "spirals", "--lr", "0");
    usageError("--lr must be within (0, 10], got 100", "spirals", "--steps", "1", "--lr", "100");
  }

  @Test
  void tokenizeDecodeIdsWithinTheVocabulary() {
    String m = LLAVA_TOKENIZER.toString();
    usageError("--decode must be at least 0, got -1", "tokenize", "--model", m, "--decode", "1,-1");
    var ok = LlamaAskCommandTest.run("tokenize", "--model", m, "--decode", "1,2");
    assertEquals(0, ok.code(), ok.err());
    var r = LlamaAskCommandTest.run("tokenize", "--model", m, "--decode", "99999");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().lines().findFirst().orElse("").matches("fovea tokenize: --decode must be within \\[0, \\d+\\] \\(the vocabulary has \\d+ ids\\), got 99999"),
        r.err());
  }
}
