package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The POPE reader: the published fields, splits, and one clear line for each kind of bad input. */
class PopeDatasetTest {
  @TempDir Path tmp;
  Path images;

  @BeforeEach
  void images() throws Exception {
    images = Files.createDirectories(tmp.resolve("val2014"));
    Files.write(images.resolve("COCO_val2014_000000000042.jpg"), new byte[] {1});
    Files.write(images.resolve("COCO_val2014_000000000073.jpg"), new byte[] {1});
  }

  static final String GOOD1 = "{\"question_id\": 1, \"image\": \"COCO_val2014_000000000042.jpg\", \"text\": \"Is there a dog in the image?\", \"label\": \"yes\"}";
  static final String GOOD2 = "{\"question_id\": 2, \"image\": \"COCO_val2014_000000000073.jpg\", \"text\": \"Is there a cat in the image?\", \"label\": \"no\"}";

  private Path file(String name, String... lines) throws Exception {
    return Files.writeString(tmp.resolve(name), String.join("\n", lines) + "\n");
  }

  private void fails(String expected, String... lines) throws Exception {
    Path f = file("coco_pope_random.json", lines);
    EvalDataException e = assertThrows(EvalDataException.class, () -> PopeDataset.read(f, images));
    assertEquals(f + expected, e.getMessage());
  }

  @Test
  void readsThePublishedLayout() throws Exception {
    Path f = file("coco_pope_adversarial.json", GOOD1, "", GOOD2.replace("\"no\"", "\"No\""));
    List<YesNoItem> items = PopeDataset.read(f, images);
    assertEquals(2, items.size());
    YesNoItem a = items.get(0);
    assertEquals("coco_pope_adversarial", a.split());
    assertEquals("1", a.id());
    assertEquals("COCO_val2014_000000000042.jpg", a.image());
    assertEquals(images.resolve("COCO_val2014_000000000042.jpg"), a.imagePath());
    assertEquals("Is there a dog in the image?", a.question());
    assertEquals(YesNo.YES, a.label());
    assertEquals(YesNo.NO, items.get(1).label());
    // a category names the split; two files may number their questions alike
    Path g = file("llava_pope_test.jsonl", GOOD1.replace("}", ", \"category\": \"popular\"}"));
    List<YesNoItem> both = PopeDataset.read(List.of(f, g), images);
    assertEquals(List.of("coco_pope_adversarial", "coco_pope_adversarial", "popular"), both.stream().map(YesNoItem::split).toList());
  }

  @Test
  void badInputNamesFileLineAndField() throws Exception {
    fails(", line 2, field \"label\": missing", GOOD1, GOOD2.replace(", \"label\": \"no\"", ""));
    fails(", line 2, field \"label\": unknown label \"maybe\"; a label is yes or no", GOOD1, GOOD2.replace("\"no\"", "\"maybe\""));
    fails(", line 1, field \"label\": must be the string yes or no, found a number", GOOD1.replace("\"yes\"", "1"));
    fails(", line 1, field \"text\": missing", GOOD1.replace("\"text\"", "\"question\""));
    fails(", line 1, field \"question_id\": missing", GOOD1.replace("\"question_id\": 1, ", ""));
    fails(", line 1, field \"image\": must be a string, found an object", GOOD1.replace("\"COCO_val2014_000000000042.jpg\"", "{\"bytes\": 1}"));
    fails(", line 2: bad JSON: Unexpected character ('i' (code 105)): was expecting double-quote to start field name", GOOD1,
        "{image: 3}");
    fails(", line 2, field \"question_id\": duplicate question id 1 in split coco_pope_random, first at " + tmp.resolve("coco_pope_random.json")
        + ", line 1", GOOD1, GOOD2.replace("\"question_id\": 2", "\"question_id\": \"1\""));
    fails(", line 2, field \"image\": no such file: " + images.resolve("COCO_val2014_000000000099.jpg"), GOOD1,
        GOOD2.replace("73", "99"));
    fails(", line 1: must be a JSON object, found a list", "[1, 2]");
  }

  /** Found by bench/fuzz.sh: a hostile label, category or image name was echoed whole in the error (a 100,000-character line). */
  @Test
  void hostileValuesAreCutShortInErrors() throws Exception {
    String x = "x".repeat(100_000);
    fails(", line 1, field \"label\": unknown label \"" + "x".repeat(57) + "...\"; a label is yes or no", GOOD1.replace("\"yes\"", "\"" + x + "\""));
    Path f = file("coco_pope_random.json", GOOD1.replace("}", ", \"category\": \"" + x + "\"}"), GOOD1.replace("}", ", \"category\": \"" + x + "\"}"));
    EvalDataException e = assertThrows(EvalDataException.class, () -> PopeDataset.read(f, images));
    assertTrue(e.getMessage().contains("duplicate question id 1 in split " + "x".repeat(57) + "..."), e.getMessage());
    assertTrue(e.getMessage().length() < 600, e.getMessage().length() + " characters");
    Path g = file("coco_pope_random.json", GOOD1.replace("COCO_val2014_000000000042.jpg", "y".repeat(4000)));
    EvalDataException missing = assertThrows(EvalDataException.class, () -> PopeDataset.read(g, images));
    assertTrue(missing.getMessage().contains("no such file: ") && missing.getMessage().length() < 800, missing.getMessage().length() + " characters");
  }

  @Test
  void twoFilesOfOneNameAreRefused() throws Exception {
    Path a = file("coco_pope_random.json", GOOD1);
    Path b = Files.createDirectories(tmp.resolve("other")).resolve("coco_pope_random.json");
    Files.writeString(b, GOOD2 + "\n");
    EvalDataException e = assertThrows(EvalDataException.class, () -> PopeDataset.read(List.of(a, b), images));
    assertEquals(b + ": gives the split name \"coco_pope_random\", as " + a + " does; split names come from file names, so give files of different names",
        e.getMessage());
  }
}
