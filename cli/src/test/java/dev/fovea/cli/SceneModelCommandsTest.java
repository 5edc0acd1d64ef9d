package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands of issue 22 end to end: {@code train} writes a resumable run whose checkpoints are
 * llava-hf folders the other commands open; {@code demo}, {@code ask}, {@code eval vqa} and {@code
 * eval pope} run on the shipped mini LLaVA without {@code --model}; {@code eval vqa}'s crop controls
 * crop where they say and its summary splits by question type.
 */
class SceneModelCommandsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void trainWritesAResumableRunOfLoadableCheckpoints(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("run");
    var r = LlamaAskCommandTest.run("train", "--out", out.toString(), "--steps", "2", "--batch", "2", "--checkpoint-every", "1", "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    JsonNode j = JSON.readTree(r.out());
    assertEquals(2, j.get("steps").asInt());
    Path ck = out.resolve("checkpoint-2");
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.bin", "preprocessor_config.json", "fovea.json", "loss.csv", "train.json")) {
      assertTrue(Files.isRegularFile(ck.resolve(f)), f);
    }
    // the same command again resumes at the end: nothing left to do, same weights
    byte[] weights = Files.readAllBytes(ck.resolve("model.safetensors"));
    var again = LlamaAskCommandTest.run("train", "--out", out.toString(), "--steps", "2", "--batch", "2", "--checkpoint-every", "1", "--json", "--no-progress");
    assertEquals(0, again.code(), again.err());
    assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(ck.resolve("model.safetensors"))));
    // other settings in the same folder are refused, naming the file
    var other = LlamaAskCommandTest.run("train", "--out", out.toString(), "--steps", "3", "--batch", "2", "--no-progress");
    assertEquals(1, other.code());
    assertTrue(other.err().contains("train.json"), other.err());
    // the checkpoint answers questions through the ordinary path
    Path scenes = dir.resolve("scenes");
    assertEquals(0, LlamaAskCommandTest.run("scenes", "--out", scenes.toString(), "--count", "1", "--held-out", "1", "--no-progress").code());
    var ask = LlamaAskCommandTest.run("ask", "--model", ck.toString(), "--image", scenes.resolve("heldout/images/000000.png").toString(), "--question",
        "What colour is the square?", "--max-new-tokens", "3", "--no-progress");
    assertEquals(0, ask.code(), ask.err());
  }

  @Test
  void trainRefusesBadOptionsBeforeAnyWork(@TempDir Path dir) {
    var r = LlamaAskCommandTest.run("train", "--out", dir.resolve("x").toString(), "--steps", "10", "--warmup", "11");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--warmup must be within [0, 10], got 11"), r.err());
    assertTrue(Files.notExists(dir.resolve("x")));
    var b = LlamaAskCommandTest.run("train", "--out", dir.resolve("x").toString(), "--batch", "0");
    assertEquals(2, b.code());
    assertTrue(b.err().contains("--batch must be within [1, 256], got 0"), b.err());
  }

  @Test
  void demoRunsOnTheShippedModel(@TempDir Path dir) throws Exception {
    var r = LlamaAskCommandTest.run("demo", "--out", dir.toString(), "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    JsonNode j = JSON.readTree(r.out());
    assertTrue(j.get("model").asText().endsWith("scenes-llava"), j.toString());
    assertEquals(3, j.get("layer").asInt()); // the model folder's fovea.json
    assertTrue(j.has("answer_without_crop") && j.has("answer_with_vicrop") && j.has("truth"), j.toString());
    assertEquals(4, j.get("box").size());
    assertTrue(Files.size(dir.resolve("heatmap.png")) > 1000);
    assertTrue(Files.size(dir.resolve("scene.png")) > 1000);
  }

  @Test
  void evalVqaControlsAndTypesOnTheShippedModel(@TempDir Path dir) throws Exception {
    Path scenes = dir.resolve("scenes");
    assertEquals(0, LlamaAskCommandTest.run("scenes", "--out", scenes.toString(), "--count", "1", "--held-out", "2", "--no-progress").code());
    String data = scenes.resolve("heldout/questions.jsonl").toString();
    String images = scenes.resolve("heldout/images").toString();
    List<JsonNode> items = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(data))) {
      items.add(JSON.readTree(line));
    }
    for (String method : List.of("oracle", "random")) {
      Path out = dir.resolve(method + ".jsonl");
      var r = LlamaAskCommandTest.run("eval", "vqa", "--data", data, "--images", images, "--method", method, "--out", out.toString(), "--json",
          "--no-progress");
      assertEquals(0, r.code(), r.err());
      JsonNode s = JSON.readTree(r.out());
      assertEquals(items.size(), s.get("answered").asInt());
      assertTrue(s.get("types").has("colour") && s.get("types").has("exists"), s.toString());
      List<String> lines = Files.readAllLines(out);
      for (int i = 1; i < lines.size(); i++) {
        JsonNode rec = JSON.readTree(lines.get(i));
        JsonNode item = items.get(i - 1);
        assertEquals(item.get("question_id").asText(), rec.get("question_id").asText());
        JsonNode box = rec.get("box");
        if (method.equals("oracle")) {
          if (item.get("bbox").isNull()) {
            assertTrue(box == null, "no box, no crop: " + rec);
            continue;
          }
          // the crop is a square of at least the base size (64) that holds the answer's box
          int side = box.get(2).asInt() - box.get(0).asInt();
          assertEquals(side, box.get(3).asInt() - box.get(1).asInt());
          assertTrue(side >= 64);
          JsonNode b = item.get("bbox");
          assertTrue(box.get(0).asInt() <= b.get(0).asDouble() && box.get(1).asInt() <= b.get(1).asDouble()
              && box.get(2).asInt() >= b.get(2).asDouble() && box.get(3).asInt() >= b.get(3).asDouble(), rec + " vs " + b);
        } else {
          int side = box.get(2).asInt() - box.get(0).asInt();
          assertTrue(side >= 64 && side <= 128 && box.get(2).asInt() <= 448 && box.get(3).asInt() <= 448, rec.toString());
        }
      }
    }
    Path pope = dir.resolve("pope.jsonl");
    var p = LlamaAskCommandTest.run("eval", "pope", "--data", scenes.resolve("heldout/pope.jsonl").toString(), "--images", images, "--out",
        pope.toString(), "--json", "--no-progress");
    assertEquals(0, p.code(), p.err());
  }

  @Test
  void textAskWithoutModelUsesStories260K() {
    var r = LlamaAskCommandTest.run("ask", "--prompt", "Once upon a time", "--max-new-tokens", "12", "--no-progress");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(", there was a little girl named Lily"), r.out()); // llama2.c's published greedy sample
  }
}
