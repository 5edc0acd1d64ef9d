package dev.fovea.jmh.fuzz;

import static dev.fovea.jmh.fuzz.Target.bytes;
import static dev.fovea.jmh.fuzz.Target.lines;

import dev.fovea.jmh.fuzz.Target.Input;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.methods.eval.ResultsJournal;
import dev.fovea.methods.eval.SizeSplit;
import dev.fovea.methods.eval.VqaDataset;
import dev.fovea.tensor.io.HostileJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Evaluation data: the VQA question files of {@link VqaDataset}. A JSONL input names images that lie
 * beside it (small PNG fixtures under the names of the shared test pictures), so a line with a box and
 * no size has its image header read.
 */
final class DataTargets {
  private DataTargets() {}

  /** The shared pictures methods' sample.jsonl names, each a small PNG here. */
  static final List<String> IMAGES = List.of("astronaut.png", "000000039769.png", "chelsea.png", "coffee.png");

  static Target vqaJsonl(Seeds s) {
    // the sample's lines with image sizes (its pictures are not here), and lines with the optional fields it
    // lacks: a box read against an image's header, xywh boxes, the jrzhang layout, a null box, a blank line
    String sample = new String(s.read("methods/src/test/resources/vqa/sample.jsonl"), StandardCharsets.UTF_8);
    sample = sample.replace("\"question\":", "\"image_width\": 640, \"image_height\": 512, \"question\":");
    byte[] orig = (sample.strip() + "\n"
        + "{\"question_id\": 8, \"image\": \"chelsea.png\", \"question\": \"q?\", \"answers\": [\"a\"], \"bbox\": [1, 2, 3, 4]}\n"
        + "{\"dataset_id\": \"9\", \"image\": \"coffee.png\", \"question\": \"q?\", \"answer\": [\"b\"], \"bbox\": [0, 0, 5, 5], \"bbox_format\": \"xywh\"}\n"
        + "\n{\"image\": \"astronaut.png\", \"question\": \"q?\", \"answers\": [\"c\", \"d\"], \"bbox\": null}\n").getBytes(StandardCharsets.UTF_8);
    List<String> hostile = new ArrayList<>(TokenizerTargets.HOSTILE_LINES);
    hostile.addAll(List.of("{}", "[]", "null", "{\"image\": {\"bytes\": \"AAAA\"}, \"question\": \"q\", \"answers\": [\"a\"]}", "{\"image\": \"x.png\""));
    Path png = s.path(ImageTargets.FIXTURES + "rgb_33x17.png");
    Map<String, Path> side = new java.util.LinkedHashMap<>();
    IMAGES.forEach(n -> side.put(n, png));
    String f = "questions.jsonl";
    return new Target("vqa-jsonl", side, r -> switch (r.nextInt(10)) {
      case 0, 1, 2 -> lines(r, f, orig, hostile);
      case 3, 4, 5, 6 -> jsonLine(r, f, orig);
      default -> bytes(r, f, orig, orig.length, orig);
    }, dir -> VqaDataset.readJsonl(dir.resolve(f), VqaDataset.JsonlOptions.defaults().withImagesDir(dir)));
  }

  /**
   * POPE's published JSONL ({@link dev.fovea.methods.eval.PopeDataset#read}: question_id, image, text,
   * label; every image checked to exist): methods' sample file with a category line added, mutated
   * line-wise, field-wise and byte-wise, against small PNGs under the sample's image names.
   */
  static Target popeJsonl(Seeds s) {
    String sample = new String(s.read("methods/src/test/resources/pope/sample_pope.jsonl"), StandardCharsets.UTF_8);
    byte[] orig = (sample.strip() + "\n"
        + "{\"question_id\": 9, \"image\": \"chelsea.png\", \"text\": \"Is there a cat in the image?\", \"label\": \"yes\", \"category\": \"adversarial\"}\n")
        .getBytes(StandardCharsets.UTF_8);
    List<String> hostile = new ArrayList<>(TokenizerTargets.HOSTILE_LINES);
    hostile.addAll(List.of("{}", "[]", "null", "{\"question_id\": 1, \"image\": \"a.png\", \"text\": \"q\", \"label\": \"maybe\"}",
        "{\"question_id\": [1], \"image\": 3, \"text\": null, \"label\": true}"));
    Path png = s.path(ImageTargets.FIXTURES + "rgb_33x17.png");
    Map<String, Path> side = new java.util.LinkedHashMap<>();
    IMAGES.forEach(n -> side.put(n, png));
    String f = "coco_pope_random.json";
    return new Target("pope-jsonl", side, r -> switch (r.nextInt(10)) {
      case 0, 1, 2 -> lines(r, f, orig, hostile);
      case 3, 4, 5, 6 -> jsonLine(r, f, orig);
      default -> bytes(r, f, orig, orig.length, orig);
    }, dir -> dev.fovea.methods.eval.PopeDataset.read(dir.resolve(f), dir));
  }

  /**
   * An evaluation's resumable results journal ({@link ResultsJournal#open}, which reads what an
   * earlier run wrote, repairs a torn last line and refuses a journal of another run).
   */
  static Target resultsJournal(Path scratch) throws IOException {
    Path seed = scratch.resolve("results.jsonl");
    ResultsJournal.Run run = new ResultsJournal.Run("rel-att", "llava-tiny", Map.of("layer", "14"));
    try (ResultsJournal j = ResultsJournal.open(seed, run)) {
      ObjectNode box = JsonNodeFactory.instance.objectNode();
      box.putArray("box").add(1).add(2).add(30).add(40);
      j.append(new ResultsJournal.Entry("q1", "nokia", 1.0, SizeSplit.SMALL, box));
      j.append(new ResultsJournal.Entry("q2", "two cats", 0.3, SizeSplit.LARGE, null));
      j.append(new ResultsJournal.Entry("3", "", 0.0, SizeSplit.UNSPLIT, null));
    }
    byte[] orig = Files.readAllBytes(seed);
    String f = "results.jsonl";
    return new Target("results-journal", Map.of(), r -> switch (r.nextInt(10)) {
      case 0, 1, 2 -> lines(r, f, orig, TokenizerTargets.HOSTILE_LINES);
      case 3, 4, 5, 6 -> jsonLine(r, f, orig);
      default -> bytes(r, f, orig, orig.length, orig);
    }, dir -> {
      try (ResultsJournal j = ResultsJournal.open(dir.resolve(f), run)) {
        j.entries().forEach(e -> e.extra());
      }
    });
  }

  /** One line of a JSONL file with hostile edits of its JSON ({@link HostileJson}). */
  static Input jsonLine(java.util.Random r, String f, byte[] orig) {
    List<String> l = new ArrayList<>(Arrays.asList(new String(orig, StandardCharsets.UTF_8).split("\n", -1)));
    int i = r.nextInt(l.size());
    l.set(i, new String(HostileJson.mutate(l.get(i).getBytes(StandardCharsets.UTF_8), r.nextLong()), StandardCharsets.UTF_8));
    return Input.of(f, String.join("\n", l).getBytes(StandardCharsets.UTF_8), "line " + (i + 1) + " json");
  }

  /** The official TextVQA layout ({@link VqaDataset#readTextVqa}): a "data" list of question objects. */
  static Target textVqa() {
    StringBuilder sb = new StringBuilder("{\"dataset_name\": \"textvqa\", \"dataset_version\": \"0.5.1\", \"data\": [");
    for (int i = 0; i < 4; i++) {
      sb.append(i == 0 ? "" : ", ").append("{\"question_id\": ").append(i).append(", \"image_id\": \"img").append(i)
          .append("\", \"question\": \"what is written?\", \"answers\": [\"a\", \"b\", \"a\", \"a\", \"c\", \"a\", \"a\", \"a\", \"a\", \"a\"], ")
          .append("\"image_width\": 1024, \"image_height\": 768, \"image_classes\": [\"Sign\"], \"set_name\": \"val\"}");
    }
    byte[] orig = sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    String f = "TextVQA_0.5.1_val.json";
    return new Target("vqa-textvqa", Map.of(), r -> Target.jsonOrBytes(r, f, orig), dir -> VqaDataset.readTextVqa(dir.resolve(f)));
  }
}
