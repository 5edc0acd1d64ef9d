package dev.fovea.methods.avc;

import dev.fovea.methods.contrastive.ContrastiveException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * AVC's blind tokens (spec 2.2, 2.3), from the head-averaged attention of the last prompt position
 * to the N image positions in every decoder layer, {@code A[l][i]}:
 *
 * <ol>
 *   <li>layer shares {@code p_l = s_l / sum s}, {@code s_l = sum_i A[l][i]};
 *   <li>the top-P layers: sorted by share (descending; lower layer first on ties), {@code k =
 *       #{j : c_j < P} + 1} with {@code c} the cumulative shares (at most every layer);
 *   <li>{@code a_i} = mean over the selected layers of {@code A[l][i]};
 *   <li>{@code tau = mean(a) + lambda std(a)} (N - 1 denominator); blind: {@code a_i >= tau}.
 * </ol>
 *
 * Sums in float64.
 *
 * @param layers the selected layers, by descending share
 * @param layerShares p_l of every layer
 * @param attention a_i of every image position
 * @param threshold tau
 * @param blind indices i (into the image positions, ascending) with a_i &gt;= tau
 * @param positions the sequence positions of the image tokens, in order
 */
public record BlindTokens(int[] layers, double[] layerShares, double[] attention, double threshold, int[] blind, int[] positions) {

  /**
   * @param headMean [layers][N] head-averaged attention of the last prompt position to each image position
   * @param positions the N image positions in the sequence
   */
  public static BlindTokens of(double[][] headMean, double layerP, double lambda, int[] positions) {
    int layers = headMean.length;
    if (layers == 0 || positions.length == 0) {
      throw new ContrastiveException("blind tokens need at least one layer and one image position");
    }
    int n = positions.length;
    double[] s = new double[layers];
    for (int l = 0; l < layers; l++) {
      if (headMean[l] == null || headMean[l].length != n) {
        throw new ContrastiveException("layer " + l + " gave " + (headMean[l] == null ? "no" : headMean[l].length) + " attention values for "
            + n + " image positions");
      }
      for (double v : headMean[l]) {
        s[l] += v;
      }
    }
    double[] shares = shares(s);
    int[] selected = topP(shares, layerP);
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (int l : selected) {
        sum += headMean[l][i];
      }
      a[i] = sum / selected.length;
    }
    double tau = threshold(a, lambda);
    int[] blind = IntStream.range(0, n).filter(i -> a[i] >= tau).toArray();
    return new BlindTokens(selected, shares, a, tau, blind, positions.clone());
  }

  /** s normalized to sum 1. */
  static double[] shares(double[] s) {
    double total = 0;
    for (double v : s) {
      total += v;
    }
    if (!(total > 0) || Double.isInfinite(total)) {
      throw new ContrastiveException("the layers' attention to the image sums to " + total + ": no layer share can be computed");
    }
    double[] p = new double[s.length];
    for (int l = 0; l < s.length; l++) {
      p[l] = s[l] / total;
    }
    return p;
  }

  /** The top-P layers of shares p (summing to 1), by descending share: the fewest whose cumulative share reaches P. */
  public static int[] topP(double[] p, double layerP) {
    Integer[] order = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -p[i]).thenComparingInt(i -> i));
    int below = 0;
    double c = 0;
    for (Integer l : order) {
      c += p[l];
      if (c < layerP) {
        below++;
      }
    }
    int k = Math.min(p.length, below + 1);
    int[] out = new int[k];
    for (int j = 0; j < k; j++) {
      out[j] = order[j];
    }
    return out;
  }

  /** mean(a) + lambda std(a), the N - 1 standard deviation (0 for a single value). */
  public static double threshold(double[] a, double lambda) {
    double mean = 0;
    for (double v : a) {
      mean += v;
    }
    mean /= a.length;
    double ss = 0;
    for (double v : a) {
      ss += (v - mean) * (v - mean);
    }
    double std = a.length > 1 ? Math.sqrt(ss / (a.length - 1)) : 0;
    return mean + lambda * std;
  }

  /** The sequence positions of the blind tokens. */
  public int[] blindPositions() {
    return Arrays.stream(blind).map(i -> positions[i]).toArray();
  }

  /** The sequence positions of the image tokens that are not blind (the second branch overwrites them). */
  public int[] nonBlindPositions() {
    boolean[] isBlind = new boolean[positions.length];
    for (int i : blind) {
      isBlind[i] = true;
    }
    return IntStream.range(0, positions.length).filter(i -> !isBlind[i]).map(i -> positions[i]).toArray();
  }
}
