package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.methods.eval.PopeDataset;
import dev.fovea.methods.eval.VqaDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fovea scenes}: options checked before any work, the dataset written, an existing one kept without --force. */
class ScenesCommandTest {
  @TempDir Path tmp;

  @Test
  void writesBothSplitsThatTheEvaluatorsRead() throws Exception {
    Path out = tmp.resolve("data");
    var r = LlamaAskCommandTest.run("scenes", "--out", out.toString(), "--count", "3", "--held-out", "2", "--seed", "5", "--size", "128",
        "--no-progress", "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(128, j.get("size").asInt());
    assertEquals("train", j.get("splits").get(0).get("name").asText());
    assertEquals(5, j.get("splits").get(0).get("seed").asLong());
    assertEquals(15, j.get("splits").get(0).get("questions").asInt());
    assertEquals("heldout", j.get("splits").get(1).get("name").asText());
    assertEquals(2, j.get("splits").get(1).get("scenes").asInt());
    assertEquals(10, VqaDataset.readJsonl(out.resolve("heldout/questions.jsonl"),
        VqaDataset.JsonlOptions.defaults().withImagesDir(out.resolve("heldout/images"))).size());
    assertEquals(6, PopeDataset.read(out.resolve("train/pope.jsonl"), out.resolve("train/images")).size());

    // again: refused without --force (one line, exit 1), replaced with it
    r = LlamaAskCommandTest.run("scenes", "--out", out.toString(), "--count", "1", "--no-progress");
    assertEquals(1, r.code());
    assertEquals(List.of("fovea: SceneDatasetException: " + out + ": already exists; pass --force to replace it"), r.err().lines().toList());
    r = LlamaAskCommandTest.run("scenes", "--out", out.toString(), "--count", "1", "--held-out", "0", "--size", "128", "--force");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("wrote " + out.toAbsolutePath() + ": 128 x 128 px scenes in "), r.out());
    assertTrue(r.err().contains("scenes"), "a progress line: " + r.err());
    assertFalse(Files.exists(out.resolve("heldout")));
  }

  /** The real evaluation commands run on a generated split (the tiny random LLaVA answers nonsense; the path is what is tested). */
  @Test
  void evalVqaAndEvalPopeRunOnTheFiles() throws Exception {
    Path out = tmp.resolve("data");
    assertEquals(0, LlamaAskCommandTest.run("scenes", "--out", out.toString(), "--count", "1", "--held-out", "0", "--size", "128",
        "--no-progress").code());
    Path images = out.resolve("train/images");
    var vqa = LlamaAskCommandTest.run("eval", "vqa", "--model", VicropCommandTest.MODEL.toString(), "--data",
        out.resolve("train/questions.jsonl").toString(), "--images", images.toString(), "--method", "none", "--max-new-tokens", "1",
        "--limit", "2", "--out", tmp.resolve("vqa.jsonl").toString(), "--json", "--no-progress");
    assertEquals(0, vqa.code(), vqa.err());
    assertEquals(2, new ObjectMapper().readTree(vqa.out()).get("answered").asInt());
    var pope = LlamaAskCommandTest.run("eval", "pope", "--model", VicropCommandTest.MODEL.toString(), "--data",
        out.resolve("train/pope.jsonl").toString(), "--images", images.toString(), "--max-new-tokens", "1",
        "--limit", "2", "--out", tmp.resolve("pope.jsonl").toString(), "--json", "--no-progress");
    assertEquals(0, pope.code(), pope.err());
    assertEquals(2, new ObjectMapper().readTree(pope.out()).get("answered").asInt());
  }

  @Test
  void badOptionsAreUsageErrors() {
    String out = tmp.resolve("data").toString();
    OptionRangesTest.usageError("--count must be within [1, 1000000], got 0", "scenes", "--out", out, "--count", "0");
    OptionRangesTest.usageError("--held-out must be within [0, 1000000], got -1", "scenes", "--out", out, "--held-out", "-1");
    OptionRangesTest.usageError("--size must be within [128, 2048], got 100", "scenes", "--out", out, "--size", "100");
    OptionRangesTest.usageError("--size must be within [128, 2048], got 4096", "scenes", "--out", out, "--size", "4096");
    OptionRangesTest.usageError("Missing required option: '--out=DIR'", "scenes", "--count", "3");
    OptionRangesTest.usageError("Invalid value for option '--seed': 'x' is not a long", "scenes", "--out", out, "--seed", "x");
    assertFalse(Files.exists(tmp.resolve("data")), "nothing written");
  }
}
