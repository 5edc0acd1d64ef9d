package dev.fovea.llm.generate;

/**
 * How the next token is chosen from logits, in Hugging Face's order: repetition penalty, then
 * temperature, top-k, top-p, then a draw. {@code temperature == 0} means greedy (argmax after the
 * repetition penalty, ties to the lower id).
 *
 * @param topK keep the k largest logits (ties at the k-th value kept); 0 = off
 * @param topP keep the most probable tokens, in descending order, while the mass before each is &lt; p; 1 = off
 * @param repetitionPenalty HF's: every id seen so far has its logit l become l / r (l &gt; 0) or l * r; 1 = off
 */
public record SamplingConfig(float temperature, int topK, float topP, float repetitionPenalty) {
  public SamplingConfig {
    if (!(temperature >= 0) || Float.isInfinite(temperature)) {
      throw new IllegalArgumentException("--temperature must be >= 0 (0 = greedy), got " + temperature);
    }
    if (topK < 0) {
      throw new IllegalArgumentException("--top-k must be >= 0 (0 = off), got " + topK);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("--top-p must be within (0, 1], got " + topP);
    }
    if (!(repetitionPenalty > 0) || Float.isInfinite(repetitionPenalty)) {
      throw new IllegalArgumentException("--repetition-penalty must be > 0 (1 = off), got " + repetitionPenalty);
    }
  }

  public static final SamplingConfig GREEDY = new SamplingConfig(0f, 0, 1f, 1f);

  /** Plain sampling at {@code temperature} (no top-k/top-p). */
  public static SamplingConfig sampling(float temperature) {
    return new SamplingConfig(temperature, 0, 1f, 1f);
  }

  public boolean greedy() {
    return temperature == 0f;
  }

  public SamplingConfig withTopK(int k) {
    return new SamplingConfig(temperature, k, topP, repetitionPenalty);
  }

  public SamplingConfig withTopP(float p) {
    return new SamplingConfig(temperature, topK, p, repetitionPenalty);
  }

  public SamplingConfig withRepetitionPenalty(float r) {
    return new SamplingConfig(temperature, topK, topP, r);
  }
}
