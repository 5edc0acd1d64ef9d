package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The evaluation loop of benchmarks that mix free answers and yes/no questions (CHAIR captioning, AMBER),
 * independent of any model and decoding method: for each item (up to a limit) either take its record
 * from the {@link EvalJournal} (a resumed run) or ask the {@link ImageAnswerer} with the item's prompt,
 * parse the answer with the run's {@link YesNoParser} when the item has a yes/no label, and append the
 * record to the journal before going on. Free answers are recorded with no parsed answer and no label.
 * What {@link YesNoEvaluation} says about stripping, limits, resumed records, repeated items and
 * failures holds here too.
 */
public final class AnswerEvaluation {
  /**
   * One question about one image.
   *
   * @param split the group it belongs to in results files ({@code chair}, {@code generative}, {@code existence}...)
   * @param id unique within its split
   * @param image the image as the data names it (recorded)
   * @param imagePath the image file, checked to exist when the data was read
   * @param prompt the text the model is asked, as recorded
   * @param label the yes/no truth; null for a free answer (a description)
   */
  public record Item(String split, String id, String image, Path imagePath, String prompt, YesNo label) {
    public Item {
      Objects.requireNonNull(split, "split");
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(image, "image");
      Objects.requireNonNull(imagePath, "imagePath");
      Objects.requireNonNull(prompt, "prompt");
      if (label == YesNo.OTHER) {
        throw new IllegalArgumentException(split + " " + id + ": a label is yes or no, not other");
      }
    }
  }

  /** Where the loop stands, after one more item. */
  public record Progress(long done, long total, long answered, long resumed, Item item, EvalRecord record, boolean fromJournal) {}

  @FunctionalInterface
  public interface ProgressListener {
    void onItem(Progress progress);
  }

  /** What a run gives: one record per item handled, in item order. */
  public record Outcome(List<EvalRecord> records, long answered, long resumed) {
    public Outcome {
      records = List.copyOf(records);
    }
  }

  private final ImageAnswerer answerer;
  private final EvalJournal journal;
  private final String method;
  private final YesNoParser parser;
  private final long seed;
  private long limit = Long.MAX_VALUE;
  private ProgressListener listener = p -> {};

  /**
   * @param parser reads the answers of items with a label; may be null when no item has one
   */
  public AnswerEvaluation(ImageAnswerer answerer, EvalJournal journal, String method, YesNoParser parser, long seed) {
    this.answerer = Objects.requireNonNull(answerer, "answerer");
    this.journal = Objects.requireNonNull(journal, "journal");
    this.method = Objects.requireNonNull(method, "method");
    this.parser = parser;
    this.seed = seed;
  }

  /** Handles only the first {@code n} items (n >= 0); all by default. */
  public AnswerEvaluation limit(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + n);
    }
    this.limit = n;
    return this;
  }

  public AnswerEvaluation listener(ProgressListener l) {
    this.listener = Objects.requireNonNull(l, "listener");
    return this;
  }

  /**
   * Runs the loop over {@code items}.
   *
   * @throws EvaluationException when the answerer fails, an item repeats or a resumed record disagrees with its item
   * @throws IOException when the journal cannot be written
   */
  public Outcome run(List<Item> items) throws IOException {
    long total = Math.min(items.size(), limit);
    List<EvalRecord> records = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    long answered = 0;
    long resumed = 0;
    for (Item item : items) {
      if (answered + resumed >= limit) {
        break;
      }
      if (!seen.add(item.split().length() + ":" + item.split() + item.id())) {
        throw new EvaluationException(item.id(), "item " + item.id() + " of " + item.split() + " occurs twice; ids must be unique in a split");
      }
      if (item.label() != null && parser == null) {
        throw new IllegalStateException("item " + item.id() + " of " + item.split() + " has a yes/no label and the run has no parser");
      }
      EvalRecord record = journal.entry(item.split(), item.id()).orElse(null);
      boolean fromJournal = record != null;
      if (fromJournal) {
        check(record, item);
        resumed++;
      } else {
        record = answerAndRecord(item);
        answered++;
      }
      records.add(record);
      listener.onItem(new Progress(answered + resumed, total, answered, resumed, item, record, fromJournal));
    }
    return new Outcome(records, answered, resumed);
  }

  private EvalRecord answerAndRecord(Item item) throws IOException {
    ImageAnswerer.Answer answer;
    try {
      answer = answerer.answer(item.imagePath(), item.prompt(), seed);
    } catch (Exception e) {
      throw new EvaluationException(item.id(), "item " + item.id() + " of " + item.split() + " (image " + item.image() + "): " + e.getMessage(), e);
    }
    if (answer == null) {
      throw new EvaluationException(item.id(), "item " + item.id() + " of " + item.split() + ": the answerer returned no answer");
    }
    String stripped = answer.text().strip();
    EvalRecord record;
    try {
      ObjectNode extra = JsonlFile.JSON.valueToTree(answer.extra());
      YesNo parsed = item.label() == null ? null : parser.parse(stripped, item.label());
      record = new EvalRecord(item.id(), item.split(), item.image(), item.prompt(), stripped, parsed, item.label(), method, seed, answer.timingsMs(),
          extra);
    } catch (IllegalArgumentException e) {
      throw new EvaluationException(item.id(), "item " + item.id() + " of " + item.split() + ": the answer cannot be recorded: " + e.getMessage(), e);
    }
    journal.append(record);
    return record;
  }

  /** A resumed record must be the one this run would write for the item, up to the answer. */
  private void check(EvalRecord r, Item item) {
    String differs = r.label() != item.label() ? "label " + label(r.label()) + " there, " + label(item.label()) + " here"
        : !r.prompt().equals(item.prompt()) ? "prompt \"" + r.prompt() + "\" there, \"" + item.prompt() + "\" here"
        : !r.image().equals(item.image()) ? "image " + r.image() + " there, " + item.image() + " here"
        : !r.method().equals(method) ? "method " + r.method() + " there, " + method + " here"
        : r.seed() != seed ? "seed " + r.seed() + " there, " + seed + " here"
        : item.label() != null && r.parsed() == null ? "no parsed answer there"
        : null;
    if (differs != null) {
      throw new EvaluationException(item.id(), journal.file() + ": the record of item " + item.id() + " of " + item.split()
          + " does not match the data (" + differs + "); the data changed since it was written: use another results file");
    }
  }

  private static String label(YesNo l) {
    return l == null ? "none" : l.label();
  }
}
