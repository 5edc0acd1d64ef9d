package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval chair} with a model and {@code eval amber} end to end on the tiny reference LLaVA (its
 * answers are random words: what is checked is the records, resuming, the summary's shape and the
 * refusals; the scores themselves are worked by hand in the methods module's ChairTest, ChairReferenceTest
 * and AmberTest).
 */
class EvalChairAmberCommandTest {
  static final Path MODEL = VicropCommandTest.MODEL;
  @TempDir Path tmp;

  private static LlamaAskCommandTest.Run run(String... args) {
    return LlamaAskCommandTest.run(args);
  }

  private static List<JsonNode> records(Path out) throws Exception {
    List<JsonNode> r = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      r.add(EvalBenchmarksCommandTest.JSON.readTree(line));
    }
    return r;
  }

  private Path instances() throws Exception {
    return Files.writeString(tmp.resolve("instances.json"), """
        {"images": [{"id": 39769, "file_name": "000000039769.png"}, {"id": 7, "file_name": "coffee.png"}],
         "annotations": [{"image_id": 39769, "category_id": 17}, {"image_id": 7, "category_id": 47}],
         "categories": [{"id": 17, "name": "cat"}, {"id": 47, "name": "cup"}, {"id": 63, "name": "couch"}]}
        """);
  }

  @Test
  void evalChairCaptionsWithTheModelAndResumes() throws Exception {
    Path images = ClipClassifyCommandTest.sharedImage("000000039769.png").getParent();
    ClipClassifyCommandTest.sharedImage("coffee.png");
    Path out = tmp.resolve("chair.jsonl");
    String[] args = {"eval", "chair", "--model", MODEL.toString(), "--annotations", instances().toString(), "--images", images.toString(),
        "--max-new-tokens", "4", "--out", out.toString(), "--json", "--no-progress"};
    var r = run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode s = EvalBenchmarksCommandTest.JSON.readTree(r.out());
    assertEquals(2, s.get("answered").asInt());
    assertEquals(2, s.get("captions").asInt());
    assertEquals(2, s.get("truth_objects").asInt(), "cat, cup");
    List<JsonNode> lines = records(out);
    assertEquals(3, lines.size());
    assertEquals("chair", lines.get(0).get("settings").get("benchmark").asText());
    assertEquals("Describe this image.", lines.get(0).get("settings").get("caption_prompt").asText());
    JsonNode first = lines.get(1);
    assertEquals("39769", first.get("id").asText());
    assertEquals("chair", first.get("split").asText());
    assertEquals("000000039769.png", first.get("image").asText());
    assertEquals("Describe this image.", first.get("prompt").asText());
    assertFalse(first.has("label") || first.has("parsed"), first.toString());
    // --decode none is ask's path: the same prompt and image give the same caption
    var a = run("ask", "--model", MODEL.toString(), "--image", images.resolve("000000039769.png").toString(), "--question", "Describe this image.",
        "--max-new-tokens", "4", "--json", "--no-progress");
    assertEquals(0, a.code(), a.err());
    assertEquals(EvalBenchmarksCommandTest.JSON.readTree(a.out()).get("text").asText().strip(), first.get("answer").asText());

    var again = run(args);
    assertEquals(0, again.code(), again.err());
    JsonNode s2 = EvalBenchmarksCommandTest.JSON.readTree(again.out());
    assertEquals(0, s2.get("answered").asInt());
    assertEquals(2, s2.get("resumed").asInt());
    assertEquals(s.get("chair_i"), s2.get("chair_i"));
    assertEquals(3, Files.readAllLines(out).size());

    // the text summary, one image by --image-ids
    Path ids = Files.writeString(tmp.resolve("ids.txt"), "# one image\n7\n");
    var table = run("eval", "chair", "--model", MODEL.toString(), "--annotations", instances().toString(), "--images", images.toString(),
        "--image-ids", ids.toString(), "--max-new-tokens", "2", "--out", tmp.resolve("one.jsonl").toString(), "--no-progress");
    assertEquals(0, table.code(), table.err());
    assertTrue(table.out().contains("1 answered, 0 resumed") && table.out().contains("CHAIR_s") && table.out().contains("/ 1 captions"), table.out());
  }

  @Test
  void evalChairBadInput() throws Exception {
    Path images = ClipClassifyCommandTest.sharedImage("000000039769.png").getParent();
    Path out = tmp.resolve("out/chair.jsonl");
    Path ids = Files.writeString(tmp.resolve("ids.txt"), "39769\n12\n");
    var r = run("eval", "chair", "--model", MODEL.toString(), "--annotations", instances().toString(), "--images", images.toString(), "--image-ids",
        ids.toString(), "--out", out.toString(), "--no-progress");
    assertEquals(1, r.code(), r.err());
    assertEquals("fovea: EvalDataException: " + ids + ", line 2: image 12 is not in " + tmp.resolve("instances.json"), r.err().strip());
    assertFalse(Files.exists(out));
    Path empty = Files.createDirectories(tmp.resolve("no-images"));
    r = run("eval", "chair", "--model", MODEL.toString(), "--annotations", instances().toString(), "--images", empty.toString(), "--out", out.toString(),
        "--no-progress");
    assertEquals(1, r.code(), r.err());
    assertEquals("fovea: EvalDataException: " + tmp.resolve("instances.json") + ": image 39769: no such file: " + empty.resolve("000000039769.png"),
        r.err().strip());
    assertFalse(Files.exists(out));
    r = run("eval", "chair", "--model", MODEL.toString(), "--annotations", instances().toString(), "--captions", instances().toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea eval chair: --captions scores existing captions; --images, --image-ids and --model run the model"), r.err());
    r = run("eval", "chair", "--model", MODEL.toString(), "--annotations", instances().toString(), "--images", images.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea eval chair: Missing required option: '--out=FILE'"), r.err());
  }

  private Path amberImages() throws Exception {
    Path images = Files.createDirectories(tmp.resolve("amber-images"));
    Files.copy(ClipClassifyCommandTest.sharedImage("000000039769.png"), images.resolve("AMBER_1.png"));
    Files.copy(ClipClassifyCommandTest.sharedImage("coffee.png"), images.resolve("AMBER_2.png"));
    Files.copy(ClipClassifyCommandTest.sharedImage("coffee.png"), images.resolve("AMBER_3.png"));
    return images;
  }

  @Test
  void evalAmberRecordsAndResumes() throws Exception {
    Path images = amberImages();
    Path data = EvalBenchmarksCommandTest.RESOURCES.resolve("amber/data");
    Path out = tmp.resolve("amber.jsonl");
    String[] args = {"eval", "amber", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--max-new-tokens", "3",
        "--out", out.toString(), "--json", "--no-progress"};
    var r = run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode s = EvalBenchmarksCommandTest.JSON.readTree(r.out());
    assertEquals(10, s.get("answered").asInt());
    assertEquals(3, s.get("generative").get("descriptions").asInt());
    assertEquals(7, s.get("generative").get("truth_objects").asInt());
    assertEquals(6, s.get("generative").get("hallu_objects").asInt());
    JsonNode all = s.get("discriminative").get("all");
    assertEquals(7, all.get("count").asInt());
    // four "no" truths (4, 5, 7, 9) whatever the model says: right No + wrong yes
    assertEquals(4, all.get("right_no").asInt() + all.get("wrong_yes").asInt());
    assertTrue(s.has("amber_score"));
    List<JsonNode> lines = records(out);
    assertEquals(11, lines.size());
    assertEquals("amber", lines.get(0).get("settings").get("benchmark").asText());
    assertEquals("avisc", lines.get(0).get("settings").get("parser").asText());
    assertEquals("raw", lines.get(0).get("settings").get("prompt").asText());
    JsonNode gen = lines.get(1);
    assertEquals("generative", gen.get("split").asText());
    assertEquals("Describe this image.", gen.get("prompt").asText());
    assertFalse(gen.has("label"));
    JsonNode existence = lines.get(4);
    assertEquals("3", existence.get("id").asText());
    assertEquals("existence", existence.get("split").asText());
    assertEquals("yes", existence.get("label").asText());
    assertTrue(existence.has("parsed"));

    var again = run(args);
    assertEquals(0, again.code(), again.err());
    JsonNode s2 = EvalBenchmarksCommandTest.JSON.readTree(again.out());
    assertEquals(10, s2.get("resumed").asInt());
    assertEquals(s.get("amber_score"), s2.get("amber_score"));

    var other = run("eval", "amber", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--queries", "relation",
        "--out", out.toString(), "--no-progress");
    assertEquals(1, other.code());
    assertTrue(other.err().contains("setting queries is \"all\" there, \"relation\" here"), other.err());

    var table = run(Stream.of(args).filter(x -> !x.equals("--json")).toArray(String[]::new));
    assertEquals(0, table.code(), table.err());
    assertTrue(table.out().contains("0 answered, 10 resumed") && table.out().contains("Cover") && table.out().contains("AMBER score"), table.out());
  }

  @Test
  void evalAmberBadInputLeavesNoResultsFile() throws Exception {
    Path images = amberImages();
    Path data = tmp.resolve("data");
    Path source = EvalBenchmarksCommandTest.RESOURCES.resolve("amber/data");
    try (Stream<Path> files = Files.walk(source)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        Files.createDirectories(data.resolve(source.relativize(p).toString()).getParent());
        Files.copy(p, data.resolve(source.relativize(p).toString()));
      }
    }
    Path out = tmp.resolve("out/amber.jsonl");
    Path annotations = data.resolve("annotations.json");
    Files.writeString(annotations, Files.readString(annotations).replace("\"truth\": \"no\"}", "\"truth\": \"unsure\"}"));
    var r = run("eval", "amber", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--no-progress");
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea: EvalDataException: " + annotations + ", [3] (line 5, column 5), field \"truth\": unknown label \"unsure\""),
        r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertFalse(Files.exists(out));
    Files.copy(source.resolve("annotations.json"), annotations, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.delete(images.resolve("AMBER_3.png"));
    r = run("eval", "amber", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--no-progress");
    assertEquals(1, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea: EvalDataException: " + data.resolve("query/query_all.json") + ", [2] (line 4, column 5), field \"image\": "
        + "no such file: " + images.resolve("AMBER_3.png")), r.err());
    assertFalse(Files.exists(out));
    r = run("eval", "amber", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--queries", "colour");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea eval amber: --queries: unknown query set \"colour\""), r.err());
    r = run("eval", "amber", "--model", MODEL.toString(), "--data", data.toString(), "--images", images.toString(), "--out", out.toString(),
        "--parser", "mme");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea eval amber: --parser must be pope, vcd or avisc for AMBER, got mme"), r.err());
    assertFalse(Files.exists(out));
  }
}
