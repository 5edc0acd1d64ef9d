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

  /** Whether {@link #prefillRows} and {@link #stepRows} run branches of one length as one batch. */
  default boolean batchesRows() {
    return false;
  }

  /**
   * Prompts of one length as the rows of one state of batch N, prefilled together (each row sees
   * only itself); row b's logits are {@link DecodeState#logits(int)}.
   */
  default DecodeState prefillRows(List<Inputs> rows, int maxLength) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not batch rows");
  }

  /** Feeds {@code token} to every row of a batched state in one forward; returns each row's logits [N][V]. */
  default float[][] stepRows(DecodeState state, int token) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " does not batch rows");
  }

  int vocabSize();

  /** Ids that end generation. */
  List<Integer> eosTokenIds();

  /** The most positions a state may hold. */
  int maxPositions();
}
