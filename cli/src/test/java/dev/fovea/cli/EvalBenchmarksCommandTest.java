package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval pope}, {@code eval mme} and {@code eval chair} end to end: the tiny reference LLaVA of
 * the methods module (its answers are random words: what is checked is that each recorded answer is
 * the one {@code ask} gives, the labels and counts, resuming, and the refusals), and the CHAIR fixture.
 */
class EvalBenchmarksCommandTest {
  static final Path MODEL = VicropCommandTest.MODEL;
  static final Path RESOURCES = Path.of("../methods/src/test/resources");
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SUFFIX = " Please answer this question with one word.";
  @TempDir Path tmp;

  private static LlamaAskCommandTest.Run run(String... args) {
    return LlamaAskCommandTest.run(args);
  }

  private String[] pope(Path out, String... more) throws Exception {
    Path images = ClipClassifyCommandTest.sharedImage("000000039769.png").getParent();
    ClipClassifyCommandTest.sharedImage("coffee.png");
    List<String> args = new ArrayList<>(List.of("eval", "pope", "--model", MODEL.toString(), "--data", RESOURCES.resolve("pope/sample_pope.jsonl").toString(),
        "--images", images.toString(), "--max-new-tokens", "3", "--out", out.toString(), "--json", "--no-progress"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  private static List<JsonNode> records(Path out) throws Exception {
    List<JsonNode> r = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      r.add(JSON.readTree(line));
    }
    return r;
  }

  @Test
  void evalPopeRecordsWhatAskAnswersAndResumes() throws Exception {
    Path out = tmp.resolve("pope.jsonl");
    String[] args = pope(out);
    var r = run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode s = JSON.readTree(r.out());
    assertEquals(3, s.get("answered").asInt());
    JsonNode all = s.get("all");
    // the file has two yes labels and one no label, whatever the model says
    assertEquals(3, all.get("count").asInt());
    assertEquals(2, all.get("tp").asInt() + all.get("fn").asInt());
    assertEquals(1, all.get("tn").asInt() + all.get("fp").asInt());
    assertEquals(all, s.get("splits").get("sample_pope"), "one file, one split");

    List<JsonNode> lines = records(out);
    assertEquals(4, lines.size(), "header + 3 records");
    JsonNode header = lines.get(0);
    assertEquals(1, header.get("fovea_eval_results").asInt());
    assertEquals("none", header.get("method").asText());
    assertEquals("pope", header.get("settings").get("benchmark").asText());
    assertEquals("pope", header.get("settings").get("parser").asText());
    assertEquals("vcd", header.get("settings").get("prompt").asText());
    String[][] expected = {{"1", "000000039769.png", "Is there a cat in the image?", "yes"}, {"2", "000000039769.png", "Is there a dog in the image?", "no"},
        {"3", "coffee.png", "Is there a cup in the image?", "yes"}};
    for (int i = 0; i < 3; i++) {
      JsonNode rec = lines.get(i + 1);
      assertEquals(expected[i][0], rec.get("id").asText());
      assertEquals("sample_pope", rec.get("split").asText());
      assertEquals(expected[i][1], rec.get("image").asText());
      assertEquals(expected[i][2] + SUFFIX, rec.get("prompt").asText());
      assertEquals(expected[i][3], rec.get("label").asText());
      assertEquals("none", rec.get("method").asText());
      assertEquals(42, rec.get("seed").asLong());
      assertTrue(rec.get("timings_ms").get("total").asDouble() > 0, rec.toString());
      // --decode none is ask's path: the same prompt and image give the same answer
      Path image = ClipClassifyCommandTest.sharedImage(expected[i][1]);
      var a = run("ask", "--model", MODEL.toString(), "--image", image.toString(), "--question", expected[i][2] + SUFFIX, "--max-new-tokens", "3",
          "--json", "--no-progress");
      assertEquals(0, a.code(), a.err());
      assertEquals(JSON.readTree(a.out()).get("text").asText().strip(), rec.get("answer").asText(), "item " + (i + 1));
    }

    // a rerun resumes everything and answers nothing
    var again = run(args);
    assertEquals(0, again.code(), again.err());
    JsonNode s2 = JSON.readTree(again.out());
    assertEquals(0, s2.get("answered").asInt());
    assertEquals(3, s2.get("resumed").asInt());
    assertEquals(all, s2.get("all"));
    assertEquals(4, Files.readAllLines(out).size(), "nothing appended on resume");

    // killed while writing the second record: the broken line is dropped, items 2 and 3 answered again, alike
    List<String> text = Files.readAllLines(out);
    Files.writeString(out, text.get(0) + "\n" + text.get(1) + "\n" + text.get(2).substring(0, text.get(2).length() / 2), StandardCharsets.UTF_8);
    var resumed = run(args);
    assertEquals(0, resumed.code(), resumed.err());
    JsonNode s3 = JSON.readTree(resumed.out());
    assertEquals(2, s3.get("answered").asInt());
    assertEquals(1, s3.get("resumed").asInt());
    assertEquals(all, s3.get("all"));
    List<JsonNode> after = records(out);
    assertEquals(4, after.size());
    for (int i = 1; i < 4; i++) {
      assertEquals(lines.get(i).get("answer"), after.get(i).get("answer"));
    }

    // other settings into the same file: refused, the file untouched
    String before = Files.readString(out);
    var other = run(pope(out, "--prompt", "raw"));
    assertEquals(1, other.code());
    assertTrue(other.err().contains("written by a different run (setting prompt is \"vcd\" there, \"raw\" here)"), other.err());
    assertEquals(before, Files.readString(out));

    // the text summary
    var table = run(Arrays.stream(args).filter(x -> !x.equals("--json")).toArray(String[]::new));
    assertEquals(0, table.code(), table.err());
    assertTrue(table.out().contains("0 answered, 3 resumed") && table.out().contains("sample_pope") && table.out().contains("yes-ratio"), table.out());
  }

  /**
   * eval pope with VCD and AVC: each record holds the answer {@code ask --decode} gives for the same
   * prompt and seed (AVC's blind tokens too), the method's parameters are in the results file's
   * settings, and a resume with another alpha is refused.
   */
  @Test
  void evalPopeWithContrastiveDecodingRecordsWhatAskAnswers() throws Exception {
    for (String method : new String[] {"vcd", "avc"}) {
      Path out = tmp.resolve(method + ".jsonl");
      var r = run(pope(out, "--decode", method, "--alpha", "2"));
      assertEquals(0, r.code(), r.err());
      List<JsonNode> lines = records(out);
      assertEquals(4, lines.size());
      JsonNode settings = lines.get(0).get("settings");
      assertEquals(method, lines.get(0).get("method").asText());
      assertEquals("2.0", settings.get("alpha").asText());
      assertEquals("0.1", settings.get("beta").asText());
      assertEquals(method.equals("vcd") ? "500" : "1.0", settings.get(method.equals("vcd") ? "noise_step" : "lambda").asText());
      String[][] items = {{"000000039769.png", "Is there a cat in the image?"}, {"000000039769.png", "Is there a dog in the image?"},
          {"coffee.png", "Is there a cup in the image?"}};
      for (int i = 0; i < 3; i++) {
        JsonNode rec = lines.get(i + 1);
        assertEquals(method, rec.get("method").asText());
        var a = run("ask", "--model", MODEL.toString(), "--image", ClipClassifyCommandTest.sharedImage(items[i][0]).toString(), "--question",
            items[i][1] + SUFFIX, "--max-new-tokens", "3", "--decode", method, "--alpha", "2", "--json", "--no-progress");
        assertEquals(0, a.code(), a.err());
        JsonNode ask = JSON.readTree(a.out());
        assertEquals(ask.get("text").asText().strip(), rec.get("answer").asText(), method + " item " + (i + 1));
        if (method.equals("avc")) {
          assertEquals(ask.get("blind_tokens"), rec.get("blind_tokens"), rec.toString());
        }
      }
      var other = run(pope(out, "--decode", method, "--alpha", "3"));
      assertEquals(1, other.code());
      assertTrue(other.err().contains("setting alpha is \"2.0\" there, \"3.0\" here"), other.err());
    }
  }

  @Test
  void badInputIsOneLineAndLeavesNoResultsFile() throws Exception {
    Path images = Files.createDirectories(tmp.resolve("images"));
    ImageIO.write(new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB), "png", images.resolve("a.png").toFile());
    Path data = tmp.resolve("coco_pope_random.json");
    Path out = tmp.resolve("out/results.jsonl");
    String good = "{\"question_id\": 1, \"image\": \"a.png\", \"text\": \"Is there a dog in the image?\", \"label\": \"no\"}";
    String[][] cases = {
        {good.replace(", \"label\": \"no\"", ""), "line 2, field \"label\": missing"},
        {good.replace("\"no\"", "\"unsure\""), "line 2, field \"label\": unknown label \"unsure\"; a label is yes or no"},
        {good.replace("a.png", "b.png"), "line 2, field \"image\": no such file: " + images.resolve("b.png")},
        {"{\"question_id\": 2,", "line 2: bad JSON: "},
        {good, "line 2, field \"question_id\": duplicate question id 1 in split coco_pope_random, first at " + data + ", line 1"},
    };
    for (String[] c : cases) {
      Files.writeString(data, good + "\n" + c[0] + "\n");
      var r = run("eval", "pope", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
          "--no-progress");
      assertEquals(1, r.code(), r.err());
      assertTrue(r.err().startsWith("fovea: EvalDataException: " + data + ", " + c[1]), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertFalse(Files.exists(out), "no results file for " + c[1]);
    }
    Files.writeString(data, good + "\n");
    String[][] usage = {
        {"--lambda", "2", "fovea eval pope: --lambda needs --decode avc (got --decode none)"},
        {"--noise-step", "1000", "fovea eval pope: --noise-step must be within [0, 999], got 1000"},
        {"--decode", "greedy", "fovea eval pope: Invalid value for option '--decode': --decode must be none, vcd, avc or agla, got \"greedy\""},
        {"--prompt", "short", "fovea eval pope: --prompt: unknown prompt variant \"short\"; known: vcd, raw, llava"},
        {"--parser", "mme", "fovea eval pope: --parser must be pope, vcd or avisc for POPE, got mme"},
        {"--limit", "0", "fovea eval pope: --limit must be at least 1, got 0"},
    };
    for (String[] u : usage) {
      var r = run("eval", "pope", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
          "--no-progress", u[0], u[1]);
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().startsWith(u[2]), r.err());
      assertFalse(Files.exists(out));
    }
    // an image that exists but does not decode fails at answering time: before any record, no results file is left;
    // after one, the file holds whole records only
    Files.write(images.resolve("bad.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    Files.writeString(data, good.replace("a.png", "bad.png") + "\n");
    var failed = run("eval", "pope", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--max-new-tokens", "2", "--no-progress");
    assertEquals(1, failed.code(), failed.err());
    assertTrue(failed.err().startsWith("fovea: EvaluationException: item 1 of coco_pope_random (image bad.png): "), failed.err());
    assertFalse(Files.exists(out), "no record, no results file");
    Files.writeString(data, good + "\n" + good.replace("a.png", "bad.png").replace("\"question_id\": 1", "\"question_id\": 2") + "\n");
    failed = run("eval", "pope", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--max-new-tokens", "2", "--no-progress");
    assertEquals(1, failed.code(), failed.err());
    assertTrue(failed.err().startsWith("fovea: EvaluationException: item 2 of coco_pope_random (image bad.png): "), failed.err());
    List<JsonNode> kept = records(out);
    assertEquals(2, kept.size(), "header + the record of item 1");
    assertEquals("1", kept.get(1).get("id").asText());
    Files.delete(out);
    Files.writeString(data, good + "\n");
    var r = run("eval", "pope", "--model", MODEL.toString(), "--data", tmp.resolve("nope.jsonl").toString(), "--images", images.toString(), "--out",
        out.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("fovea eval pope: --data " + tmp.resolve("nope.jsonl") + ": no such file"), r.err());
    // the model's context bounds the answer, checked before the results file exists
    r = run("eval", "pope", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--max-new-tokens", "100000", "--no-progress");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea eval pope: --max-new-tokens must be within [1, 320] (the model's context), got 100000"), r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void evalMmeOnTheMiniatureFolder() throws Exception {
    Path out = tmp.resolve("mme.jsonl");
    var r = run("eval", "mme", "--model", MODEL.toString(), "--data", RESOURCES.resolve("mme").toString(), "--subtasks", "existence,artwork",
        "--max-new-tokens", "2", "--out", out.toString(), "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    JsonNode s = JSON.readTree(r.out());
    assertEquals(6, s.get("answered").asInt());
    JsonNode existence = s.get("subtasks").get("existence");
    assertEquals(4, existence.get("questions").asInt());
    assertEquals(2, existence.get("images").asInt());
    assertEquals(existence.get("acc").asDouble() + existence.get("acc_plus").asDouble(), existence.get("score").asDouble(), 1e-9);
    assertEquals(2, s.get("perception").get("subtasks").asInt());
    assertEquals(1, s.get("hallucination").get("subtasks").asInt());
    List<JsonNode> lines = records(out);
    assertEquals(7, lines.size());
    assertEquals("raw", lines.get(0).get("settings").get("prompt").asText());
    assertEquals("mme", lines.get(0).get("settings").get("parser").asText());
    JsonNode first = lines.get(1);
    assertEquals("existence", first.get("split").asText());
    assertEquals("a.jpg#1", first.get("id").asText());
    assertEquals("existence/a.jpg", first.get("image").asText());
    assertEquals("Is there a red square in this image? Please answer yes or no.", first.get("prompt").asText());
    assertEquals("yes", first.get("label").asText());
    var bad = run("eval", "mme", "--model", MODEL.toString(), "--data", RESOURCES.resolve("mme").toString(), "--subtasks", "existance", "--out",
        tmp.resolve("x.jsonl").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().startsWith("fovea eval mme: --subtasks: unknown MME subtask \"existance\""), bad.err());
  }

  /** The CHAIR fixture (methods ChairTest works the counts by hand): 60 / 27.27 / 87.5; with the reference caption 7 / 10 = 70 recall. */
  @Test
  void evalChairScoresCaptions() throws Exception {
    Path chair = RESOURCES.resolve("chair");
    var r = run("eval", "chair", "--captions", chair.resolve("captions.jsonl").toString(), "--annotations", chair.resolve("instances_tiny.json").toString(),
        "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode s = JSON.readTree(r.out());
    assertEquals(60.0, s.get("chair_s").asDouble(), 1e-9);
    assertEquals(100.0 * 3 / 11, s.get("chair_i").asDouble(), 1e-9);
    assertEquals(87.5, s.get("recall").asDouble(), 1e-9);
    // image 104's reference caption adds dog and couch: truth 8 + 2 = 10 objects, still 7 mentioned
    r = run("eval", "chair", "--captions", chair.resolve("captions.jsonl").toString(), "--annotations", chair.resolve("instances_tiny.json").toString(),
        "--reference-captions", chair.resolve("captions_tiny.json").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().matches("(?s).*\\brecall\\s+70\\.00\\s+7 / 10 ground-truth objects\n.*"), r.out());
    r = run("eval", "chair", "--captions", chair.resolve("captions.jsonl").toString(), "--annotations", tmp.resolve("none.json").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("fovea eval chair: --annotations " + tmp.resolve("none.json") + ": no such file"), r.err());
  }
}
