package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The VQA evaluation loop, independent of any model: for each item (up to a limit) either take its
 * result from the {@link ResultsJournal} (a resumed run) or ask the {@link Answerer}, score the answer
 * with {@link VqaAccuracy}, and append it to the journal before going on; then report the mean accuracy
 * overall and per {@link SizeSplit}.
 *
 * <pre>{@code
 * try (ResultsJournal journal = ResultsJournal.open(out, ResultsJournal.Run.of("rel-att", "llava-1.5-7b"))) {
 *   VqaEvaluation.Summary s = new VqaEvaluation(item -> Answer.of(model.ask(item)), journal)
 *       .limit(500).listener(p -> bar.step(p)).run(items);
 *   System.out.print(s.toTable());
 * }
 * }</pre>
 *
 * <p>The limit counts items from the start of the list, resumed ones included, so rerunning the same
 * command after a kill finishes the same first N questions. A resumed item counts with the accuracy
 * stored in the journal; its split is recomputed from the item (so it follows the thresholds of this
 * run). Journal records of questions outside the evaluated items are not counted. A question id that
 * occurs twice among the items is an error. When the answerer throws, the loop stops with a {@link
 * EvaluationException} naming the question; everything answered before it is already in the
 * journal.
 */
public final class VqaEvaluation {
  /** Answers one question; typically runs a model on the item's image and question. */
  @FunctionalInterface
  public interface Answerer {
    Answer answer(VqaItem item) throws Exception;
  }

  /**
   * A model's answer.
   *
   * @param prediction the raw answer text (scored after normalization)
   * @param extra further fields for the journal record (a box, timings...), anything Jackson can write
   *     as JSON; not one of {@code question_id}, {@code prediction}, {@code accuracy}, {@code split}
   */
  public record Answer(String prediction, Map<String, ?> extra) {
    public Answer {
      Objects.requireNonNull(prediction, "prediction");
      extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    public static Answer of(String prediction) {
      return new Answer(prediction, Map.of());
    }
  }

  /**
   * Where the loop stands, after one more item.
   *
   * @param done items handled so far (answered + resumed)
   * @param total items this run will handle, or -1 when unknown
   * @param answered items answered by the answerer
   * @param resumed items taken from the journal
   * @param accuracyPercent running mean accuracy over the items handled, in percent
   * @param item the item just handled
   * @param entry its journal record
   * @param fromJournal whether that record came from the journal (not the answerer)
   */
  public record Progress(long done, long total, long answered, long resumed, double accuracyPercent, VqaItem item,
      ResultsJournal.Entry entry, boolean fromJournal) {}

  /** Receives a {@link Progress} after each item. */
  @FunctionalInterface
  public interface ProgressListener {
    void onItem(Progress progress);
  }

  private final Answerer answerer;
  private final ResultsJournal journal;
  private long limit = Long.MAX_VALUE;
  private long total = -1;
  private SizeSplit.Thresholds thresholds = SizeSplit.Thresholds.VICROP;
  private ProgressListener listener = p -> {};

  public VqaEvaluation(Answerer answerer, ResultsJournal journal) {
    this.answerer = Objects.requireNonNull(answerer, "answerer");
    this.journal = Objects.requireNonNull(journal, "journal");
  }

  /** Handles only the first {@code n} items (n >= 0); all by default. */
  public VqaEvaluation limit(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + n);
    }
    this.limit = n;
    return this;
  }

  /**
   * The number of items, for progress reports, when the items are not a {@link Collection} (whose size
   * is used otherwise); the limit still applies.
   */
  public VqaEvaluation total(long n) {
    this.total = n;
    return this;
  }

  /** The size-split thresholds; {@link SizeSplit.Thresholds#VICROP} by default. */
  public VqaEvaluation thresholds(SizeSplit.Thresholds t) {
    this.thresholds = Objects.requireNonNull(t, "thresholds");
    return this;
  }

  public VqaEvaluation listener(ProgressListener l) {
    this.listener = Objects.requireNonNull(l, "listener");
    return this;
  }

  /**
   * Runs the loop over {@code items} (see the class comment).
   *
   * @throws EvaluationException when the answerer fails, its extra fields cannot be written, or a
   *     question id repeats
   * @throws IOException when the journal cannot be written
   */
  public Summary run(Iterable<VqaItem> items) throws IOException {
    long known = items instanceof Collection<?> c ? c.size() : total;
    long expected = known < 0 ? -1 : Math.min(known, limit);
    VqaAccuracy.Tally tally = new VqaAccuracy.Tally();
    VqaAccuracy.Tally hits = new VqaAccuracy.Tally(); // 1 where the crop holds the answer box's centre
    java.util.TreeMap<String, double[]> byType = new java.util.TreeMap<>();
    Set<String> seen = new HashSet<>();
    long answered = 0;
    long resumed = 0;
    for (VqaItem item : items) {
      if (answered + resumed >= limit) {
        break;
      }
      if (!seen.add(item.questionId())) {
        throw new EvaluationException(item.questionId(), "question " + item.questionId()
            + " occurs twice in the items; question ids must be unique");
      }
      SizeSplit split = thresholds.classify(item);
      ResultsJournal.Entry entry = journal.entry(item.questionId()).orElse(null);
      boolean fromJournal = entry != null;
      if (fromJournal) {
        resumed++;
      } else {
        entry = answerAndRecord(item, split);
        answered++;
      }
      tally.add(split, entry.accuracy());
      Boolean hit = cropHolds(item, entry.extra());
      if (hit != null) {
        hits.add(split, hit ? 1 : 0);
      }
      if (item.type().isPresent()) {
        double[] t = byType.computeIfAbsent(item.type().get(), k -> new double[2]);
        t[0]++;
        t[1] += entry.accuracy();
      }
      listener.onItem(new Progress(answered + resumed, expected, answered, resumed, tally.accuracyPercent(), item,
          entry, fromJournal));
    }
    return Summary.of(tally, byType, hits, answered, resumed);
  }

  /**
   * Whether the crop of a record ({@code box} in its extra fields: [x1, y1, x2, y2] in image pixels,
   * as ViCrop's methods and the oracle and random controls record it) holds the centre of the item's
   * ground-truth answer box: whether the map that chose the crop pointed at the answer. Null when
   * the record has no crop box or the item no answer box.
   */
  static Boolean cropHolds(VqaItem item, ObjectNode extra) {
    if (item.bbox().isEmpty() || extra == null) {
      return null;
    }
    JsonNode b = extra.get("box");
    if (b == null || !b.isArray() || b.size() != 4) {
      return null;
    }
    for (JsonNode v : b) {
      if (!v.isNumber()) {
        return null;
      }
    }
    BoundingBox a = item.bbox().get();
    double cx = (a.x1() + a.x2()) / 2, cy = (a.y1() + a.y2()) / 2;
    return cx >= b.get(0).asDouble() && cx < b.get(2).asDouble() && cy >= b.get(1).asDouble() && cy < b.get(3).asDouble();
  }

  /** {@link #run(Iterable)} over a stream (consumed once; its size is unknown unless {@link #total} says). */
  public Summary run(Stream<VqaItem> items) throws IOException {
    return run((Iterable<VqaItem>) items::iterator);
  }

  private ResultsJournal.Entry answerAndRecord(VqaItem item, SizeSplit split) throws IOException {
    Answer answer;
    try {
      answer = answerer.answer(item);
    } catch (Exception e) {
      throw new EvaluationException(item.questionId(), "question " + item.questionId() + " (image " + item.image()
          + "): " + e.getMessage(), e);
    }
    if (answer == null) {
      throw new EvaluationException(item.questionId(), "question " + item.questionId() + ": the answerer returned no answer");
    }
    ObjectNode extra;
    try {
      extra = VqaDataset.JSON.valueToTree(answer.extra());
    } catch (IllegalArgumentException e) {
      throw new EvaluationException(item.questionId(), "question " + item.questionId()
          + ": the answer's extra fields cannot be written as JSON: " + e.getMessage(), e);
    }
    double accuracy = VqaAccuracy.score(answer.prediction(), item.answers());
    ResultsJournal.Entry entry;
    try {
      entry = new ResultsJournal.Entry(item.questionId(), answer.prediction(), accuracy, split, extra);
    } catch (IllegalArgumentException e) {
      throw new EvaluationException(item.questionId(), e.getMessage(), e);
    }
    journal.append(entry);
    return entry;
  }

  /**
   * One line of a summary.
   *
   * @param name {@code all} or a split's {@link SizeSplit#label()}
   * @param accuracyPercent mean accuracy in percent; NaN when {@code count} is 0
   */
  public record Row(String name, long count, double accuracyPercent) {}

  /**
   * The outcome of a run: mean accuracy over all items and per split (small, medium, large, unsplit,
   * always all four, in that order).
   *
   * @param answered items answered in this run
   * @param resumed items taken from the journal
   * @param types accuracy per question type, by type name, for datasets whose items name one (else empty)
   * @param cropHits per split that has any, then {@code all}: of the questions with both a recorded
   *     crop box and an answer box, the percentage whose crop holds the answer box's centre ({@link
   *     VqaEvaluation#cropHolds}); empty when no question has both
   */
  public record Summary(long answered, long resumed, Row all, List<Row> splits, List<Row> types, List<Row> cropHits) {
    public Summary {
      splits = List.copyOf(splits);
      types = List.copyOf(types);
      cropHits = List.copyOf(cropHits);
    }

    public Summary(long answered, long resumed, Row all, List<Row> splits, List<Row> types) {
      this(answered, resumed, all, splits, types, List.of());
    }

    public Summary(long answered, long resumed, Row all, List<Row> splits) {
      this(answered, resumed, all, splits, List.of());
    }

    static Summary of(VqaAccuracy.Tally tally, Map<String, double[]> byType, VqaAccuracy.Tally hits, long answered, long resumed) {
      List<Row> rows = new ArrayList<>();
      for (SizeSplit s : SizeSplit.values()) {
        rows.add(new Row(s.label(), tally.count(s), tally.accuracyPercent(s)));
      }
      List<Row> types = new ArrayList<>();
      byType.forEach((name, t) -> types.add(new Row(name, (long) t[0], 100 * t[1] / t[0])));
      List<Row> cropHits = new ArrayList<>();
      if (hits.count() > 0) {
        for (SizeSplit s : SizeSplit.values()) {
          if (hits.count(s) > 0) {
            cropHits.add(new Row(s.label(), hits.count(s), hits.accuracyPercent(s)));
          }
        }
        cropHits.add(new Row("all", hits.count(), hits.accuracyPercent()));
      }
      return new Summary(answered, resumed, new Row("all", tally.count(), tally.accuracyPercent()), rows, types, cropHits);
    }

    /** The row of one split. */
    public Row split(SizeSplit s) {
      return splits.get(s.ordinal());
    }

    /**
     * An aligned text table, accuracy with two decimals and "-" for an empty split:
     *
     * <pre>
     * split    count  accuracy
     * small        2     45.00
     * ...
     * all          7     70.00
     * </pre>
     *
     * With question types, their rows follow under a {@code type} header; with crop boxes and
     * answer boxes ({@link #cropHits}), the share of questions whose crop holds the answer box's
     * centre follows under a {@code crop hits} header, per split.
     */
    public String toTable() {
      List<Row> rows = new ArrayList<>(splits);
      rows.add(all);
      rows.addAll(types);
      rows.addAll(cropHits);
      int nameWidth = cropHits.isEmpty() ? "split".length() : "crop hits".length();
      int countWidth = "count".length();
      for (Row r : rows) {
        nameWidth = Math.max(nameWidth, r.name().length());
        countWidth = Math.max(countWidth, Long.toString(r.count()).length());
      }
      String format = "%-" + nameWidth + "s  %" + countWidth + "s  %8s\n";
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, format, "split", "count", "accuracy"));
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        if (i == splits.size() + 1 && !types.isEmpty()) {
          sb.append(String.format(Locale.ROOT, format, "type", "count", "accuracy"));
        }
        if (i == splits.size() + 1 + types.size()) {
          sb.append(String.format(Locale.ROOT, format, "crop hits", "count", "percent"));
        }
        String acc = Double.isNaN(r.accuracyPercent()) ? "-" : String.format(Locale.ROOT, "%.2f", r.accuracyPercent());
        sb.append(String.format(Locale.ROOT, format, r.name(), r.count(), acc));
      }
      return sb.toString();
    }

    /**
     * As JSON: {@code {"answered":5,"resumed":2,"all":{"count":7,"accuracy":70.0},"splits":{"small":
     * {"count":2,"accuracy":45.0},...}}}, accuracy in percent, null for an empty split.
     */
    public ObjectNode toJson() {
      ObjectNode o = VqaDataset.JSON.createObjectNode();
      o.put("answered", answered);
      o.put("resumed", resumed);
      o.set("all", rowJson(all));
      ObjectNode s = o.putObject("splits");
      for (Row r : splits) {
        s.set(r.name(), rowJson(r));
      }
      if (!types.isEmpty()) {
        ObjectNode t = o.putObject("types");
        for (Row r : types) {
          t.set(r.name(), rowJson(r));
        }
      }
      if (!cropHits.isEmpty()) {
        ObjectNode h = o.putObject("crop_hits");
        for (Row r : cropHits) {
          ObjectNode row = h.putObject(r.name());
          row.put("count", r.count());
          row.put("percent", r.accuracyPercent());
        }
      }
      return o;
    }

    /** {@link #toJson()} as a string. */
    public String toJsonString() {
      return toJson().toString();
    }

    private static ObjectNode rowJson(Row r) {
      ObjectNode o = VqaDataset.JSON.createObjectNode();
      o.put("count", r.count());
      if (Double.isNaN(r.accuracyPercent())) {
        o.putNull("accuracy");
      } else {
        o.put("accuracy", r.accuracyPercent());
      }
      return o;
    }
  }
}
