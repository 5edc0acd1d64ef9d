package dev.fovea.llm.generate;

import dev.fovea.llm.llama.DecodeState;
import java.util.List;

/**
 * A multimodal model whose text comes from a causal LM it holds (LLaVA-1.5 and InstructBLIP over
 * their LLaMA): once the prompt (with its image positions) is prefilled, every step, batched row,
 * vocabulary and stop id is the decoder's. Implementors give {@link #decoder()} and their own
 * {@link #prefill}, which checks the merged prompt against their limits.
 */
public interface WrappedCausalLM extends CausalLM {
  /** The causal LM that decodes. */
  CausalLM decoder();

  @Override
  default float[] step(DecodeState state, int token) {
    return decoder().step(state, token);
  }

  @Override
  default boolean batchesRows() {
    return decoder().batchesRows();
  }

  /** Prepared prompts of one length (the same text with different images, or edited embeddings) as one batch. */
  @Override
  default DecodeState prefillRows(List<Inputs> rows, int maxLength) {
    return decoder().prefillRows(rows, maxLength);
  }

  @Override
  default float[][] stepRows(DecodeState state, int token) {
    return decoder().stepRows(state, token);
  }

  @Override
  default int vocabSize() {
    return decoder().vocabSize();
  }

  @Override
  default List<Integer> eosTokenIds() {
    return decoder().eosTokenIds();
  }

  @Override
  default int maxPositions() {
    return decoder().maxPositions();
  }
}
