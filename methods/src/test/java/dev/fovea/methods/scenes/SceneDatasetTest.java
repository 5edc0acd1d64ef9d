package dev.fovea.methods.scenes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.methods.eval.ImageSize;
import dev.fovea.methods.eval.PopeDataset;
import dev.fovea.methods.eval.SizeSplit;
import dev.fovea.methods.eval.VqaDataset;
import dev.fovea.methods.eval.VqaItem;
import dev.fovea.methods.eval.YesNo;
import dev.fovea.methods.eval.YesNoItem;
import dev.fovea.tensor.cpu.Parallel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SceneDatasetTest {
  @TempDir Path tmp;

  static final SceneGenerator GEN = new SceneGenerator(160);

  static SceneDataset.Summary write(Path out, boolean force) throws Exception {
    return SceneDataset.write(out, GEN, SceneDataset.splits(11, 6, 3), force, SceneDataset.Listener.NONE);
  }

  /** Every file under {@code dir} by relative path, with its bytes. */
  static Map<String, byte[]> files(Path dir) throws Exception {
    Map<String, byte[]> out = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return out;
  }

  @Test
  void theEvaluatorsReadWhatIsWritten() throws Exception {
    Path out = tmp.resolve("scenes");
    List<long[]> progress = new ArrayList<>();
    SceneDataset.Summary s = SceneDataset.write(out, GEN, SceneDataset.splits(11, 6, 3), false, (d, t) -> progress.add(new long[] {d, t}));
    assertEquals(List.of("train", "heldout"), s.splits().stream().map(SceneDataset.SplitSummary::name).toList());
    assertEquals(List.of(6L, 9L), progress.stream().map(p -> p[0]).toList(), "one report per batch and split");
    assertEquals(11, s.splits().get(0).seed());
    assertEquals(SceneDataset.heldOutSeed(11), s.splits().get(1).seed());
    assertTrue(s.splits().get(1).seed() != 11);

    for (SceneDataset.SplitSummary split : s.splits()) {
      Path dir = out.resolve(split.name());
      Path images = dir.resolve("images");
      List<VqaItem> items = VqaDataset.readJsonl(dir.resolve("questions.jsonl"), VqaDataset.JsonlOptions.defaults().withImagesDir(images));
      assertEquals(5 * split.scenes(), items.size());
      assertEquals(items.size(), split.questions());
      List<JsonNode> lines = new ArrayList<>();
      for (String line : Files.readAllLines(dir.resolve("questions.jsonl"))) {
        lines.add(new ObjectMapper().readTree(line));
      }
      for (int i = 0; i < items.size(); i++) {
        VqaItem item = items.get(i);
        JsonNode line = lines.get(i);
        assertTrue(Files.isRegularFile(item.imagePath(images)), item.image());
        assertEquals(new ImageSize(160, 160), ImageSize.read(item.imagePath(images)));
        assertEquals(10, item.answers().size());
        assertEquals(1, item.answers().stream().distinct().count());
        // our own fields: the type, and the split, which must be the one eval vqa computes from the box
        assertEquals(SizeSplit.of(item).label(), line.get("size").asText(), item.questionId());
        QuestionType.parse(line.get("type").asText());
        assertEquals(item.bbox().isEmpty(), "no".equals(item.answers().get(0)), item.questionId());
      }
      assertEquals(String.format("%06d-1", 0), items.get(0).questionId());
      assertEquals("000000.png", items.get(0).image());

      List<YesNoItem> pope = PopeDataset.read(dir.resolve("pope.jsonl"), images);
      assertEquals(2 * split.scenes(), pope.size());
      assertEquals(split.scenes(), pope.stream().filter(p -> p.label() == YesNo.YES).count());
      assertTrue(pope.stream().allMatch(p -> p.split().equals(SceneGenerator.ABSENT) || p.split().equals(SceneGenerator.SWAPPED)));
      assertEquals(split.yes(), split.no());
    }
    JsonNode manifest = new ObjectMapper().readTree(out.resolve("scenes.json").toFile());
    assertEquals("fovea-scenes", manifest.get("format").asText());
    assertEquals(160, manifest.get("size").asInt());
    assertEquals(6, manifest.get("splits").get(0).get("scenes").asInt());
    assertTrue(SceneDataset.isDataset(out));
    try (Stream<Path> siblings = Files.list(tmp)) {
      assertEquals(List.of(out), siblings.toList(), "no temporary folder is left beside the output");
    }
  }

  @Test
  void theFilesAreTheSameForOneThreadAndTwo() throws Exception {
    int before = Parallel.threads();
    try {
      Parallel.setThreads(1);
      write(tmp.resolve("one"), false);
      Parallel.setThreads(2);
      write(tmp.resolve("two"), false);
    } finally {
      Parallel.setThreads(before);
    }
    Map<String, byte[]> one = files(tmp.resolve("one"));
    Map<String, byte[]> two = files(tmp.resolve("two"));
    assertEquals(one.keySet(), two.keySet());
    for (String f : one.keySet()) {
      assertArrayEquals(one.get(f), two.get(f), f);
    }
    assertEquals(9 + 4 + 1, one.size(), one.keySet().toString());
  }

  @Test
  void anExistingOutputIsReplacedOnlyWithForceAndOnlyWhenItIsOurs() throws Exception {
    Path out = tmp.resolve("scenes");
    write(out, false);
    var e = assertThrows(SceneDatasetException.class, () -> write(out, false));
    assertEquals(out + ": already exists; pass --force to replace it", e.getMessage());
    Files.writeString(out.resolve("train/marker"), "old");
    write(out, true);
    assertFalse(Files.exists(out.resolve("train/marker")), "the old dataset is gone");
    assertTrue(SceneDataset.isDataset(out));

    Path other = Files.createDirectory(tmp.resolve("home"));
    Files.writeString(other.resolve("notes.txt"), "keep me");
    e = assertThrows(SceneDatasetException.class, () -> write(other, true));
    assertTrue(e.getMessage().startsWith(other + ": is not a scenes dataset"), e.getMessage());
    assertEquals("keep me", Files.readString(other.resolve("notes.txt")));

    Path file = Files.writeString(tmp.resolve("file"), "x");
    e = assertThrows(SceneDatasetException.class, () -> write(file, true));
    assertEquals(file + ": is a file; the output is a folder to create", e.getMessage());

    Path empty = Files.createDirectory(tmp.resolve("empty"));
    assertThrows(SceneDatasetException.class, () -> write(empty, false));
    write(empty, true);
    assertTrue(SceneDataset.isDataset(empty));
  }

  @Test
  void aFailedRunLeavesNothing() throws Exception {
    Path out = tmp.resolve("scenes");
    RuntimeException stop = new RuntimeException("stop");
    var e = assertThrows(RuntimeException.class,
        () -> SceneDataset.write(out, GEN, SceneDataset.splits(1, 3, 3), false, (d, t) -> {
          if (d > 3) {
            throw stop;
          }
        }));
    assertEquals(stop, e);
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList());
    }
    // and a failed replacement keeps the old dataset
    write(out, false);
    byte[] manifest = Files.readAllBytes(out.resolve("scenes.json"));
    assertThrows(RuntimeException.class, () -> SceneDataset.write(out, GEN, SceneDataset.splits(2, 3, 0), true, (d, t) -> {
      throw stop;
    }));
    assertArrayEquals(manifest, Files.readAllBytes(out.resolve("scenes.json")));
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(out), left.toList());
    }
  }

  @Test
  void badSplitsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new SceneDataset.Split("Train", 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new SceneDataset.Split("../x", 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new SceneDataset.Split("train", 1, -1));
    assertThrows(IllegalArgumentException.class,
        () -> SceneDataset.write(tmp.resolve("x"), GEN, List.of(new SceneDataset.Split("a", 1, 1), new SceneDataset.Split("a", 2, 1)), false,
            SceneDataset.Listener.NONE));
    assertEquals(List.of("heldout"), SceneDataset.splits(1, 0, 2).stream().map(SceneDataset.Split::name).toList());
  }
}
