package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The evaluation loop of yes/no benchmarks (POPE, MME), independent of any model and decoding method:
 * for each item (up to a limit) either take its record from the {@link EvalJournal} (a resumed run) or
 * ask the {@link ImageAnswerer} with the question in the run's {@link PromptVariant}, parse the answer
 * with the run's {@link YesNoParser}, and append the record to the journal before going on. Scores
 * come from the records afterwards ({@link PopeMetrics}, {@link MmeScores}).
 *
 * <pre>{@code
 * try (EvalJournal journal = EvalJournal.open(out, run)) {
 *   YesNoEvaluation.Outcome o = new YesNoEvaluation(answerer, journal, "none", PromptVariant.VCD, YesNoParser.POPE, 42)
 *       .limit(500).listener(p -> bar.stepTo(p.done())).run(PopeDataset.read(file, images));
 *   System.out.print(PopeMetrics.Summary.of(o).toTable());
 * }
 * }</pre>
 *
 * <p>The answer is recorded with the white space around it stripped, as every reference script does
 * before parsing. The limit counts items from the start of the list, resumed ones included, so rerunning
 * the same command after a kill finishes the same first N items. A resumed record must agree with its
 * item (label, prompt, image, method, seed): a disagreement means the data changed under the results file
 * and stops the run with an {@link EvaluationException}. An item that occurs twice is an error. When the
 * answerer throws, the loop stops with an {@link EvaluationException} naming the item; everything
 * answered before it is already in the journal.
 */
public final class YesNoEvaluation {
  /**
   * Where the loop stands, after one more item.
   *
   * @param done items handled so far (answered + resumed)
   * @param total items this run will handle
   * @param answered items answered by the answerer
   * @param resumed items taken from the journal
   * @param accuracyPercent running accuracy over the items handled, in percent
   * @param item the item just handled
   * @param record its record
   * @param fromJournal whether that record came from the journal (not the answerer)
   */
  public record Progress(long done, long total, long answered, long resumed, double accuracyPercent, YesNoItem item, EvalRecord record,
      boolean fromJournal) {}

  /** Receives a {@link Progress} after each item. */
  @FunctionalInterface
  public interface ProgressListener {
    void onItem(Progress progress);
  }

  /**
   * What a run gives.
   *
   * @param records one per item handled, in item order (answered and resumed alike)
   * @param answered items answered in this run
   * @param resumed items taken from the journal
   */
  public record Outcome(List<EvalRecord> records, long answered, long resumed) {
    public Outcome {
      records = List.copyOf(records);
    }
  }

  private final ImageAnswerer answerer;
  private final EvalJournal journal;
  private final String method;
  private final PromptVariant prompt;
  private final YesNoParser parser;
  private final long seed;
  private long limit = Long.MAX_VALUE;
  private ProgressListener listener = p -> {};

  /**
   * @param method the decoding method's name, recorded with each result ({@code none}, {@code vcd}...)
   * @param seed the seed every answer gets (see {@link ImageAnswerer})
   */
  public YesNoEvaluation(ImageAnswerer answerer, EvalJournal journal, String method, PromptVariant prompt, YesNoParser parser, long seed) {
    this.answerer = Objects.requireNonNull(answerer, "answerer");
    this.journal = Objects.requireNonNull(journal, "journal");
    this.method = Objects.requireNonNull(method, "method");
    this.prompt = Objects.requireNonNull(prompt, "prompt");
    this.parser = Objects.requireNonNull(parser, "parser");
    this.seed = seed;
  }

  /** Handles only the first {@code n} items (n >= 0); all by default. */
  public YesNoEvaluation limit(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("limit must be >= 0, got " + n);
    }
    this.limit = n;
    return this;
  }

  public YesNoEvaluation listener(ProgressListener l) {
    this.listener = Objects.requireNonNull(l, "listener");
    return this;
  }

  /**
   * Runs the loop over {@code items} (see the class comment).
   *
   * @throws EvaluationException when the answerer fails, its answer cannot be recorded, an item repeats
   *     or a resumed record disagrees with its item
   * @throws IOException when the journal cannot be written
   */
  public Outcome run(List<YesNoItem> items) throws IOException {
    long total = Math.min(items.size(), limit);
    List<EvalRecord> records = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    long answered = 0;
    long resumed = 0;
    long correct = 0;
    for (YesNoItem item : items) {
      if (answered + resumed >= limit) {
        break;
      }
      if (!seen.add(item.split().length() + ":" + item.split() + item.id())) {
        throw new EvaluationException(item.id(), "item " + item.id() + " of " + item.split() + " occurs twice; ids must be unique in a split");
      }
      String text = prompt.apply(item.question());
      EvalRecord record = journal.entry(item.split(), item.id()).orElse(null);
      boolean fromJournal = record != null;
      if (fromJournal) {
        check(record, item, text);
        resumed++;
      } else {
        record = answerAndRecord(item, text);
        answered++;
      }
      records.add(record);
      correct += record.correct() ? 1 : 0;
      long done = answered + resumed;
      listener.onItem(new Progress(done, total, answered, resumed, 100.0 * correct / done, item, record, fromJournal));
    }
    return new Outcome(records, answered, resumed);
  }

  private EvalRecord answerAndRecord(YesNoItem item, String text) throws IOException {
    ImageAnswerer.Answer answer;
    try {
      answer = answerer.answer(item.imagePath(), text, seed);
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
      record = new EvalRecord(item.id(), item.split(), item.image(), text, stripped, parser.parse(stripped, item.label()), item.label(), method, seed,
          answer.timingsMs(), extra);
    } catch (IllegalArgumentException e) {
      throw new EvaluationException(item.id(), "item " + item.id() + " of " + item.split() + ": the answer cannot be recorded: " + e.getMessage(), e);
    }
    journal.append(record);
    return record;
  }

  /** A resumed record must be the one this run would write for the item, up to the answer. */
  private void check(EvalRecord r, YesNoItem item, String text) {
    String differs = r.label() != item.label() ? "label " + (r.label() == null ? "none" : r.label().label()) + " there, " + item.label().label() + " here"
        : !r.prompt().equals(text) ? "prompt \"" + r.prompt() + "\" there, \"" + text + "\" here"
        : !r.image().equals(item.image()) ? "image " + r.image() + " there, " + item.image() + " here"
        : !r.method().equals(method) ? "method " + r.method() + " there, " + method + " here"
        : r.seed() != seed ? "seed " + r.seed() + " there, " + seed + " here"
        : r.parsed() == null ? "no parsed answer there"
        : null;
    if (differs != null) {
      throw new EvaluationException(item.id(), journal.file() + ": the record of item " + item.id() + " of " + item.split()
          + " does not match the data (" + differs + "); the data changed since it was written: use another results file");
    }
  }
}
