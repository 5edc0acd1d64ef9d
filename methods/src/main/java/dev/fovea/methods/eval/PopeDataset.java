package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.JsonlFile.fileName;
import static dev.fovea.methods.eval.JsonlFile.forEachLine;
import static dev.fovea.methods.eval.JsonlFile.id;
import static dev.fovea.methods.eval.JsonlFile.kind;
import static dev.fovea.methods.eval.JsonlFile.text;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.methods.eval.JsonlFile.Where;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads POPE question files (methods spec 4.1): the published JSONL of {@code DAMO-NLP-SG/VCD} and
 * {@code Lackel/AGLA} ({@code coco_pope_random.json} and its siblings, one object per line despite the
 * extension), one line per question:
 *
 * <pre>{@code
 * {"question_id": 1, "image": "COCO_val2014_000000310196.jpg", "text": "Is there a snowboard in the image?", "label": "yes"}
 * }</pre>
 *
 * <ul>
 *   <li>{@code question_id} (an integer or a string), {@code image} (a file name under the images
 *       folder), {@code text} (the question) and {@code label} ({@code yes} or {@code no}, any case)
 *       are required; other fields are ignored.
 *   <li>The split is the file's name without its extension ({@code coco_pope_random}), or the line's
 *       {@code category} when it has one (LLaVA's {@code llava_pope_test.jsonl} keeps its three
 *       settings in one file that way).
 *   <li>Question ids are unique within a split, over all files read together.
 *   <li>Every image must exist: checked here, before any model work.
 * </ul>
 *
 * Every problem is an {@link EvalDataException} naming the file, the line and the field: {@code
 * coco_pope_random.json, line 3, field "label": unknown label "maybe"; a label is yes or no}.
 */
public final class PopeDataset {
  private PopeDataset() {}

  /** The longest line accepted, in characters (1 Mi). */
  public static final int MAX_LINE_CHARS = 1 << 20;

  /** The questions of one file, in file order. */
  public static List<YesNoItem> read(Path jsonl, Path imagesDir) throws IOException {
    return read(List.of(jsonl), imagesDir);
  }

  /** The questions of several files, file after file, each in file order. */
  public static List<YesNoItem> read(List<Path> files, Path imagesDir) throws IOException {
    List<YesNoItem> items = new ArrayList<>();
    Map<String, String> seen = new HashMap<>(); // split + id -> where first
    Map<String, Path> splitFiles = new HashMap<>();
    for (Path jsonl : files) {
      String file = jsonl.toString();
      String fileSplit = splitName(jsonl);
      Path before = splitFiles.putIfAbsent(fileSplit, jsonl);
      if (before != null) {
        throw new EvalDataException(file, null, null, "gives the split name \"" + fileSplit + "\", as " + before
            + " does; split names come from file names, so give files of different names");
      }
      forEachLine(jsonl, MAX_LINE_CHARS, "images must be file names, not embedded data", (lineNo, node) -> {
        Where at = new Where(file, "line " + lineNo);
        YesNoItem item = item(node, fileSplit, imagesDir, at);
        String first = seen.putIfAbsent(item.split().length() + ":" + item.split() + item.id(), file + ", line " + lineNo);
        if (first != null) {
          throw at.fail("question_id", "duplicate question id " + dev.fovea.tensor.ErrorList.abbreviate(item.id(), 60) + " in split "
              + dev.fovea.tensor.ErrorList.abbreviate(item.split(), 60) + ", first at " + first);
        }
        items.add(item);
      });
    }
    return items;
  }

  /** The split a file gives its lines without {@code category}: its name without the extension. */
  public static String splitName(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  private static YesNoItem item(JsonNode node, String fileSplit, Path imagesDir, Where at) {
    String id = id(node, "question_id", at).orElseThrow(() -> at.fail("question_id", "missing"));
    String image = fileName(node, "image", at);
    String question = text(node, "text", at);
    JsonNode l = node.get("label");
    if (l == null || l.isNull()) {
      throw at.fail("label", "missing");
    }
    if (!l.isTextual()) {
      throw at.fail("label", "must be the string yes or no, found " + kind(l));
    }
    YesNo label;
    try {
      label = YesNo.parseLabel(l.asText());
    } catch (IllegalArgumentException e) {
      throw at.fail("label", e.getMessage());
    }
    String split = node.hasNonNull("category") ? text(node, "category", at) : fileSplit;
    Path path = imagesDir.resolve(image);
    if (!Files.isRegularFile(path)) {
      throw at.fail("image", (Files.exists(path) ? "not a regular file: " : "no such file: ")
          + dev.fovea.tensor.ErrorList.abbreviate(path.toString(), 300));
    }
    return new YesNoItem(split, id, image, path, question, label);
  }
}
