package dev.fovea.llm.generate;

import dev.fovea.llm.llama.DecodeState;
import java.util.List;

/**
 * The step API of DESIGN "Generation": a prefill that fills a fresh {@link DecodeState} (its
 * {@link DecodeState#logits()} are those of the last prompt position), then one token per step.
 * Both run without autograd. Implemented by the LLaMA decoder, and by LLaVA over it (its prefill
 * takes the image too).
 */
public interface CausalLM {
  /** A new state holding the prompt; {@code maxLength} bounds prompt + generated positions. */
  DecodeState prefill(Inputs inputs, int maxLength);

  /** Feeds {@code token} at the state's next position; returns the logits [V] that follow it. */
  float[] step(DecodeState state, int token);

  int vocabSize();

  /** Ids that end generation. */
  List<Integer> eosTokenIds();

  /** The most positions a state may hold. */
  int maxPositions();
}
