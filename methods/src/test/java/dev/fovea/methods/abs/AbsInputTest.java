package dev.fovea.methods.abs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input names the file and the class (issue 20 point 5), and the geometry rules of A.5/A.6 on seeded draws (A.14). */
class AbsInputTest {
  @Test
  void descriptionsWithoutAListedClassNameTheFileAndTheClass(@TempDir Path dir) throws IOException {
    Path d = Files.writeString(dir.resolve("cupl.json"), "{\"tabby cat\": [\"a cat\"], \"sofa\": [\"a sofa\"]}");
    AbsException e = assertThrows(AbsException.class, () -> ClassDescriptions.read(d, List.of("tabby cat", "remote control", "sofa")));
    assertTrue(e.getMessage().contains(d.toString()) && e.getMessage().contains("'remote control'"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), "one line");
    Path empty = Files.writeString(dir.resolve("empty.json"), "{\"tabby cat\": []}");
    e = assertThrows(AbsException.class, () -> ClassDescriptions.read(empty, List.of("tabby cat")));
    assertTrue(e.getMessage().contains("'tabby cat'") && e.getMessage().contains("non-empty"), e.getMessage());
    Path bad = Files.writeString(dir.resolve("bad.json"), "{\"tabby cat\": [1]}");
    e = assertThrows(AbsException.class, () -> ClassDescriptions.read(bad, List.of("tabby cat")));
    assertTrue(e.getMessage().contains("sentence 0"), e.getMessage());
    Path notJson = Files.writeString(dir.resolve("nj.json"), "{\"tabby cat\": [");
    e = assertThrows(AbsException.class, () -> ClassDescriptions.read(notJson, List.of("tabby cat")));
    assertTrue(e.getMessage().startsWith(notJson.toString()) && e.getMessage().contains("not JSON"), e.getMessage());
    e = assertThrows(AbsException.class, () -> ClassDescriptions.read(dir.resolve("missing.json"), List.of("x")));
    assertTrue(e.getMessage().contains("missing.json") && e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void classListUnderscoresBecomeSpacesAndKeysMatchEitherWay(@TempDir Path dir) throws IOException {
    Path c = Files.writeString(dir.resolve("classes.json"), "[\"tabby_cat\", \"sofa\"]");
    List<String> classes = ClassDescriptions.readClasses(c);
    assertEquals(List.of("tabby cat", "sofa"), classes);
    Path d = Files.writeString(dir.resolve("d.json"), "{\"tabby_cat\": [\"a\", \"b\"], \"sofa\": [\"c\"]}");
    ClassDescriptions desc = ClassDescriptions.read(d, classes);
    assertEquals(List.of(List.of("a", "b"), List.of("c")), desc.sentences());
    assertThrows(AbsException.class, () -> ClassDescriptions.readClasses(Files.writeString(dir.resolve("e.json"), "[]")));
  }

  @Test
  void configRefusesOutOfRangeSettings() {
    assertThrows(AbsException.class, () -> AbsConfig.defaults().withTopK(0));
    assertThrows(AbsException.class, () -> AbsConfig.defaults().withNumCrops(-1));
    assertThrows(AbsException.class, () -> new AbsConfig(20, 0.03, 50, 0.9, 0.6, 50, 0.03, -1, -1, false));
    assertThrows(AbsException.class, () -> new AbsConfig(20, 0.03, 50, 0.6, 0.9, 50, 0, -1, -1, false));
  }

  @Test
  void rawBoxesStayInsideTheImageAndSeededDrawsRepeat() {
    for (int[] wh : new int[][] {{640, 480}, {451, 300}, {224, 224}, {100, 61}, {17, 1000}}) {
      int w = wh[0];
      int h = wh[1];
      Draws a = Draws.seeded(7);
      Draws b = Draws.seeded(7);
      for (int r = 0; r < 14; r++) {
        for (int c = 0; c < 14; c++) {
          int[] box = Abs.rawBox(r, c, 14, 16, w, h, 0.6, 0.9, a);
          assertTrue(box[0] >= 0 && box[1] >= 0 && box[2] <= w && box[3] <= h && box[0] < box[2] && box[1] < box[3],
              w + "x" + h + " cell " + r + "," + c + ": box " + java.util.Arrays.toString(box));
          // not larger than 0.9 of the side (+1 for the odd halves)
          assertTrue(box[2] - box[0] <= (int) (0.9 * w) + 1 && box[3] - box[1] <= (int) (0.9 * h) + 1);
          assertTrue(java.util.Arrays.equals(box, Abs.rawBox(r, c, 14, 16, w, h, 0.6, 0.9, b)), "same seed, same box");
        }
      }
    }
  }

  @Test
  void featureWindowsAreOddClippedAndContainTheirCentre() {
    int g = 14;
    int r1 = (int) (g * 0.6);
    int r2 = (int) (g * 0.9);
    assertEquals(8, r1);
    assertEquals(12, r2);
    for (int k = r1; k <= r2; k++) {
      for (int row = 0; row < g; row++) {
        for (int col = 0; col < g; col++) {
          dev.fovea.vit.clip.TokenGrid.Window w = Abs.featureWindow(row, col, g, k);
          int side = 2 * (k / 2) + 1;
          assertTrue(side == 9 || side == 11 || side == 13);
          assertTrue(w.r0() <= row && row < w.r1() && w.c0() <= col && col < w.c1(), "contains its centre");
          assertTrue(w.height() <= side && w.width() <= side && w.r0() >= 0 && w.c1() <= g);
          if (row - k / 2 >= 0 && row + k / 2 < g) {
            assertEquals(side, w.height(), "unclipped rows keep the odd side");
          }
        }
      }
    }
  }

  @Test
  void seededMultinomialFollowsTheWeights() {
    float[] p = {0.7f, 0f, 0.2f, 0.1f};
    int[] d = Draws.seeded(3).multinomial(p, 20_000);
    Map<Integer, Integer> counts = new HashMap<>();
    for (int i : d) {
      counts.merge(i, 1, Integer::sum);
    }
    assertEquals(null, counts.get(1), "a zero weight is never drawn");
    assertEquals(0.7, counts.get(0) / 20_000.0, 0.02);
    assertEquals(0.2, counts.get(2) / 20_000.0, 0.02);
    Draws r = Draws.seeded(4);
    for (int i = 0; i < 1000; i++) {
      int v = r.randint(8, 12);
      assertTrue(v >= 8 && v <= 12);
    }
  }

  @Test
  void topKTakesTheLargestAndSoftmaxSumsToOne() {
    float[] a = new float[196];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) Math.sin(i * 0.37) * 0.01f + 0.005f;
    }
    Abs.TopK t = Abs.topK(a, 20, 0.03);
    double sum = 0;
    for (int i = 0; i < 20; i++) {
      sum += t.probs()[i];
      if (i > 0) {
        assertTrue(t.values()[i] <= t.values()[i - 1]);
      }
    }
    assertEquals(1.0, sum, 1e-6);
    float min = t.values()[19];
    int above = 0;
    for (float v : a) {
      if (v > min) {
        above++;
      }
    }
    assertTrue(above <= 19, "every value above the 20th is in the top-k");
  }
}
