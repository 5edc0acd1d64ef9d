package dev.fovea.methods.eval;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * VQA accuracy of one prediction against the human answers (methods spec 4.2 step 2), as the official
 * scorer and LLaVA's {@code TextVQAAccuracyEvaluator} compute it: normalize the prediction and every
 * answer with {@link VqaAnswerProcessor}, then average, over the n leave-one-out subsets (each drops
 * one of the n answers), {@code min(1, matches in the subset / 3)}.
 *
 * <p>With k of the n answers equal to the prediction, k subsets have k - 1 matches and n - k have k, so
 * the score is {@code (k min(3, k-1) + (n-k) min(3, k)) / (3n)}. For n = 10 that is {@code min(1,
 * 0.3 k)}: 0, 0.3, 0.6, 0.9, then 1 for k >= 4. It is computed as that exact fraction and rounded once,
 * so k = 3 gives exactly {@code 0.9} (Python's running float sum may differ in the last bit).
 *
 * <p>The reference asserts n = 10. Here any n >= 1 is scored by the same leave-one-out rule, and with
 * fewer answers the top score drops: when every answer matches, the score is {@code min(3, n-1)/3}, so 0
 * for n = 1 (a single reference can never score), 1/3 for n = 2, 2/3 for n = 3, and 1 from n = 4 on.
 * Single-answer datasets need a scorer of their own (spec 4.3).
 */
public final class VqaAccuracy {
  private VqaAccuracy() {}

  /** The accuracy in [0, 1] of a raw prediction against raw human answers (at least one). */
  public static double score(String prediction, List<String> answers) {
    if (answers.isEmpty()) {
      throw new IllegalArgumentException("VQA accuracy needs at least one human answer");
    }
    String p = VqaAnswerProcessor.normalize(prediction);
    int k = 0;
    for (String a : answers) {
      if (VqaAnswerProcessor.normalize(a).equals(p)) {
        k++;
      }
    }
    return leaveOneOut(k, answers.size());
  }

  /**
   * The leave-one-out accuracy when {@code matches} of {@code n} answers equal the prediction: the mean
   * over the n subsets of n - 1 answers of {@code min(1, matches in the subset / 3)}.
   */
  public static double leaveOneOut(int matches, int n) {
    if (n < 1 || matches < 0 || matches > n) {
      throw new IllegalArgumentException("need 0 <= matches <= n and n >= 1, got matches " + matches + ", n " + n);
    }
    // subsets that drop a matching answer keep matches - 1, the others keep matches; each counts
    // min(3, kept) / 3
    long thirds = (long) matches * Math.min(3, matches - 1) + (long) (n - matches) * Math.min(3, matches);
    return (double) thirds / (3.0 * n);
  }

  /**
   * Mean accuracy in percent over the items added, overall and per {@link SizeSplit}. Not thread-safe.
   */
  public static final class Tally {
    private long count;
    private double sum;
    private final Map<SizeSplit, long[]> counts = new EnumMap<>(SizeSplit.class);
    private final Map<SizeSplit, double[]> sums = new EnumMap<>(SizeSplit.class);

    public Tally() {
      for (SizeSplit s : SizeSplit.values()) {
        counts.put(s, new long[1]);
        sums.put(s, new double[1]);
      }
    }

    /** Adds one item's accuracy in [0, 1]. */
    public void add(SizeSplit split, double accuracy) {
      if (!(accuracy >= 0 && accuracy <= 1)) {
        throw new IllegalArgumentException("accuracy " + accuracy + " is not in [0, 1]");
      }
      count++;
      sum += accuracy;
      counts.get(split)[0]++;
      sums.get(split)[0] += accuracy;
    }

    /** Items added. */
    public long count() {
      return count;
    }

    /** Items added in one split. */
    public long count(SizeSplit split) {
      return counts.get(split)[0];
    }

    /** Mean accuracy of all items, in percent; NaN when there are none. */
    public double accuracyPercent() {
      return count == 0 ? Double.NaN : 100.0 * sum / count;
    }

    /** Mean accuracy of one split, in percent; NaN when it is empty. */
    public double accuracyPercent(SizeSplit split) {
      long n = count(split);
      return n == 0 ? Double.NaN : 100.0 * sums.get(split)[0] / n;
    }
  }
}
