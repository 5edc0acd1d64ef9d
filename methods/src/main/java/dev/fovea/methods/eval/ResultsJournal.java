package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.ErrorList;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The {@link Journal} of a VQA evaluation ({@link VqaEvaluation}). One JSON object per line:
 *
 * <pre>{@code
 * {"fovea_vqa_results":1,"method":"rel-att","model":"llava-1.5-7b","settings":{"layer":"14"},"created":"..."}
 * {"question_id":"34602","prediction":"nokia","accuracy":1.0,"split":"small","seconds":2.1,"box":[...]}
 * {"question_id":"34603",...}
 * }</pre>
 *
 * <p><b>Records</b> carry {@code question_id} (the key), the raw {@code prediction}, its {@code accuracy}
 * in [0, 1] and its size {@code split}; any other fields (a chosen box, timings) are kept as {@link
 * Entry#extra()}. Header, durability, repair and locking are {@link Journal}'s.
 */
public final class ResultsJournal extends Journal<ResultsJournal.Entry> {
  /** The header key that marks a VQA results journal; its value is the format version. */
  public static final String MAGIC = "fovea_vqa_results";

  private static final Set<String> RESERVED = Set.of(MAGIC, "question_id", "prediction", "accuracy", "split");

  /**
   * One question's result.
   *
   * @param extra further fields of the record (never one of {@code question_id}, {@code prediction},
   *     {@code accuracy}, {@code split}); a copy is kept
   */
  public record Entry(String questionId, String prediction, double accuracy, SizeSplit split, ObjectNode extra) {
    public Entry {
      Objects.requireNonNull(questionId, "questionId");
      Objects.requireNonNull(prediction, "prediction");
      Objects.requireNonNull(split, "split");
      if (!(accuracy >= 0 && accuracy <= 1)) {
        throw new IllegalArgumentException("question " + questionId + ": accuracy " + accuracy + " is not in [0, 1]");
      }
      extra = extra == null ? JsonlFile.JSON.createObjectNode() : extra.deepCopy();
      for (Map.Entry<String, JsonNode> field : extra.properties()) {
        String name = field.getKey();
        if (RESERVED.contains(name)) {
          throw new IllegalArgumentException("question " + questionId + ": extra field \"" + name + "\" is reserved");
        }
      }
    }

    /** A copy of the extra fields. */
    @Override
    public ObjectNode extra() {
      return extra.deepCopy();
    }
  }

  private static final Codec<Entry> CODEC = new Codec<>() {
    @Override
    public String magic() {
      return MAGIC;
    }

    @Override
    public String key(Entry e) {
      return e.questionId();
    }

    @Override
    public String describe(Entry e) {
      return "question " + e.questionId();
    }

    @Override
    public ObjectNode write(Entry e) {
      ObjectNode o = JsonlFile.JSON.createObjectNode();
      o.put("question_id", e.questionId());
      o.put("prediction", e.prediction());
      o.put("accuracy", e.accuracy());
      o.put("split", e.split().label());
      o.setAll(e.extra);
      return o;
    }

    @Override
    public Entry read(ObjectNode node, String at) {
      String id = text(node, "question_id", at);
      String prediction = text(node, "prediction", at);
      JsonNode accuracy = node.get("accuracy");
      if (accuracy == null || !accuracy.isNumber() || !(accuracy.asDouble() >= 0 && accuracy.asDouble() <= 1)) {
        throw new ResultsJournalException(at + ", field \"accuracy\": " + (accuracy == null ? "missing" : "must be a number in [0, 1]"));
      }
      JsonNode split = node.get("split");
      SizeSplit s;
      try {
        s = SizeSplit.parse(split == null || !split.isTextual() ? String.valueOf(split) : split.asText());
      } catch (IllegalArgumentException e) {
        throw new ResultsJournalException(at + ", field \"split\": " + (split == null ? "missing" : ErrorList.abbreviate(e.getMessage(), 200)));
      }
      ObjectNode extra = node.deepCopy();
      extra.remove(RESERVED);
      return new Entry(id, prediction, accuracy.asDouble(), s, extra);
    }
  };

  private ResultsJournal(Opened<Entry> opened) {
    super(opened);
  }

  /**
   * Opens {@code file} for {@code run}: creates it (and its folder) with a header when it is absent or
   * empty, otherwise reads its records, repairs an interrupted last line and checks that its header
   * names the same run (see {@link Journal}).
   *
   * @throws ResultsJournalException when the file was written by another run, is not a VQA results
   *     journal, has garbage before its last line, or is locked by another process
   */
  public static ResultsJournal open(Path file, Run run) throws IOException {
    return new ResultsJournal(openFile(file, run, CODEC));
  }

  /** Whether the question has a record. */
  public boolean isDone(String questionId) {
    return byKey(questionId).isPresent();
  }

  /** The question's record, if it has one. */
  public Optional<Entry> entry(String questionId) {
    return byKey(questionId);
  }
}
