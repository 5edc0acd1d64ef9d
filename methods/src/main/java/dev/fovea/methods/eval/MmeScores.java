package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.methods.eval.MmeDataset.Category;
import dev.fovea.methods.eval.MmeDataset.Subtask;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * MME's scores (methods spec 4.4, as its {@code calculation.py}): per subtask, {@code acc} = share of
 * questions answered right and {@code acc+} = share of images whose questions are all answered right,
 * both in percent, and the score {@code acc + acc+} (at most 200). An answer the parser reads as {@link
 * YesNo#OTHER} is wrong. Totals add the subtask scores: perception (10 subtasks, at most 2000),
 * cognition (4, at most 800) and the hallucination subset (existence, count, position, color, at most
 * 800); a total over the subtasks present says how many of its subtasks that is.
 *
 * @param answered items answered in this run
 * @param resumed items taken from the results file
 * @param subtasks one row per split, in the order the splits first occur
 */
public record MmeScores(long answered, long resumed, List<Row> subtasks, Total perception, Total cognition, Total hallucination) {
  public MmeScores {
    subtasks = List.copyOf(subtasks);
  }

  /**
   * One subtask.
   *
   * @param name the split (MME's folder name)
   * @param questions questions answered
   * @param correct questions answered right
   * @param images images among them
   * @param imagesAllCorrect images whose every question was answered right
   * @param other answers the parser read as neither yes nor no
   */
  public record Row(String name, long questions, long correct, long images, long imagesAllCorrect, long other) {
    /** Percent of questions right. */
    public double acc() {
      return 100.0 * correct / questions;
    }

    /** Percent of images with all questions right. */
    public double accPlus() {
      return 100.0 * imagesAllCorrect / images;
    }

    /** acc + acc+, at most 200. */
    public double score() {
      return acc() + accPlus();
    }

    /** The subtask this row is, or null for a split that is not an MME subtask. */
    public Subtask subtask() {
      return Subtask.byFolder(name);
    }
  }

  /**
   * A sum of subtask scores.
   *
   * @param score the sum
   * @param present how many of its subtasks were scored
   * @param of how many subtasks it has
   */
  public record Total(double score, int present, int of) {}

  /** The scores of the records (each needs a parsed answer and a label). */
  public static MmeScores of(YesNoEvaluation.Outcome o) {
    Map<String, List<EvalRecord>> bySplit = new LinkedHashMap<>();
    for (EvalRecord r : o.records()) {
      if (r.parsed() == null || r.label() == null) {
        throw new IllegalArgumentException("item " + r.id() + " of " + r.split() + ": an MME score needs a parsed answer and a label");
      }
      bySplit.computeIfAbsent(r.split(), k -> new ArrayList<>()).add(r);
    }
    List<Row> rows = new ArrayList<>();
    bySplit.forEach((split, records) -> {
      Map<String, Boolean> imageRight = new LinkedHashMap<>();
      long correct = 0;
      long other = 0;
      for (EvalRecord r : records) {
        correct += r.correct() ? 1 : 0;
        other += r.parsed() == YesNo.OTHER ? 1 : 0;
        imageRight.merge(r.image(), r.correct(), Boolean::logicalAnd);
      }
      long allRight = imageRight.values().stream().filter(b -> b).count();
      rows.add(new Row(split, records.size(), correct, imageRight.size(), allRight, other));
    });
    return new MmeScores(o.answered(), o.resumed(), rows, total(rows, s -> s.category == Category.PERCEPTION),
        total(rows, s -> s.category == Category.COGNITION), total(rows, s -> s.hallucination));
  }

  private static Total total(List<Row> rows, Predicate<Subtask> in) {
    Set<Subtask> members = new LinkedHashSet<>();
    for (Subtask s : Subtask.values()) {
      if (in.test(s)) {
        members.add(s);
      }
    }
    double score = 0;
    int present = 0;
    for (Row r : rows) {
      if (r.subtask() != null && members.contains(r.subtask())) {
        score += r.score();
        present++;
      }
    }
    return new Total(score, present, members.size());
  }

  /**
   * An aligned table, one row per subtask, then the totals:
   *
   * <pre>
   * subtask    questions  images     acc    acc+   score
   * existence         60      30  95.00   90.00  185.00
   * ...
   * perception (10 of 10 subtasks): 1510.73
   * </pre>
   */
  public String toTable() {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"subtask", "questions", "images", "acc", "acc+", "score"});
    for (Row r : subtasks) {
      rows.add(new String[] {r.name(), Long.toString(r.questions()), Long.toString(r.images()), PopeMetrics.cell(r.acc()),
          PopeMetrics.cell(r.accPlus()), PopeMetrics.cell(r.score())});
    }
    StringBuilder sb = new StringBuilder(Tables.align(rows));
    line(sb, "perception", perception);
    line(sb, "cognition", cognition);
    line(sb, "hallucination (existence, count, position, color)", hallucination);
    return sb.toString();
  }

  private static void line(StringBuilder sb, String name, Total t) {
    if (t.present() > 0) {
      sb.append(name).append(" (").append(t.present()).append(" of ").append(t.of()).append(" subtasks): ").append(PopeMetrics.cell(t.score()))
          .append('\n');
    }
  }

  /**
   * As JSON: {@code {"answered":..,"resumed":..,"subtasks":{"existence":{"questions":60,"images":30,"acc":95.0,"acc_plus":90.0,
   * "score":185.0},...},"perception":{"score":..,"subtasks":10,"of":10},"cognition":{..},"hallucination":{..}}}.
   */
  public ObjectNode toJson() {
    ObjectNode o = JsonlFile.JSON.createObjectNode();
    o.put("answered", answered);
    o.put("resumed", resumed);
    ObjectNode s = o.putObject("subtasks");
    for (Row r : subtasks) {
      ObjectNode n = s.putObject(r.name());
      n.put("questions", r.questions());
      n.put("images", r.images());
      if (r.other() > 0) {
        n.put("other", r.other());
      }
      n.put("acc", r.acc());
      n.put("acc_plus", r.accPlus());
      n.put("score", r.score());
    }
    total(o, "perception", perception);
    total(o, "cognition", cognition);
    total(o, "hallucination", hallucination);
    return o;
  }

  private static void total(ObjectNode o, String name, Total t) {
    ObjectNode n = o.putObject(name);
    n.put("score", t.score());
    n.put("subtasks", t.present());
    n.put("of", t.of());
  }
}
