package dev.fovea.llm.generate;

import dev.fovea.tensor.Tensor;

/**
 * What a prefill reads: token ids (one sequence) or caller-supplied input embeddings [1, T, C]
 * (AVC zeroes image rows; LLaVA splices projected image features between text embeddings).
 * Exactly one of the two is set.
 */
public record Inputs(int[] ids, Tensor embeddings) {
  public Inputs {
    if ((ids == null) == (embeddings == null)) {
      throw new IllegalArgumentException("Inputs: give either token ids or input embeddings, not " + (ids == null ? "neither" : "both"));
    }
    if (ids != null && ids.length == 0) {
      throw new IllegalArgumentException("Inputs: the prompt has no tokens");
    }
    ids = ids == null ? null : ids.clone();
  }

  public static Inputs ids(int... ids) {
    return new Inputs(ids, null);
  }

  /** Embeddings [1, T, C] (or [T, C]); they must outlive the prefill call. */
  public static Inputs embeddings(Tensor embeddings) {
    return new Inputs(null, embeddings);
  }

  /** Number of positions. */
  public int length() {
    return ids != null ? ids.length : embeddings.size(-2);
  }
}
