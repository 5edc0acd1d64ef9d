package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * POPE's scores (methods spec 4.1), positive class yes, all in percent: {@code accuracy = (TP + TN) /
 * N}, {@code precision = TP / (TP + FP)}, {@code recall = TP / (TP + FN)}, {@code F1 = 2 P R / (P + R)},
 * {@code yes-ratio = (TP + FP) / N}. N counts every answer, {@link YesNo#OTHER} ones too (wrong, and
 * not a yes).
 *
 * <p>A denominator of 0 makes a score undefined, and it is NaN ({@code -} in tables, null in JSON),
 * never a made-up 0 or 100: accuracy and yes-ratio with no answers, precision with no yes answer,
 * recall with no yes label, F1 when precision or recall is undefined. When both are defined and 0,
 * F1 is 0.
 *
 * @param tp yes answered for a yes label
 * @param fp yes answered for a no label
 * @param tn no answered for a no label
 * @param fn no answered for a yes label
 * @param other answers that are neither (only MME's parser gives them)
 */
public record PopeMetrics(long tp, long fp, long tn, long fn, long other) {
  public PopeMetrics {
    if (tp < 0 || fp < 0 || tn < 0 || fn < 0 || other < 0) {
      throw new IllegalArgumentException("negative count");
    }
  }

  public static final PopeMetrics EMPTY = new PopeMetrics(0, 0, 0, 0, 0);

  /** The counts over {@code records} (each must have a parsed answer and a label). */
  public static PopeMetrics of(Iterable<EvalRecord> records) {
    PopeMetrics m = EMPTY;
    for (EvalRecord r : records) {
      m = m.add(r.parsed(), r.label());
    }
    return m;
  }

  /** These counts and one more answer. */
  public PopeMetrics add(YesNo parsed, YesNo label) {
    if (parsed == null || label == null || label == YesNo.OTHER) {
      throw new IllegalArgumentException("a POPE score needs a parsed answer and a yes/no label, got " + parsed + " for " + label);
    }
    return switch (parsed) {
      case YES -> label == YesNo.YES ? new PopeMetrics(tp + 1, fp, tn, fn, other) : new PopeMetrics(tp, fp + 1, tn, fn, other);
      case NO -> label == YesNo.NO ? new PopeMetrics(tp, fp, tn + 1, fn, other) : new PopeMetrics(tp, fp, tn, fn + 1, other);
      case OTHER -> new PopeMetrics(tp, fp, tn, fn, other + 1);
    };
  }

  /** All answers. */
  public long count() {
    return tp + fp + tn + fn + other;
  }

  public double accuracy() {
    return percent(tp + tn, count());
  }

  public double precision() {
    return percent(tp, tp + fp);
  }

  public double recall() {
    return percent(tp, tp + fn);
  }

  /** 2 P R / (P + R) in percent; NaN when P or R is, 0 when both are 0. */
  public double f1() {
    double p = precision();
    double r = recall();
    if (Double.isNaN(p) || Double.isNaN(r)) {
      return Double.NaN;
    }
    return p + r == 0 ? 0 : 2 * p * r / (p + r);
  }

  public double yesRatio() {
    return percent(tp + fp, count());
  }

  private static double percent(long num, long den) {
    return den == 0 ? Double.NaN : 100.0 * num / den;
  }

  /** As JSON: counts and the five scores in percent (null when undefined). */
  public ObjectNode toJson() {
    ObjectNode o = JsonlFile.JSON.createObjectNode();
    o.put("count", count());
    o.put("tp", tp);
    o.put("fp", fp);
    o.put("tn", tn);
    o.put("fn", fn);
    if (other > 0) {
      o.put("other", other);
    }
    put(o, "accuracy", accuracy());
    put(o, "precision", precision());
    put(o, "recall", recall());
    put(o, "f1", f1());
    put(o, "yes_ratio", yesRatio());
    return o;
  }

  static void put(ObjectNode o, String name, double v) {
    if (Double.isNaN(v)) {
      o.putNull(name);
    } else {
      o.put(name, v);
    }
  }

  /** A score with two decimals, {@code -} when undefined. */
  static String cell(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  /**
   * The scores of a run per split (in the order the splits first occur) and over all of them.
   *
   * @param answered items answered in this run
   * @param resumed items taken from the results file
   */
  public record Summary(long answered, long resumed, Map<String, PopeMetrics> splits, PopeMetrics all) {
    public Summary {
      splits = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(splits));
    }

    public static Summary of(YesNoEvaluation.Outcome o) {
      Map<String, PopeMetrics> splits = new LinkedHashMap<>();
      PopeMetrics all = EMPTY;
      for (EvalRecord r : o.records()) {
        splits.merge(r.split(), EMPTY.add(r.parsed(), r.label()), PopeMetrics::plus);
        all = all.add(r.parsed(), r.label());
      }
      return new Summary(o.answered(), o.resumed(), splits, all);
    }

    /**
     * An aligned table, one row per split and {@code all} last (only when there are several splits):
     *
     * <pre>
     * split             count  accuracy  precision  recall     f1  yes-ratio
     * coco_pope_random      3     66.67     100.00   50.00  66.67      33.33
     * </pre>
     */
    public String toTable() {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"split", "count", "accuracy", "precision", "recall", "f1", "yes-ratio"});
      splits.forEach((name, m) -> rows.add(row(name, m)));
      if (splits.size() != 1) {
        rows.add(row("all", all));
      }
      return Tables.align(rows);
    }

    private static String[] row(String name, PopeMetrics m) {
      return new String[] {name, Long.toString(m.count()), cell(m.accuracy()), cell(m.precision()), cell(m.recall()), cell(m.f1()),
          cell(m.yesRatio())};
    }

    /** As JSON: {@code {"answered":..,"resumed":..,"all":{...},"splits":{"coco_pope_random":{...}}}}. */
    public ObjectNode toJson() {
      ObjectNode o = JsonlFile.JSON.createObjectNode();
      o.put("answered", answered);
      o.put("resumed", resumed);
      o.set("all", all.toJson());
      ObjectNode s = o.putObject("splits");
      splits.forEach((name, m) -> s.set(name, m.toJson()));
      return o;
    }
  }

  /** The counts of both. */
  public PopeMetrics plus(PopeMetrics b) {
    return new PopeMetrics(tp + b.tp, fp + b.fp, tn + b.tn, fn + b.fn, other + b.other);
  }
}
