package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dataset readers on small inline files, good and malformed. */
class VqaDatasetTest {
  @TempDir
  Path dir;

  private static final String TEN = "[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"b\"]";

  private Path write(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text, StandardCharsets.UTF_8);
    return p;
  }

  private Path png(String name, int w, int h) throws IOException {
    Path p = dir.resolve(name);
    ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", p.toFile());
    return p;
  }

  /** Reads a JSONL text that must fail; checks that the message names the file, the line and the field. */
  private EvalDataException jsonlFails(String text, VqaDataset.JsonlOptions options, int line, String field) throws IOException {
    Path p = write("bad.jsonl", text);
    EvalDataException e = assertThrows(EvalDataException.class, () -> VqaDataset.readJsonl(p, options));
    assertTrue(e.getMessage().startsWith(p.toString() + ", line " + line), e.getMessage());
    if (field != null) {
      assertTrue(e.getMessage().contains("field \"" + field + "\""), e.getMessage());
      assertEquals(field, e.field());
    }
    return e;
  }

  private EvalDataException jsonlFails(String text, int line, String field) throws IOException {
    return jsonlFails(text, VqaDataset.JsonlOptions.defaults(), line, field);
  }

  private static void contains(Exception e, String part) {
    assertTrue(e.getMessage().contains(part), () -> "\"" + e.getMessage() + "\" should contain \"" + part + "\"");
  }

  // ---------------------------------------------------------------------------------------------
  // JSONL

  @Test
  void jsonlReadsEveryField() throws IOException {
    Path p = write("q.jsonl", "\uFEFF{\"question_id\": 7, \"image\": \"a.jpg\", \"question\": \"what?\", \"answers\": " + TEN + "}\r\n"
        + "\n"
        + "{\"image\": \"sub/b.png\", \"question\": \"which?\", \"answers\": [\"x\"], \"extra\": {\"ignored\": true}}\n"
        + "{\"question_id\": \"q3\", \"image\": \"c.jpg\", \"question\": \"where?\", \"answers\": [\"y\"], "
        + "\"bbox\": [10, 20, 30, 40.5], \"image_width\": 100, \"image_height\": 50}\n"
        + "{\"question_id\": \"q4\", \"image\": \"d.jpg\", \"question\": \"how?\", \"answers\": [\"z\"], "
        + "\"bbox\": [10, 20, 30, 20], \"bbox_format\": \"xywh\", \"image_width\": 100, \"image_height\": 50}");
    List<VqaItem> items = VqaDataset.readJsonl(p);
    assertEquals(4, items.size());
    VqaItem a = items.get(0);
    assertEquals("7", a.questionId());
    assertEquals("a.jpg", a.image());
    assertEquals("what?", a.question());
    assertEquals(10, a.answers().size());
    assertEquals(Optional.empty(), a.bbox());
    assertEquals("3", items.get(1).questionId()); // no id: the line number (line 2 is blank)
    assertEquals(dir.resolve("sub/b.png"), items.get(1).imagePath(dir));
    assertEquals(Optional.of(new BoundingBox(10, 20, 30, 40.5)), items.get(2).bbox());
    assertEquals(Optional.of(new ImageSize(100, 50)), items.get(2).imageSize());
    assertEquals(Optional.of(new BoundingBox(10, 20, 40, 40)), items.get(3).bbox()); // [x, y, w, h]
  }

  @Test
  void jsonlBoxFormatOptionAndTheGtBboxLayout() throws IOException {
    // the jrzhang/TextVQA_GT_bbox fields: dataset_id, answer (a list), bbox as [x, y, w, h]
    Path p = write("gt.jsonl", "{\"dataset_id\": \"34602\", \"image\": \"0054c91397f2fe05.jpg\", \"question\": \"brand?\", "
        + "\"answer\": [\"nokia\", \"nokia\"], \"bbox\": [5, 6, 10, 20], \"image_width\": 1024, \"image_height\": 730}\n");
    List<VqaItem> items = VqaDataset.readJsonl(p, VqaDataset.JsonlOptions.defaults().withBoxFormat(BoundingBox.Format.XYWH));
    assertEquals("34602", items.get(0).questionId());
    assertEquals(List.of("nokia", "nokia"), items.get(0).answers());
    assertEquals(new BoundingBox(5, 6, 15, 26), items.get(0).bbox().orElseThrow());
    // read as corners (the default), [50, 6, 10, 20] has x2 < x1 and is refused
    jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"], \"bbox\": [50, 6, 10, 20], "
        + "\"image_width\": 100, \"image_height\": 100}", 1, "bbox");
  }

  @Test
  void jsonlReadsImageSizesFromHeaders() throws IOException {
    png("small.png", 40, 30);
    Path p = write("q.jsonl", "{\"image\": \"small.png\", \"question\": \"q\", \"answers\": [\"a\"], \"bbox\": [0, 0, 40, 30]}\n"
        + "{\"image\": \"small.png\", \"question\": \"q2\", \"answers\": [\"a\"]}\n");
    List<VqaItem> items = VqaDataset.readJsonl(p, VqaDataset.JsonlOptions.defaults().withImagesDir(dir));
    assertEquals(Optional.of(new ImageSize(40, 30)), items.get(0).imageSize());
    assertEquals(SizeSplit.LARGE, SizeSplit.of(items.get(0)));
    assertEquals(Optional.empty(), items.get(1).imageSize()); // no box: the header is not read
    // outside the image read from the header
    EvalDataException e = jsonlFails("{\"image\": \"small.png\", \"question\": \"q\", \"answers\": [\"a\"], \"bbox\": [0, 0, 41, 30]}",
        VqaDataset.JsonlOptions.defaults().withImagesDir(dir), 1, "bbox");
    contains(e, "outside the 40 x 30 image");
    // a missing image file
    e = jsonlFails("{\"image\": \"nope.png\", \"question\": \"q\", \"answers\": [\"a\"], \"bbox\": [0, 0, 4, 3]}",
        VqaDataset.JsonlOptions.defaults().withImagesDir(dir), 1, "image");
    contains(e, "no such file");
  }

  @Test
  void jsonlMalformedLines() throws IOException {
    String ok = "{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"]}\n";
    contains(jsonlFails(ok + "{\"image\": \"i.jpg\", \"question\": \n", 2, null), "bad JSON");
    contains(jsonlFails(ok + "[1, 2]\n", 2, null), "must be a JSON object, found a list");
    contains(jsonlFails(ok + "{\"a\": 1} {\"b\": 2}\n", 2, null), "bad JSON");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"answers\": [\"a\"]}", 1, "question"), "missing");
    contains(jsonlFails("{\"question\": \"q\", \"answers\": [\"a\"]}", 1, "image"), "missing");
    contains(jsonlFails("{\"image\": 3, \"question\": \"q\", \"answers\": [\"a\"]}", 1, "image"), "must be a string, found a number");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\"}", 1, "answers"), "missing");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": \"a\"}", 1, "answers"),
        "must be a list of strings, found a string");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\", 2]}", 1, "answers"),
        "entry 1 is a number");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": []}", 1, "answers"), "empty list");
    contains(jsonlFails("{\"image\": {\"bytes\": \"...\"}, \"question\": \"q\", \"answers\": [\"a\"]}", 1, "image"), "embedded");
    contains(jsonlFails("{\"question_id\": 1.5, \"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"]}", 1,
        "question_id"), "integer");
  }

  @Test
  void jsonlMalformedBoxes() throws IOException {
    String head = "{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"], \"image_width\": 100, \"image_height\": 80, ";
    contains(jsonlFails(head + "\"bbox\": [1, 2, 3]}", 1, "bbox"), "list of 4 numbers");
    contains(jsonlFails(head + "\"bbox\": [1, 2, 3, \"4\"]}", 1, "bbox"), "entry 3 is a string");
    contains(jsonlFails(head + "\"bbox\": \"1 2 3 4\"}", 1, "bbox"), "found a string");
    contains(jsonlFails(head + "\"bbox\": [10, 10, 10, 20]}", 1, "bbox"), "degenerate");
    contains(jsonlFails(head + "\"bbox\": [10, 10, 20, 5]}", 1, "bbox"), "degenerate");
    contains(jsonlFails(head + "\"bbox\": [10, 10, 0, 5], \"bbox_format\": \"xywh\"}", 1, "bbox"), "degenerate");
    contains(jsonlFails(head + "\"bbox\": [10, 10, 101, 20]}", 1, "bbox"), "outside the 100 x 80 image");
    contains(jsonlFails(head + "\"bbox\": [-1, 10, 20, 20]}", 1, "bbox"), "outside");
    contains(jsonlFails(head + "\"bbox\": [1, 2, 3, 4], \"bbox_format\": \"cxcywh\"}", 1, "bbox_format"), "xyxy or xywh");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"], \"bbox\": [1, 2, 3, 4]}", 1, "bbox"),
        "needs the image size");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"], \"image_width\": 10}", 1, "image_height"),
        "together");
    contains(jsonlFails("{\"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"], \"image_width\": 0, \"image_height\": 5}",
        1, "image_width"), "positive integer");
  }

  @Test
  void jsonlDuplicateIdsLongLinesAndBadUtf8() throws IOException {
    String line = "{\"question_id\": \"q1\", \"image\": \"i.jpg\", \"question\": \"q\", \"answers\": [\"a\"]}\n";
    contains(jsonlFails(line + line, 2, "question_id"), "duplicate question id q1, first on line 1");
    String longLine = "{\"image\": \"i.jpg\", \"question\": \"" + "x".repeat(200) + "\", \"answers\": [\"a\"]}\n";
    contains(jsonlFails(line + longLine, VqaDataset.JsonlOptions.defaults().withMaxLineChars(100), 2, null),
        "longer than 100 characters");
    Path p = dir.resolve("latin1.jsonl");
    Files.write(p, "{\"image\": \"caf\u00e9.jpg\", \"question\": \"q\", \"answers\": [\"a\"]}\n".getBytes(StandardCharsets.ISO_8859_1));
    EvalDataException e = assertThrows(EvalDataException.class, () -> VqaDataset.readJsonl(p));
    contains(e, "line 1");
    contains(e, "UTF-8");
  }

  // ---------------------------------------------------------------------------------------------
  // TextVQA

  private static String textVqaEntry(Object id, String imageId, String answers) {
    return "{\"question\": \"what is the brand of phone?\", \"image_id\": \"" + imageId + "\", \"image_classes\": [\"Phone\"], "
        + "\"image_width\": 1024, \"image_height\": 730, \"answers\": " + answers + ", \"question_tokens\": [\"what\"], "
        + "\"question_id\": " + id + ", \"set_name\": \"val\"}";
  }

  /**
   * Found by bench/fuzz.sh: an image name with a NUL was an InvalidPathException where its header was
   * read, and was accepted otherwise (to fail later in Path.resolve); a 100,000-character name was
   * echoed whole.
   */
  @Test
  void imageNamesMustBeFileNames() throws IOException {
    Path nul = write("nul.jsonl", "{\"image\": \"a\\u0000.png\", \"question\": \"q\", \"answers\": [\"x\"]}\n");
    contains(assertThrows(EvalDataException.class, () -> VqaDataset.readJsonl(nul)),
        nul + ", line 1, field \"image\": \"a?.png\" is not a file name (it holds a NUL character)");
    Path boxed = write("boxed.jsonl", "{\"image\": \"a\\u0000.png\", \"question\": \"q\", \"answers\": [\"x\"], \"bbox\": [1, 1, 2, 2]}\n");
    contains(assertThrows(EvalDataException.class, () -> VqaDataset.readJsonl(boxed, VqaDataset.JsonlOptions.defaults().withImagesDir(dir))),
        "is not a file name");
    Path longName = write("long.jsonl", "{\"image\": \"" + "x".repeat(100_000) + "\", \"question\": \"q\", \"answers\": [\"x\"]}\n");
    EvalDataException e = assertThrows(EvalDataException.class, () -> VqaDataset.readJsonl(longName));
    contains(e, "is not a file name (100000 characters)");
    assertTrue(e.getMessage().length() < 500, e.getMessage().length() + " chars");
    Path textVqa = write("nul.json", "{\"data\": [" + textVqaEntry(1, "a\\u0000b", TEN) + "]}");
    contains(assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(textVqa)), "field \"image_id\": \"a?b\" is not a file name");
  }

  @Test
  void textVqaReadsTheOfficialLayout() throws IOException {
    Path p = write("TextVQA_0.5.1_val.json", "{\"dataset_type\": \"val\", \"dataset_name\": \"textvqa\", \"dataset_version\": \"0.5.1\", "
        + "\"data\": [" + textVqaEntry(34602, "0054c91397f2fe05", TEN) + ",\n" + textVqaEntry(34603, "005635e119b9f32f", "[\"x\"]") + "]}");
    List<VqaItem> items = VqaDataset.readTextVqa(p);
    assertEquals(2, items.size());
    assertEquals("34602", items.get(0).questionId());
    assertEquals("0054c91397f2fe05.jpg", items.get(0).image());
    assertEquals("what is the brand of phone?", items.get(0).question());
    assertEquals(10, items.get(0).answers().size());
    assertEquals(Optional.of(new ImageSize(1024, 730)), items.get(0).imageSize());
    assertEquals(SizeSplit.UNSPLIT, SizeSplit.of(items.get(0)));
  }

  /** Found by bench/fuzz.sh: text that Jackson takes for UTF-32 and cannot decode was a raw CharConversionException. */
  @Test
  void textVqaThatIsNotTextIsAnEvalDataException() throws IOException {
    // 00 00 00 7B reads as UTF-32BE "{", then 0x302F3001 is beyond Unicode
    Path p = dir.resolve("utf32.json");
    Files.write(p, new byte[] {0, 0, 0, '{', 0x30, 0x2f, 0x30, 0x01});
    EvalDataException e = assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(p));
    contains(e, p + ": not UTF-8, UTF-16 or UTF-32 text: Invalid UTF-32 character");
  }

  @Test
  void textVqaMalformed() throws IOException {
    Path p = write("val.json", "{\"data\": [" + textVqaEntry(1, "a", TEN) + ",\n"
        + "{\"question\": \"q\", \"image_id\": \"b\", \"question_id\": 2}]}");
    EvalDataException e = assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(p));
    contains(e, p + ", data[1] (line 2");
    contains(e, "field \"answers\"");
    contains(e, "test split");

    Path q = write("val2.json", "{\"data\": [" + textVqaEntry(1, "a", "[\"x\", null]") + "]}");
    contains(assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(q)), "data[0]");

    Path dup = write("dup.json", "{\"data\": [" + textVqaEntry(1, "a", TEN) + ", " + textVqaEntry(1, "b", TEN) + "]}");
    e = assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(dup));
    contains(e, "data[1]");
    contains(e, "duplicate question id 1, first at data[0]");

    Path noData = write("nodata.json", "{\"questions\": []}");
    contains(assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(noData)), "field \"data\": missing");

    Path broken = write("broken.json", "{\"data\": [\n" + textVqaEntry(1, "a", TEN) + ",\n{\"question\": ");
    e = assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(broken));
    contains(e, broken + ", line 3");
    contains(e, "bad JSON");

    Path list = write("list.json", "[]");
    contains(assertThrows(EvalDataException.class, () -> VqaDataset.readTextVqa(list)), "\"data\" list");
  }

  // ---------------------------------------------------------------------------------------------
  // Box files

  @Test
  void boxesJoinTextVqaByQuestionId() throws IOException {
    Path val = write("val.json", "{\"data\": [" + textVqaEntry(34602, "a", TEN) + ", " + textVqaEntry(34603, "b", TEN) + "]}");
    Path boxFile = write("boxes.jsonl", "{\"dataset_id\": \"34602\", \"bbox\": [100, 100, 20, 10]}\n"
        + "{\"dataset_id\": \"99999\", \"bbox\": [0, 0, 5, 5]}\n"
        + "{\"dataset_id\": \"34603\", \"bbox\": null}\n");
    List<VqaDataset.BoxEntry> boxes = VqaDataset.readBoxes(boxFile, BoundingBox.Format.XYWH);
    assertEquals(2, boxes.size());
    List<VqaItem> items = VqaDataset.attachBoxes(VqaDataset.readTextVqa(val), boxes, null);
    assertEquals(new BoundingBox(100, 100, 120, 110), items.get(0).bbox().orElseThrow());
    // 200 / (1024 * 730) = 0.000268: small
    assertEquals(SizeSplit.SMALL, SizeSplit.of(items.get(0)));
    assertEquals(SizeSplit.UNSPLIT, SizeSplit.of(items.get(1)));

    Path outside = write("out.jsonl", "{\"question_id\": 34602, \"bbox\": [1000, 700, 100, 10]}\n");
    EvalDataException e = assertThrows(EvalDataException.class, () -> VqaDataset.attachBoxes(VqaDataset.readTextVqa(val),
        VqaDataset.readBoxes(outside, BoundingBox.Format.XYWH), null));
    contains(e, outside + ", line 1, field \"bbox\"");
    contains(e, "outside its 1024 x 730 image");

    // an item without a size reads it from the image header
    png("img.png", 64, 48);
    List<VqaItem> noSize = List.of(VqaItem.of("k", "img.png", "q", Collections.nCopies(10, "a")));
    Path kBox = write("k.jsonl", "{\"question_id\": \"k\", \"bbox\": [0, 0, 64, 48]}\n");
    VqaItem joined = VqaDataset.attachBoxes(noSize, VqaDataset.readBoxes(kBox, BoundingBox.Format.XYXY), dir).get(0);
    assertEquals(Optional.of(new ImageSize(64, 48)), joined.imageSize());
    contains(assertThrows(EvalDataException.class,
        () -> VqaDataset.attachBoxes(noSize, VqaDataset.readBoxes(kBox, BoundingBox.Format.XYXY), null)), "no image size");
  }

  // ---------------------------------------------------------------------------------------------
  // The sample file over the shared images

  @Test
  void sampleFileSplitsAsComputedByHand() throws Exception {
    Path images = Path.of(System.getProperty("fovea.shared", "../../shared"), "data", "images");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(images),
        "the shared images folder " + images + " is absent; the sample file needs its image sizes");
    Path sample = Path.of(VqaDatasetTest.class.getResource("/vqa/sample.jsonl").toURI());
    List<VqaItem> items = VqaDataset.readJsonl(sample, VqaDataset.JsonlOptions.defaults().withImagesDir(images));
    assertEquals(7, items.size());
    // the splits written in vqa/README.md
    List<SizeSplit> expected = List.of(SizeSplit.SMALL, SizeSplit.SMALL, SizeSplit.MEDIUM, SizeSplit.MEDIUM,
        SizeSplit.LARGE, SizeSplit.LARGE, SizeSplit.UNSPLIT);
    for (int i = 0; i < items.size(); i++) {
      assertEquals(expected.get(i), SizeSplit.of(items.get(i)), items.get(i).questionId());
      assertEquals(10, items.get(i).answers().size(), items.get(i).questionId());
      assertTrue(Files.isRegularFile(items.get(i).imagePath(images)), items.get(i).image());
    }
    assertEquals(Optional.of(new ImageSize(512, 512)), items.get(0).imageSize());
    assertEquals(602.0 / 262144, SizeSplit.relativeSize(items.get(0)).getAsDouble(), 1e-15);
    // "Collins" matches 7 of the 10 answers of sample-1 once normalized
    assertEquals(1.0, VqaAccuracy.score("Collins", items.get(0).answers()));
  }
}
