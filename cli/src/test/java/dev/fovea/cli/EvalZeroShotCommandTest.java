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
 * {@code eval zeroshot} on the ABS fixtures: resumable results, top-1/top-5/per-class summary, and
 * the bad inputs of issue 20 (a descriptions file missing a class, an empty class folder, an
 * unreadable image mid-run) as one line naming the file, the run resumable afterwards.
 */
class EvalZeroShotCommandTest {
  static final Path REF = AbsClassifyCommandTest.REF;
  @TempDir Path dir;

  Path dataset() throws Exception {
    Path data = dir.resolve("data");
    for (String c : List.of("0_tabby", "1_remote", "2_sofa")) {
      Files.createDirectories(data.resolve(c));
      for (int i = 0; i < 2; i++) {
        Files.copy(AbsClassifyCommandTest.IMAGE, data.resolve(c).resolve("img" + i + ".png"));
      }
    }
    return data;
  }

  List<String> args(Path data, String method, Path out, String... extra) {
    List<String> a = new ArrayList<>(List.of("eval", "zeroshot", "--model", REF.resolve("tiny-clip14").toString(), "--data", data.toString(),
        "--classes", REF.resolve("classes.json").toString(), "--descriptions", REF.resolve("descriptions.json").toString(), "--method", method,
        "--out", out.toString(), "--json", "--no-progress", "--bank-cache", dir.resolve("cache").toString()));
    a.addAll(List.of(extra));
    return a;
  }

  static ClipClassifyCommandTest.Run run(List<String> a) {
    return ClipClassifyCommandTest.run(a.toArray(String[]::new));
  }

  @Test
  void resumesAndSummarises() throws Exception {
    Path data = dataset();
    Path out = dir.resolve("results.jsonl");
    ClipClassifyCommandTest.Run r = run(args(data, "cupl", out, "--limit", "2"));
    assertEquals(0, r.code(), r.err());
    assertEquals(1 + 2, Files.readAllLines(out).size(), "header + 2 records");
    r = run(args(data, "cupl", out));
    assertEquals(0, r.code(), r.err());
    assertEquals(1 + 6, Files.readAllLines(out).size(), "resumed: header + 6 records, none twice");
    JsonNode s = new ObjectMapper().readTree(r.out());
    assertEquals(6, s.get("images").asInt());
    // the same image in every class: exactly one class is right, top-5 (all 3 classes) always
    assertEquals(100.0 / 3, s.get("top1").asDouble(), 1e-9);
    assertEquals(100.0, s.get("top5").asDouble(), 1e-9);
    assertEquals(3, s.get("per_class_top1").size());
    // another method into the same file is refused, naming what differs
    r = run(args(data, "clip", out));
    assertEquals(1, r.code());
    assertTrue(r.err().contains("different run"), r.err());
  }

  @Test
  void absEvaluates() throws Exception {
    Path data = dataset();
    ClipClassifyCommandTest.Run r = run(args(data, "abs", dir.resolve("abs.jsonl"), "--dino", REF.resolve("tiny-dino").toString(), "--crops", "4",
        "--limit", "3"));
    assertEquals(0, r.code(), r.err());
    assertEquals(3, new ObjectMapper().readTree(r.out()).get("images").asInt());
  }

  @Test
  void badInputIsOneLineNamingTheFileAndTheRunResumes() throws Exception {
    Path data = dataset();
    Path out = dir.resolve("r.jsonl");
    // an unreadable image in the middle of the second class
    Path broken = data.resolve("1_remote").resolve("img0b.png");
    Files.writeString(broken, "not a png");
    ClipClassifyCommandTest.Run r = run(args(data, "clip", out));
    assertEquals(1, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains(broken.toString()) && r.err().contains("rerun to resume"), r.err());
    assertEquals(1 + 3, Files.readAllLines(out).size(), "the three images before it are kept");
    r = run(args(data, "clip", out, "--skip-unreadable"));
    assertEquals(0, r.code(), r.err());
    JsonNode s = new ObjectMapper().readTree(r.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
    assertEquals(6, s.get("images").asInt());
    assertEquals(1, s.get("skipped").asInt());
    // an empty class folder
    Path data2 = dir.resolve("data2");
    Files.createDirectories(data2.resolve("a"));
    Files.createDirectories(data2.resolve("b"));
    Files.createDirectories(data2.resolve("c"));
    Files.copy(AbsClassifyCommandTest.IMAGE, data2.resolve("a").resolve("x.png"));
    Files.copy(AbsClassifyCommandTest.IMAGE, data2.resolve("c").resolve("x.png"));
    r = run(args(data2, "clip", dir.resolve("r2.jsonl")));
    assertEquals(1, r.code());
    assertTrue(r.err().contains(data2.resolve("b").toString()) && r.err().contains("empty class folder"), r.err());
    // descriptions missing a class the class list names
    Path desc = Files.writeString(dir.resolve("d.json"), "{\"tabby cat\": [\"a\"], \"sofa\": [\"b\"]}");
    List<String> a = args(data, "cupl", dir.resolve("r3.jsonl"));
    a.set(a.indexOf(REF.resolve("descriptions.json").toString()), desc.toString());
    r = run(a);
    assertEquals(1, r.code());
    assertTrue(r.err().contains(desc.toString()) && r.err().contains("'remote control'"), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
  }
}
