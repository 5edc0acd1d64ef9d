package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.methods.eval.VqaAccuracy;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fovea vicrop} and {@code fovea eval vqa} on the methods module's tiny reference LLaVA
 * (tools/reference/vicrop: 84 px tower, 6 x 6 image tokens, 3 layers, maps at layer 1, base size 224).
 */
class VicropCommandTest {
  static final Path MODEL = Path.of("../methods/src/test/resources/vicrop-reference/tiny");
  @TempDir Path tmp;

  static JsonNode reference() throws Exception {
    return new ObjectMapper().readTree(MODEL.resolveSibling("reference.json").toFile());
  }

  @Test
  void vicropPrintsTheReferenceBoxAndWritesTheHeatmap() throws Exception {
    JsonNode c = reference().get("cases").get("cats_grad");
    Path image = ClipClassifyCommandTest.sharedImage(c.get("image").asText());
    Path png = tmp.resolve("not/yet/heat.png"); // folders created, as convert does
    var r = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question", c.get("question").asText(),
        "--method", "grad-att", "--layer", "1", "--base-size", "224", "--heatmap", png.toString(), "--baseline", "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    JsonNode n = new ObjectMapper().readTree(r.out());
    assertEquals(c.get("box"), n.get("box"), "box of the torch reference");
    assertTrue(n.has("baseline") && n.get("timings_ms").get("map").asDouble() > 0, r.out());
    BufferedImage h = ImageIO.read(png.toFile());
    assertEquals(640, h.getWidth());
    assertEquals(480, h.getHeight());
  }

  @Test
  void badInputGivesOneClearLine() throws Exception {
    Path image = tmp.resolve("x.png");
    ImageIO.write(new BufferedImage(50, 40, BufferedImage.TYPE_INT_RGB), "png", image.toFile());
    var r = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question", "What?", "--method", "rel-att",
        "--no-progress");
    assertEquals(2, r.code(), r.err()); // the default layer 14 is a usage error on a 3-layer model
    assertTrue(r.err().startsWith("fovea vicrop: --layer must be within [0, 2] (the language model has 3 layers), got 14"), r.err());
    r = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question", "What?", "--method", "zoom");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("unknown method \"zoom\"") && r.err().contains("rel-att, grad-att, pure-grad"), r.err());
  }

  /**
   * eval vqa, method none, on two questions about the COCO picture: the first one's ten answers hold
   * the model's own answer three times (written in other forms the normalization must undo: upper
   * case, a trailing period, an article in front), the second's none. By the official rule the
   * scores are min(1, 0.3 x 3) = 0.9 and 0, so the run reports 45.00; a second run resumes both
   * and answers nothing.
   */
  @Test
  void evalVqaScoresResumesAndSplits() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    Path data = tmp.resolve("q.jsonl");
    Path out = tmp.resolve("results.jsonl");
    // the model's answer to the first question, as `vicrop --method none` prints it
    var a = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question", "What is on the couch?",
        "--method", "none", "--json", "--no-progress");
    assertEquals(0, a.code(), a.err());
    String answer = new ObjectMapper().readTree(a.out()).get("answer").asText();
    List<String> answers = new ArrayList<>(Collections.nCopies(7, "zebra"));
    answers.addAll(List.of(answer.toUpperCase(java.util.Locale.ROOT), answer + ".", "the " + answer));
    assertEquals(0.9, VqaAccuracy.score(answer, answers), 1e-12, "the hand-made answer set scores 0.9 (k = 3): " + answers);
    ObjectMapper om = new ObjectMapper();
    String l1 = om.writeValueAsString(java.util.Map.of("question_id", "q1", "image", "000000039769.png", "question", "What is on the couch?",
        "answers", answers, "bbox", List.of(0, 0, 320, 240)));
    String l2 = om.writeValueAsString(java.util.Map.of("question_id", "q2", "image", "000000039769.png", "question", "How many cats?",
        "answers", Collections.nCopies(10, "2"), "bbox", List.of(10, 10, 20, 20)));
    Files.writeString(data, l1 + "\n" + l2 + "\n", StandardCharsets.UTF_8);
    String[] args = {"eval", "vqa", "--model", MODEL.toString(), "--data", data.toString(), "--images", image.getParent().toString(), "--method", "none",
        "--out", out.toString(), "--json", "--no-progress"};
    var r = LlamaAskCommandTest.run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode s = om.readTree(r.out());
    assertEquals(2, s.get("answered").asInt());
    assertEquals(45.0, s.get("all").get("accuracy").asDouble(), 1e-9);
    // q1's box is 0.25 of the image (large, >= 0.05); q2's 100 / 307200 = 0.00033 (small, < 0.005)
    assertEquals(90.0, s.get("splits").get("large").get("accuracy").asDouble(), 1e-9);
    assertEquals(0.0, s.get("splits").get("small").get("accuracy").asDouble(), 1e-9);
    long lines = Files.readAllLines(out).size();
    var again = LlamaAskCommandTest.run(args);
    assertEquals(0, again.code(), again.err());
    JsonNode s2 = om.readTree(again.out());
    assertEquals(0, s2.get("answered").asInt());
    assertEquals(2, s2.get("resumed").asInt());
    assertEquals(45.0, s2.get("all").get("accuracy").asDouble(), 1e-9);
    assertEquals(lines, Files.readAllLines(out).size(), "nothing appended on resume");
  }
}
