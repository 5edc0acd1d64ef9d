package dev.fovea.llm.instructblip;

import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;

/**
 * The two tokenizations of an InstructBLIP question (spec models-formats.md 4.4-4.5; LAVIS
 * blip2_vicuna_instruct.py): the raw instruction, no chat template.
 */
public final class InstructBlipPrompt {
  /** LAVIS re-registers {@code </s>} as the LLM's BOS: the prompt starts with id 2, not LLaMA's 1. */
  public static final int LAVIS_BOS = 2;

  /** LAVIS's {@code max_txt_len} for the Q-Former's instruction (truncated from the left). */
  public static final int QFORMER_MAX_TOKENS = 128;

  private InstructBlipPrompt() {}

  /** The LLM prompt: {@code </s>} (id 2) then the question's pieces (no BOS of the tokenizer's own). */
  public static int[] llmIds(TextTokenizer tokenizer, String question) {
    int[] text = tokenizer.encode(question, false);
    int[] ids = new int[text.length + 1];
    ids[0] = LAVIS_BOS;
    System.arraycopy(text, 0, ids, 1, text.length);
    return ids;
  }

  /** The Q-Former's instruction: {@code [CLS] ... [SEP]}, at most {@code min(128, max_position_embeddings)} ids, cut from the left. */
  public static int[] qformerIds(WordPieceTokenizer tokenizer, String question, InstructBlipConfig config) {
    int max = Math.min(QFORMER_MAX_TOKENS, config.qformerConfig().maxPositionEmbeddings());
    return WordPieceTokenizer.truncate(tokenizer.encode(question, true), max, true);
  }
}
