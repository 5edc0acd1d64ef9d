package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.JsonlFile.fileName;
import static dev.fovea.methods.eval.JsonlFile.forEachLine;
import static dev.fovea.methods.eval.JsonlFile.id;
import static dev.fovea.methods.eval.JsonlFile.kind;
import static dev.fovea.methods.eval.JsonlFile.text;
import static dev.fovea.methods.eval.JsonlFile.where;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.fovea.methods.eval.JsonlFile.Where;
import dev.fovea.tensor.ErrorList;
import java.io.CharConversionException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Readers for VQA question files. Each returns the items in file order, checked: a malformed entry is a
 * {@link EvalDataException} naming the file, the line (or list entry) and the field. Answers are kept
 * raw; {@link VqaAccuracy} normalizes them when scoring.
 *
 * <h2>TextVQA ({@link #readTextVqa})</h2>
 * The official {@code TextVQA_0.5.1_val.json} (and train): one JSON object whose {@code "data"} list
 * holds one object per question with {@code question_id} (a number), {@code image_id} (the image file
 * is {@code <image_id>.jpg} in the images folder), {@code question}, {@code answers} (10 strings) and
 * {@code image_width}/{@code image_height}; other fields ({@code image_classes}, {@code flickr_*_url},
 * {@code question_tokens}, {@code set_name}...) are ignored. These names are the ones LLaVA's
 * {@code eval_textvqa.py} and ViCrop's README read ({@code data}, {@code image_id}, {@code question},
 * {@code answers}) and that public loaders read for the size ({@code image_width}, {@code
 * image_height}); the file itself was not available here. The size fields are optional. The test
 * split has no answers and is refused.
 *
 * <h2>JSONL ({@link #readJsonl})</h2>
 * Our own layout, one JSON object per line (blank lines are skipped, a UTF-8 byte order mark is
 * ignored):
 *
 * <pre>{@code
 * {"question_id": "q1", "image": "cat.jpg", "question": "what colour?", "answers": ["red", ...],
 *  "bbox": [x1, y1, x2, y2], "image_width": 640, "image_height": 480}
 * }</pre>
 *
 * <ul>
 *   <li>{@code image}, {@code question} and {@code answers} are required; {@code answers} is a non-empty
 *       list of strings (a single answer is still a list).
 *   <li>{@code question_id} (a string or an integer) is optional; without it the id is the line
 *       number, {@code "1"} for the first line. Ids must be unique in the file.
 *   <li>{@code bbox} is optional (absent or null: no box). Its four numbers are two corners {@code [x1,
 *       y1, x2, y2]} in image pixels (see {@link BoundingBox}) unless the line says {@code "bbox_format":
 *       "xywh"} (then {@code [x, y, w, h]}) or the reader's {@link JsonlOptions#boxFormat()} says so. A
 *       box must have a positive width and height and lie inside the image.
 *   <li>{@code image_width} and {@code image_height} are optional (both or neither). A line with a box
 *       needs the image size: from these fields, or else read from the image file's header under {@link
 *       JsonlOptions#imagesDir()} (no pixel is decoded).
 *   <li>Other fields are ignored.
 * </ul>
 *
 * The file is read line by line (a line longer than {@link JsonlOptions#maxLineChars()} is an error:
 * images must be file names, not embedded data).
 *
 * <h2>{@code jrzhang/TextVQA_GT_bbox}</h2>
 * ViCrop's answer boxes (Hugging Face dataset, split {@code train}, 4,370 rows) have the fields {@code
 * dataset_id} (the TextVQA {@code question_id}, as a string), {@code question}, {@code answer} (a list of
 * strings), {@code bbox} and {@code image} (embedded image data). Public code that uses it reads {@code
 * bbox} as {@code [x, y, w, h]} in pixels (area {@code w * h}); this was not checked against the data
 * card. Two ways in, both needing the box format said explicitly:
 *
 * <ul>
 *   <li>rows exported to JSONL with {@code image} as a file name: {@link #readJsonl} accepts {@code
 *       dataset_id} for {@code question_id} and {@code answer} (a list) for {@code answers}; give {@code
 *       "bbox_format": "xywh"} or {@link BoundingBox.Format#XYWH} in the options;
 *   <li>the boxes alone joined to the official TextVQA file: {@link #readBoxes} then {@link #attachBoxes}.
 * </ul>
 */
public final class VqaDataset {
  private VqaDataset() {}

  /** The default line length limit of the JSONL reader, in characters (1 Mi). */
  public static final int DEFAULT_MAX_LINE_CHARS = 1 << 20;

  /**
   * Options of {@link #readJsonl}.
   *
   * @param imagesDir where image files are, to read sizes from their headers when a line has a box but
   *     no {@code image_width}/{@code image_height}; null when not needed
   * @param boxFormat how {@code bbox} is read on lines without {@code bbox_format}
   * @param maxLineChars the longest line accepted, in characters
   */
  public record JsonlOptions(Path imagesDir, BoundingBox.Format boxFormat, int maxLineChars) {
    public JsonlOptions {
      if (boxFormat == null) {
        throw new IllegalArgumentException("boxFormat is required");
      }
      if (maxLineChars < 2) {
        throw new IllegalArgumentException("maxLineChars must be at least 2, got " + maxLineChars);
      }
    }

    /** No images folder, {@code [x1, y1, x2, y2]} boxes, lines up to {@link #DEFAULT_MAX_LINE_CHARS}. */
    public static JsonlOptions defaults() {
      return new JsonlOptions(null, BoundingBox.Format.XYXY, DEFAULT_MAX_LINE_CHARS);
    }

    public JsonlOptions withImagesDir(Path dir) {
      return new JsonlOptions(dir, boxFormat, maxLineChars);
    }

    public JsonlOptions withBoxFormat(BoundingBox.Format format) {
      return new JsonlOptions(imagesDir, format, maxLineChars);
    }

    public JsonlOptions withMaxLineChars(int max) {
      return new JsonlOptions(imagesDir, boxFormat, max);
    }
  }

  /** One answer box of a box file ({@link #readBoxes}), with where it was read. */
  public record BoxEntry(String questionId, BoundingBox box, String file, long line) {}

  /** Whole documents (a JSONL line, a journal record): trailing content and repeated keys are errors. */
  static final ObjectMapper JSON = JsonlFile.JSON;

  /** Values inside a streamed document (TextVQA's list entries), where more content follows each one. */
  private static final ObjectMapper STREAM = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .build();

  // ---------------------------------------------------------------------------------------------
  // TextVQA

  /** Reads the official TextVQA JSON (see the class comment), streaming the {@code data} list. */
  public static List<VqaItem> readTextVqa(Path json) throws IOException {
    String file = json.toString();
    List<VqaItem> items = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    boolean sawData = false;
    try (JsonParser p = STREAM.createParser(json.toFile())) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new EvalDataException(file, where(p.currentTokenLocation()), null,
            "expected a JSON object with a \"data\" list (the TextVQA layout)");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (!"data".equals(name)) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          throw new EvalDataException(file, where(p.currentTokenLocation()), "data", "must be a list, found " + tokenKind(value));
        }
        sawData = true;
        for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
          Where at = new Where(file, "data[" + i + "] (" + where(p.currentTokenLocation()) + ")");
          JsonNode entry = p.readValueAsTree();
          VqaItem item = textVqaItem(entry, at);
          String before = seen.putIfAbsent(item.questionId(), at.location());
          if (before != null) {
            throw at.fail("question_id", "duplicate question id " + item.questionId() + ", first at " + before);
          }
          items.add(item);
        }
      }
    } catch (JsonProcessingException e) {
      throw new EvalDataException(file, where(e.getLocation()), null, "bad JSON: " + e.getOriginalMessage(), e);
    } catch (CharConversionException e) { // Jackson reads UTF-16 and UTF-32 too, and reports their errors this way
      throw new EvalDataException(file, null, null, "not UTF-8, UTF-16 or UTF-32 text: " + e.getMessage(), e);
    }
    if (!sawData) {
      throw new EvalDataException(file, null, "data", "missing: the TextVQA layout keeps the questions in a \"data\" list");
    }
    return items;
  }

  private static VqaItem textVqaItem(JsonNode entry, Where at) {
    if (!entry.isObject()) {
      throw at.fail(null, "must be a JSON object, found " + kind(entry));
    }
    String id = id(entry, "question_id", at).orElseThrow(() -> at.fail("question_id", "missing"));
    String imageId = fileName(entry, "image_id", at);
    String question = text(entry, "question", at);
    if (!entry.has("answers")) {
      throw at.fail("answers", "missing (the TextVQA test split has no answers; evaluate on val)");
    }
    List<String> answers = answers(entry, "answers", at);
    Optional<ImageSize> size = size(entry, at);
    return new VqaItem(id, imageId + ".jpg", question, answers, Optional.empty(), size);
  }

  // ---------------------------------------------------------------------------------------------
  // JSONL

  /** Reads a JSONL question file with the default options (no images folder, xyxy boxes). */
  public static List<VqaItem> readJsonl(Path jsonl) throws IOException {
    return readJsonl(jsonl, JsonlOptions.defaults());
  }

  /** Reads a JSONL question file (see the class comment for the fields). */
  public static List<VqaItem> readJsonl(Path jsonl, JsonlOptions options) throws IOException {
    String file = jsonl.toString();
    List<VqaItem> items = new ArrayList<>();
    Map<String, Long> seen = new HashMap<>();
    Map<Path, ImageSize> sizes = new HashMap<>();
    forEachLine(jsonl, options.maxLineChars(), "images must be file names, not embedded data", (lineNo, node) -> {
      Where at = new Where(file, "line " + lineNo);
      VqaItem item = jsonlItem(node, lineNo, options, sizes, at);
      Long before = seen.putIfAbsent(item.questionId(), lineNo);
      if (before != null) {
        throw at.fail(node.has("question_id") ? "question_id" : node.has("dataset_id") ? "dataset_id" : null,
            "duplicate question id " + item.questionId() + ", first on line " + before);
      }
      items.add(item);
    });
    return items;
  }

  private static VqaItem jsonlItem(JsonNode node, long lineNo, JsonlOptions options, Map<Path, ImageSize> sizes, Where at) {
    Optional<String> qid = id(node, "question_id", at);
    Optional<String> did = id(node, "dataset_id", at);
    if (qid.isPresent() && did.isPresent() && !qid.get().equals(did.get())) {
      throw at.fail("dataset_id", "is " + did.get() + " but question_id is " + qid.get() + ": give one id");
    }
    String id = qid.or(() -> did).orElse(Long.toString(lineNo));
    JsonNode imageNode = node.get("image");
    if (imageNode != null && imageNode.isObject()) {
      throw at.fail("image", "is embedded image data; write the image to a file and give its file name");
    }
    String image = fileName(node, "image", at);
    String question = text(node, "question", at);
    List<String> answers;
    if (node.has("answers") && node.has("answer")) {
      throw at.fail("answer", "give either \"answers\" or \"answer\", not both");
    } else if (node.has("answer")) {
      answers = answers(node, "answer", at);
    } else if (node.has("answers")) {
      answers = answers(node, "answers", at);
    } else {
      throw at.fail("answers", "missing");
    }
    Optional<ImageSize> size = size(node, at);
    Optional<BoundingBox> box = box(node, options.boxFormat(), at);
    if (box.isPresent() && size.isEmpty()) {
      if (options.imagesDir() == null) {
        throw at.fail("bbox", "needs the image size: give image_width and image_height, or an images folder to read it from");
      }
      Path path = options.imagesDir().resolve(image);
      ImageSize read = sizes.get(path);
      if (read == null) {
        try {
          read = ImageSize.read(path);
        } catch (IOException e) {
          throw new EvalDataException(at.file(), at.location(), "image", "cannot read the image size: "
              + ErrorList.abbreviate(String.valueOf(e.getMessage()), 300), e);
        }
        sizes.put(path, read);
      }
      size = Optional.of(read);
    }
    if (box.isPresent() && !box.get().inside(size.get())) {
      throw at.fail("bbox", "box " + box.get() + " lies outside the " + size.get() + " image");
    }
    Optional<String> type = Optional.empty();
    JsonNode t = node.get("type");
    if (t != null && !t.isNull()) {
      if (!t.isTextual() || t.asText().isBlank() || t.asText().length() > 64) {
        throw at.fail("type", "must be a non-empty string of at most 64 characters");
      }
      type = Optional.of(t.asText());
    }
    return new VqaItem(id, image, question, answers, box, size, type);
  }

  // ---------------------------------------------------------------------------------------------
  // Box files and the join

  /**
   * Reads a JSONL file of answer boxes: one object per line with {@code question_id} or {@code
   * dataset_id} and {@code bbox} (read in {@code format} unless the line has {@code bbox_format}); other
   * fields are ignored. Lines with a null or absent {@code bbox} are skipped. Boxes are checked against
   * their image in {@link #attachBoxes}.
   */
  public static List<BoxEntry> readBoxes(Path jsonl, BoundingBox.Format format) throws IOException {
    String file = jsonl.toString();
    List<BoxEntry> boxes = new ArrayList<>();
    Map<String, Long> seen = new HashMap<>();
    forEachLine(jsonl, DEFAULT_MAX_LINE_CHARS, null, (lineNo, node) -> {
      Where at = new Where(file, "line " + lineNo);
      Optional<String> qid = id(node, "question_id", at);
      Optional<String> did = id(node, "dataset_id", at);
      String id = qid.or(() -> did).orElseThrow(() -> at.fail("question_id", "missing (give question_id or dataset_id)"));
      Optional<BoundingBox> box = box(node, format, at);
      if (box.isEmpty()) {
        return;
      }
      Long before = seen.putIfAbsent(id, lineNo);
      if (before != null) {
        throw at.fail(qid.isPresent() ? "question_id" : "dataset_id", "duplicate question id " + id + ", first on line " + before);
      }
      boxes.add(new BoxEntry(id, box.get(), file, lineNo));
    });
    return boxes;
  }

  /**
   * The items with the boxes whose question id they share; items without a box stay as they are, and
   * boxes of questions not among the items are ignored. An item needs its image size for a box: the one
   * it has, or else the one read from its image file's header under {@code imagesDir} (may be null when
   * every boxed item has its size).
   *
   * @throws EvalDataException naming the box file and line when a box lies outside its image or the size
   *     cannot be had
   */
  public static List<VqaItem> attachBoxes(List<VqaItem> items, Collection<BoxEntry> boxes, Path imagesDir) {
    Map<String, BoxEntry> byId = new LinkedHashMap<>();
    for (BoxEntry b : boxes) {
      byId.putIfAbsent(b.questionId(), b);
    }
    List<VqaItem> out = new ArrayList<>(items.size());
    for (VqaItem item : items) {
      BoxEntry b = byId.get(item.questionId());
      if (b == null) {
        out.add(item);
        continue;
      }
      Where at = new Where(b.file(), "line " + b.line());
      ImageSize size = item.imageSize().orElse(null);
      if (size == null) {
        if (imagesDir == null) {
          throw at.fail("bbox", "question " + item.questionId() + " has no image size: give an images folder to read it from");
        }
        try {
          size = ImageSize.read(item.imagePath(imagesDir));
        } catch (IOException e) {
          throw new EvalDataException(at.file(), at.location(), "bbox", "cannot read the image size of question "
              + item.questionId() + ": " + e.getMessage(), e);
        }
      }
      if (!b.box().inside(size)) {
        throw at.fail("bbox", "box " + b.box() + " of question " + item.questionId() + " lies outside its "
            + size + " image " + item.image());
      }
      out.add(item.withBox(b.box(), size));
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Lines and fields

  private static List<String> answers(JsonNode node, String field, Where at) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw at.fail(field, "missing");
    }
    if (!v.isArray()) {
      throw at.fail(field, "must be a list of strings, found " + kind(v));
    }
    if (v.isEmpty()) {
      throw at.fail(field, "is an empty list: a question needs at least one answer");
    }
    List<String> answers = new ArrayList<>(v.size());
    for (int i = 0; i < v.size(); i++) {
      JsonNode a = v.get(i);
      if (!a.isTextual()) {
        throw at.fail(field, "must be a list of strings, but entry " + i + " is " + kind(a));
      }
      answers.add(a.asText());
    }
    return answers;
  }

  private static Optional<ImageSize> size(JsonNode node, Where at) {
    boolean w = node.hasNonNull("image_width");
    boolean h = node.hasNonNull("image_height");
    if (!w && !h) {
      return Optional.empty();
    }
    if (!w || !h) {
      throw at.fail(w ? "image_height" : "image_width", "missing: give image_width and image_height together");
    }
    int width = positiveInt(node, "image_width", at);
    int height = positiveInt(node, "image_height", at);
    return Optional.of(new ImageSize(width, height));
  }

  private static int positiveInt(JsonNode node, String field, Where at) {
    JsonNode v = node.get(field);
    if (!v.isNumber() || !v.canConvertToExactIntegral() || !v.canConvertToInt() || v.asInt() <= 0) {
      throw at.fail(field, "must be a positive integer, found " + (v.isNumber() ? v.asText() : kind(v)));
    }
    return v.asInt();
  }

  private static Optional<BoundingBox> box(JsonNode node, BoundingBox.Format defaultFormat, Where at) {
    JsonNode v = node.get("bbox");
    if (v == null || v.isNull()) {
      return Optional.empty();
    }
    BoundingBox.Format format = defaultFormat;
    JsonNode f = node.get("bbox_format");
    if (f != null && !f.isNull()) {
      if (!f.isTextual()) {
        throw at.fail("bbox_format", "must be \"xyxy\" or \"xywh\", found " + kind(f));
      }
      try {
        format = BoundingBox.Format.parse(f.asText());
      } catch (IllegalArgumentException e) {
        throw at.fail("bbox_format", e.getMessage());
      }
    }
    if (!v.isArray() || v.size() != 4) {
      throw at.fail("bbox", "must be a list of 4 numbers " + (format == BoundingBox.Format.XYXY ? "[x1, y1, x2, y2]" : "[x, y, w, h]")
          + ", found " + (v.isArray() ? "a list of " + v.size() : kind(v)));
    }
    double[] c = new double[4];
    for (int i = 0; i < 4; i++) {
      if (!v.get(i).isNumber()) {
        throw at.fail("bbox", "must be a list of 4 numbers, but entry " + i + " is " + kind(v.get(i)));
      }
      c[i] = v.get(i).asDouble();
    }
    try {
      return Optional.of(BoundingBox.of(c[0], c[1], c[2], c[3], format));
    } catch (IllegalArgumentException e) {
      throw at.fail("bbox", e.getMessage());
    }
  }

  private static String tokenKind(JsonToken t) {
    if (t == null) {
      return "the end of the file";
    }
    return switch (t) {
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case START_OBJECT -> "an object";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }
}
