package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code classify --method clip|clip-e|cupl|abs} in-process on the ABS fixtures (methods' test
 * resources, tools/reference/abs/make_abs_reference.py): the baselines' scores are the reference's
 * cosines (1e-5); abs runs with seeded draws, caches its bank, writes its views, and usage errors
 * name the option.
 */
class AbsClassifyCommandTest {
  static final Path REF = Path.of("..", "methods", "src", "test", "resources", "abs-reference").toAbsolutePath().normalize();
  static final Path IMAGE = REF.resolve("synthetic-100x61.png");
  @TempDir Path dir;

  List<String> args(String method, String... extra) {
    List<String> a = new ArrayList<>(List.of("classify", "--model", REF.resolve("tiny-clip14").toString(), "--image", IMAGE.toString(),
        "--labels", REF.resolve("classes.json").toString(), "--method", method, "--json", "--no-progress", "--bank-cache", dir.resolve("cache").toString()));
    a.addAll(List.of(extra));
    return a;
  }

  static JsonNode json(ClipClassifyCommandTest.Run r) throws Exception {
    assertEquals(0, r.code(), r.err());
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void baselinesGiveTheReferenceCosines() throws Exception {
    List<String> classes = List.of("tabby cat", "remote control", "sofa");
    try (WeightSource ref = WeightFiles.open(REF.resolve("abs.ref.safetensors"))) {
      for (String m : List.of("clip", "clip-e", "cupl")) {
        List<String> a = args(m, "--descriptions", REF.resolve("descriptions.json").toString());
        if (m.equals("clip-e")) {
          for (String t : List.of("a photo of a {}.", "a blurry photo of the {}.", "a drawing of a {}.")) {
            a.addAll(List.of("--template", t));
          }
        }
        if (m.equals("clip")) {
          a.remove("--descriptions");
          a.remove(REF.resolve("descriptions.json").toString());
        }
        JsonNode out = json(ClipClassifyCommandTest.run(a.toArray(String[]::new)));
        float[] want = ref.get("synthetic-100x61.png/baseline." + m).toFloatArray();
        assertEquals(3, out.get("predictions").size());
        double psum = 0;
        for (JsonNode p : out.get("predictions")) {
          int k = classes.indexOf(p.get("label").asText());
          assertEquals(want[k], p.get("score").floatValue(), 1e-5, m + " " + p);
          psum += p.get("probability").doubleValue();
        }
        assertEquals(1.0, psum, 1e-5);
      }
    }
  }

  @Test
  void absRunsCachesItsBankAndWritesItsViews() throws Exception {
    Path views = dir.resolve("views");
    List<String> a = args("abs", "--descriptions", REF.resolve("descriptions.json").toString(), "--dino", REF.resolve("tiny-dino").toString(),
        "--seed", "3", "--views-out", views.toString(), "--descriptions-per-class", "5");
    JsonNode first = json(ClipClassifyCommandTest.run(a.toArray(String[]::new)));
    assertEquals("abs", first.get("method").asText());
    assertEquals(3, first.get("predictions").size());
    try (Stream<Path> cached = Files.list(dir.resolve("cache"))) {
      assertEquals(1, cached.filter(p -> p.getFileName().toString().startsWith("abs-bank-")).count(), "one cached bank");
    }
    assertTrue(Files.isRegularFile(views.resolve("synthetic-100x61-dino.png")));
    assertTrue(Files.isRegularFile(views.resolve("synthetic-100x61-raw-49.png")));
    assertTrue(Files.isRegularFile(views.resolve("synthetic-100x61-windows.png")));
    JsonNode v = new ObjectMapper().readTree(views.resolve("synthetic-100x61-views.json").toFile());
    assertEquals(50, v.get("boxes").size());
    assertEquals(100, v.get("view_scores").size());
    // same seed, same answer (the second run reads the bank from the cache)
    JsonNode second = json(ClipClassifyCommandTest.run(a.toArray(String[]::new)));
    assertEquals(first.get("predictions"), second.get("predictions"));
  }

  @Test
  void usageErrorsNameTheOption() {
    ClipClassifyCommandTest.Run r = ClipClassifyCommandTest.run(args("abs").toArray(String[]::new));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--descriptions"), r.err());
    r = ClipClassifyCommandTest.run(args("abs", "--descriptions", REF.resolve("descriptions.json").toString()).toArray(String[]::new));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--dino"), r.err());
    r = ClipClassifyCommandTest.run(args("nope").toArray(String[]::new));
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--method must be one of"), r.err());
    r = ClipClassifyCommandTest.run(args("abs", "--crops", "-1").toArray(String[]::new));
    assertTrue(r.code() == 2 && r.err().contains("--crops must be within [0, 10000], got -1"), r.err());
    r = ClipClassifyCommandTest.run(args("cupl", "--descriptions", dir.resolve("none.json").toString()).toArray(String[]::new));
    assertTrue(r.code() != 0 && r.err().contains("none.json") && r.err().contains("no such file"), r.err());
  }
}
