package dev.fovea.llm.generate;

import java.util.Arrays;

/**
 * Chooses the next token from logits [V] (STYLE: llama3.java's Sampler). Computed in float64 from
 * the float32 logits, with a fixed order for ties, so the same logits and the same uniform draw give
 * the same token as tools/reference/llama/make_llama_reference.py's {@code sample}:
 *
 * <ol>
 *   <li>repetition penalty over the ids seen (HF: l / r when l &gt; 0, l * r otherwise);
 *   <li>greedy: argmax (lower id on ties). Otherwise divide by the temperature;
 *   <li>top-k: -inf below the k-th largest value;
 *   <li>softmax; tokens in descending probability (lower id first on ties); top-p keeps a token
 *       while the mass before it is &lt; p (so at least one);
 *   <li>the first kept token whose cumulative renormalized probability exceeds the draw u.
 * </ol>
 */
public final class Sampler {
  private final SamplingConfig config;
  private final Uniforms uniforms;

  public Sampler(SamplingConfig config, Uniforms uniforms) {
    this.config = config;
    this.uniforms = uniforms;
  }

  public static Sampler greedy() {
    return new Sampler(SamplingConfig.GREEDY, () -> 0.0);
  }

  /** Seeded: the same seed, logits and history give the same tokens. */
  public static Sampler seeded(SamplingConfig config, long seed) {
    return new Sampler(config, Uniforms.seeded(seed));
  }

  public SamplingConfig config() {
    return config;
  }

  /** The next token given logits [V] (not modified) and the ids seen so far (for the repetition penalty). */
  public int sample(float[] logits, int[] history) {
    double[] l = new double[logits.length];
    for (int i = 0; i < l.length; i++) {
      l[i] = logits[i];
    }
    applyRepetitionPenalty(l, history, config.repetitionPenalty());
    if (config.greedy()) {
      return argmax(l);
    }
    for (int i = 0; i < l.length; i++) {
      l[i] /= config.temperature();
    }
    applyTopK(l, config.topK());
    return draw(l, config.topP(), uniforms.next());
  }

  /** HF RepetitionPenaltyLogitsProcessor: each distinct id seen once. */
  public static void applyRepetitionPenalty(double[] l, int[] history, float r) {
    if (r == 1f || history == null) {
      return;
    }
    boolean[] seen = new boolean[l.length];
    for (int t : history) {
      if (t >= 0 && t < l.length && !seen[t]) {
        seen[t] = true;
        l[t] = l[t] < 0 ? l[t] * r : l[t] / r;
      }
    }
  }

  /** -inf below the k-th largest value (ties at it kept), as HF TopKLogitsWarper. */
  public static void applyTopK(double[] l, int k) {
    if (k <= 0 || k >= l.length) {
      return;
    }
    double[] sorted = l.clone();
    Arrays.sort(sorted);
    double kth = sorted[sorted.length - k];
    for (int i = 0; i < l.length; i++) {
      if (l[i] < kth) {
        l[i] = Double.NEGATIVE_INFINITY;
      }
    }
  }

  public static int argmax(double[] l) {
    int best = 0;
    for (int i = 1; i < l.length; i++) {
      if (l[i] > l[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Softmax, nucleus cut at p, then the token where the cumulative kept probability passes u. */
  static int draw(double[] l, float topP, double u) {
    int n = l.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> l[a] != l[b] ? Double.compare(l[b], l[a]) : Integer.compare(a, b));
    double max = l[order[0]];
    if (max == Double.NEGATIVE_INFINITY || Double.isNaN(max)) {
      throw new IllegalStateException("sampler: every logit is -inf or NaN");
    }
    double[] p = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      p[i] = Math.exp(l[i] - max);
      sum += p[i];
    }
    int kept = 0;
    double before = 0;
    double keptMass = 0;
    for (int j = 0; j < n; j++) {
      double pi = p[order[j]] / sum;
      if (pi == 0 || (kept > 0 && before >= topP)) {
        break;
      }
      kept++;
      before += pi;
      keptMass += pi;
    }
    double acc = 0;
    for (int j = 0; j < kept; j++) {
      acc += p[order[j]] / sum / keptMass;
      if (u < acc) {
        return order[j];
      }
    }
    return order[kept - 1];
  }
}
