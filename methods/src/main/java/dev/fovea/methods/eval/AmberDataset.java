package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.JsonlFile.where;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.ErrorList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AMBER (Wang et al. 2023, {@code junyangwang0410/AMBER}; methods spec 4.5): its data folder as published,
 *
 * <pre>
 * data/annotations.json        [{"id": 1, "type": "generative", "truth": ["sky", ...], "hallu": ["cloud", ...]},
 *                               {"id": 1005, "type": "discriminative-attribute-state", "truth": "yes"}, ...]
 * data/relation.json           {"grass": ["ground"], "person": ["people", "man", ...], ...}   (word associations)
 * data/safe_words.txt          one word a line: nouns never counted as hallucinated
 * data/query/query_all.json    [{"id": 1, "image": "AMBER_1.jpg", "query": "Describe this image."}, ...]
 *            query_generative.json, query_discriminative.json, query_discriminative-existence.json,
 *            query_discriminative-attribute.json, query_discriminative-relation.json (subsets)
 * </pre>
 *
 * <p>Annotation types: {@code generative} (the image's objects, {@code truth}, and the objects a
 * description is likely to hallucinate, {@code hallu}); {@code discriminative-hallucination} (existence),
 * {@code discriminative-attribute-state}, {@code -number}, {@code -action}, and {@code
 * discriminative-relation} or {@code relation} (the published file writes the relation questions whose
 * answer is no with the second name), each with {@code truth} {@code yes} or {@code no}.
 *
 * <p>Checked here, before any model work, each problem an {@link EvalDataException} naming the file and
 * entry ({@code query_all.json, [3] (line 14, column 5), field "image": no such file: ...}): every query
 * has an id, an image that exists and a query text; every query id has one annotation; types and yes/no
 * truths are known ones; every generative truth and hallu word is a key of relation.json (the reference
 * looks each one up there and fails otherwise); no id repeats.
 */
public final class AmberDataset {
  private static final com.fasterxml.jackson.databind.ObjectMapper STREAM =
      com.fasterxml.jackson.databind.json.JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  /** What a query asks, from its annotation's type. */
  public enum Kind {
    GENERATIVE("generative", "generative"),
    EXISTENCE("existence", "discriminative-hallucination"),
    ATTRIBUTE_STATE("attribute-state", "discriminative-attribute-state"),
    ATTRIBUTE_NUMBER("attribute-number", "discriminative-attribute-number"),
    ATTRIBUTE_ACTION("attribute-action", "discriminative-attribute-action"),
    RELATION("relation", "discriminative-relation");

    /** The split name in results files. */
    public final String split;
    /** The annotation type. */
    public final String type;

    Kind(String split, String type) {
      this.split = split;
      this.type = type;
    }

    static Kind ofType(String type) {
      if (type.equals("relation")) {
        return RELATION;
      }
      for (Kind k : values()) {
        if (k.type.equals(type)) {
          return k;
        }
      }
      return null;
    }

    /** By split name (results files). */
    public static Kind ofSplit(String split) {
      for (Kind k : values()) {
        if (k.split.equals(split)) {
          return k;
        }
      }
      return null;
    }

    public boolean generative() {
      return this == GENERATIVE;
    }

    public boolean attribute() {
      return this == ATTRIBUTE_STATE || this == ATTRIBUTE_NUMBER || this == ATTRIBUTE_ACTION;
    }
  }

  /**
   * One query with its annotation.
   *
   * @param truth generative: the image's objects (repeats kept, as the file has them); else empty
   * @param hallu generative: the hallucination-prone objects; else empty
   * @param label discriminative: the answer; null for generative queries
   */
  public record Item(int id, String image, Path imagePath, String query, Kind kind, List<String> truth, List<String> hallu, YesNo label) {
    public Item {
      truth = List.copyOf(truth);
      hallu = List.copyOf(hallu);
    }

    /** The id as results files key it. */
    public String key() {
      return Integer.toString(id);
    }
  }

  /** The query files of the published data, by AMBER's evaluation types (a, g, d, de, da, dr). */
  public enum Queries {
    ALL("all", "query_all.json"),
    GENERATIVE("generative", "query_generative.json"),
    DISCRIMINATIVE("discriminative", "query_discriminative.json"),
    EXISTENCE("existence", "query_discriminative-existence.json"),
    ATTRIBUTE("attribute", "query_discriminative-attribute.json"),
    RELATION("relation", "query_discriminative-relation.json");

    public final String cliName;
    public final String file;

    Queries(String cliName, String file) {
      this.cliName = cliName;
      this.file = file;
    }

    public static Queries named(String name) {
      for (Queries q : values()) {
        if (q.cliName.equalsIgnoreCase(name)) {
          return q;
        }
      }
      throw new IllegalArgumentException("unknown query set \"" + name + "\"; known: all, generative, discriminative, existence, attribute, relation");
    }
  }

  private final List<Item> items;
  private final Map<String, List<String>> association;
  private final Set<String> safeWords;

  private AmberDataset(List<Item> items, Map<String, List<String>> association, Set<String> safeWords) {
    this.items = List.copyOf(items);
    this.association = association;
    this.safeWords = safeWords;
  }

  /** The queries, in the query file's order. */
  public List<Item> items() {
    return items;
  }

  /**
   * The queries as evaluation items: split = the kind's name ({@code generative}, {@code existence},
   * {@code attribute-state}...), id = the AMBER id, prompt = the query as the file has it (AvisC asks
   * AMBER's queries raw, spec 2.7), label = the yes/no truth of a discriminative query.
   */
  public List<AnswerEvaluation.Item> evaluationItems() {
    List<AnswerEvaluation.Item> out = new ArrayList<>();
    for (Item i : items) {
      out.add(new AnswerEvaluation.Item(i.kind().split, i.key(), i.image(), i.imagePath(), i.query(), i.label()));
    }
    return out;
  }

  /**
   * AMBER's scores of a run's records ({@link AmberScores}): descriptions scored against their image's
   * annotation, yes/no answers as recorded.
   *
   * @throws IllegalArgumentException when a record is not one of this data set's queries
   */
  public AmberScores.Summary score(List<EvalRecord> records) {
    Map<Integer, Item> byId = new HashMap<>();
    for (Item i : items) {
      byId.put(i.id(), i);
    }
    List<AmberScores.Generative> generative = new ArrayList<>();
    List<AmberScores.Answer> answers = new ArrayList<>();
    for (EvalRecord r : records) {
      Item item;
      try {
        item = byId.get(Integer.parseInt(r.id()));
      } catch (NumberFormatException e) {
        item = null;
      }
      if (item == null || !item.kind().split.equals(r.split())) {
        throw new IllegalArgumentException("record " + r.id() + " of " + r.split() + " is not a query of this AMBER data set");
      }
      if (item.kind().generative()) {
        generative.add(AmberScores.score(r.answer(), item.truth(), item.hallu(), association, safeWords));
      } else {
        answers.add(new AmberScores.Answer(item.kind(), r.parsed(), r.label()));
      }
    }
    return AmberScores.summary(generative, answers);
  }

  /** relation.json: each word's associated words, in file order. */
  public Map<String, List<String>> association() {
    return association;
  }

  /** safe_words.txt. */
  public Set<String> safeWords() {
    return safeWords;
  }

  /**
   * Reads the data folder (see the class comment) with the query file of {@code queries}, checking the
   * images against {@code imagesDir}.
   */
  public static AmberDataset read(Path dataDir, Queries queries, Path imagesDir) throws IOException {
    return read(dataDir.resolve("query").resolve(queries.file), dataDir.resolve("annotations.json"), dataDir.resolve("relation.json"),
        dataDir.resolve("safe_words.txt"), imagesDir);
  }

  /** As {@link #read(Path, Queries, Path)} with each file named. */
  public static AmberDataset read(Path queryFile, Path annotationsFile, Path relationFile, Path safeWordsFile, Path imagesDir) throws IOException {
    for (Path p : List.of(queryFile, annotationsFile, relationFile, safeWordsFile)) {
      if (!Files.isRegularFile(p)) {
        throw new EvalDataException(p.toString(), null, null, Files.exists(p) ? "not a regular file" : "no such file (AMBER's data folder has "
            + "annotations.json, relation.json, safe_words.txt and query/query_*.json)");
      }
    }
    Map<String, List<String>> association = readAssociation(relationFile);
    Set<String> safe = new LinkedHashSet<>();
    for (String line : Files.readString(safeWordsFile, StandardCharsets.UTF_8).split("\n", -1)) {
      String w = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
      if (!w.isEmpty()) {
        safe.add(w);
      }
    }
    Map<Integer, Annotation> annotations = readAnnotations(annotationsFile, association);
    List<Item> items = new ArrayList<>();
    Map<Integer, String> seen = new HashMap<>();
    String file = queryFile.toString();
    forEachEntry(queryFile, (at, node) -> {
      int id = intField(node, "id", file, at);
      String image = textField(node, "image", file, at);
      String query = textField(node, "query", file, at);
      String first = seen.putIfAbsent(id, at);
      if (first != null) {
        throw new EvalDataException(file, at, "id", "duplicate id " + id + ", first at " + first);
      }
      Annotation a = annotations.get(id);
      if (a == null) {
        throw new EvalDataException(file, at, "id", "id " + id + " has no entry in " + annotationsFile);
      }
      if (image.indexOf('\0') >= 0 || image.length() > JsonlFile.MAX_FILE_NAME) {
        throw new EvalDataException(file, at, "image", "\"" + ErrorList.abbreviate(image, 60).replace('\0', '?') + "\" is not a file name");
      }
      Path path = imagesDir.resolve(image);
      if (!Files.isRegularFile(path)) {
        throw new EvalDataException(file, at, "image", (Files.exists(path) ? "not a regular file: " : "no such file: ")
            + ErrorList.abbreviate(path.toString(), 300));
      }
      items.add(new Item(id, image, path, query, a.kind, a.truth, a.hallu, a.label));
    });
    return new AmberDataset(items, association, Collections.unmodifiableSet(safe));
  }

  private record Annotation(Kind kind, List<String> truth, List<String> hallu, YesNo label) {}

  private static Map<Integer, Annotation> readAnnotations(Path annotationsFile, Map<String, List<String>> association) throws IOException {
    String file = annotationsFile.toString();
    Map<Integer, Annotation> out = new HashMap<>();
    Map<Integer, String> where = new HashMap<>();
    forEachEntry(annotationsFile, (at, node) -> {
      int id = intField(node, "id", file, at);
      String type = textField(node, "type", file, at);
      Kind kind = Kind.ofType(type);
      if (kind == null) {
        throw new EvalDataException(file, at, "type", "unknown type \"" + ErrorList.abbreviate(type, 60) + "\"; known: generative, "
            + "discriminative-hallucination, discriminative-attribute-state, -number, -action, discriminative-relation, relation");
      }
      String first = where.putIfAbsent(id, at);
      if (first != null) {
        throw new EvalDataException(file, at, "id", "duplicate id " + id + ", first at " + first);
      }
      JsonNode truth = node.get("truth");
      if (kind.generative()) {
        List<String> t = words(node, "truth", file, at, association);
        List<String> h = words(node, "hallu", file, at, association);
        out.put(id, new Annotation(kind, t, h, null));
      } else {
        if (truth == null || truth.isNull()) {
          throw new EvalDataException(file, at, "truth", "missing");
        }
        if (!truth.isTextual()) {
          throw new EvalDataException(file, at, "truth", "must be the string yes or no, found " + JsonlFile.kind(truth));
        }
        YesNo label;
        try {
          label = YesNo.parseLabel(truth.asText());
        } catch (IllegalArgumentException e) {
          throw new EvalDataException(file, at, "truth", e.getMessage());
        }
        out.put(id, new Annotation(kind, List.of(), List.of(), label));
      }
    });
    return out;
  }

  private static List<String> words(JsonNode node, String field, String file, String at, Map<String, List<String>> association) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new EvalDataException(file, at, field, "missing (a generative entry lists its objects)");
    }
    if (!v.isArray()) {
      throw new EvalDataException(file, at, field, "must be a list of words, found " + JsonlFile.kind(v));
    }
    List<String> out = new ArrayList<>();
    for (JsonNode w : v) {
      if (!w.isTextual()) {
        throw new EvalDataException(file, at, field, "must be a list of words, found " + JsonlFile.kind(w) + " in it");
      }
      if (!association.containsKey(w.asText())) {
        throw new EvalDataException(file, at, field, "\"" + ErrorList.abbreviate(w.asText(), 60) + "\" is not a word of relation.json");
      }
      out.add(w.asText());
    }
    return out;
  }

  private static Map<String, List<String>> readAssociation(Path relationFile) throws IOException {
    String file = relationFile.toString();
    JsonNode root;
    try {
      root = JsonlFile.JSON.readTree(relationFile.toFile());
    } catch (JsonProcessingException e) {
      throw new EvalDataException(file, where(e.getLocation()), null, "bad JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new EvalDataException(file, null, null, "must be a JSON object of word: [associated words]");
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (!e.getValue().isArray()) {
        throw new EvalDataException(file, null, e.getKey(), "must be a list of words, found " + JsonlFile.kind(e.getValue()));
      }
      List<String> words = new ArrayList<>();
      for (JsonNode w : e.getValue()) {
        if (!w.isTextual()) {
          throw new EvalDataException(file, null, e.getKey(), "must be a list of words, found " + JsonlFile.kind(w) + " in it");
        }
        words.add(w.asText());
      }
      out.put(e.getKey(), List.copyOf(words));
    }
    return Collections.unmodifiableMap(out);
  }

  @FunctionalInterface
  private interface EntryHandler {
    void accept(String at, JsonNode node);
  }

  /** Streams a JSON list of objects; {@code at} is {@code [i] (line L, column C)}. */
  private static void forEachEntry(Path json, EntryHandler handler) throws IOException {
    String file = json.toString();
    try (JsonParser p = STREAM.createParser(json.toFile())) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw new EvalDataException(file, where(p.currentTokenLocation()), null, "expected a JSON list (AMBER's layout)");
      }
      for (int i = 0; p.nextToken() != JsonToken.END_ARRAY; i++) {
        String at = "[" + i + "] (" + where(p.currentTokenLocation()) + ")";
        if (p.currentToken() != JsonToken.START_OBJECT) {
          throw new EvalDataException(file, at, null, "must be a JSON object");
        }
        handler.accept(at, p.readValueAsTree());
      }
    } catch (JsonProcessingException e) {
      throw new EvalDataException(file, where(e.getLocation()), null, "bad JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static int intField(JsonNode node, String field, String file, String at) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new EvalDataException(file, at, field, "missing");
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
      throw new EvalDataException(file, at, field, "must be an integer >= 1, found " + ErrorList.abbreviate(v.toString(), 40));
    }
    return v.asInt();
  }

  private static String textField(JsonNode node, String field, String file, String at) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new EvalDataException(file, at, field, "missing");
    }
    if (!v.isTextual()) {
      throw new EvalDataException(file, at, field, "must be a string, found " + JsonlFile.kind(v));
    }
    if (v.asText().isBlank()) {
      throw new EvalDataException(file, at, field, "is empty");
    }
    return v.asText();
  }
}
