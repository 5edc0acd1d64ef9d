package dev.fovea.llm.llava;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.tensor.Tensor;
import java.util.List;

/**
 * A prepared LLaVA prompt: the merged input embeddings, the ids they stand for (each image span
 * holds {@code image_token_index}, as the HF processor expands it) and where each image went, in
 * prompt order, so a method reads the spans instead of hard-coding offsets.
 *
 * @param embeddings [1, L, C], text embeddings with the projected image features spliced in; part of
 *     the autograd graph when prepared in grad mode
 * @param ids the L ids of the merged sequence
 * @param imageSpans one span per image, in order
 */
public record LlavaInputs(Tensor embeddings, int[] ids, List<ImageSpan> imageSpans) {
  public LlavaInputs {
    ids = ids.clone();
    imageSpans = List.copyOf(imageSpans);
  }

  /** Number of positions L. */
  public int length() {
    return ids.length;
  }

  /** As generator input (the embeddings must outlive the prefill). */
  public Inputs toInputs() {
    return Inputs.embeddings(embeddings);
  }
}
