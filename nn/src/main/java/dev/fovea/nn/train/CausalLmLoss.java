package dev.fovea.nn.train;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.ops.Losses;
import java.util.Arrays;

/**
 * The loss of Hugging Face's causal language models ({@code LlamaForCausalLM.forward(labels=...)},
 * {@code LlavaForConditionalGeneration}): labels are aligned with the input ids, -100 where a
 * position is not trained (prompt, image tokens, padding), and position t's logits predict label
 * t + 1. The mean cross-entropy is taken over every trained token of the batch.
 */
public final class CausalLmLoss {
  private CausalLmLoss() {}

  /** Hugging Face's label for positions that are not trained. */
  public static final int IGNORE = Losses.IGNORE_INDEX;

  /**
   * Mean cross-entropy of logits [B, T, V] (position t predicts token t + 1) against labels [B][T]
   * aligned with the inputs: the shift of HF's {@code logits[:, :-1]} against {@code labels[:, 1:]}.
   */
  public static Tensor loss(Tensor logits, int[][] labels) {
    if (logits.dim() != 3 || logits.size(0) != labels.length) {
      throw new ShapeException("causal LM loss: logits " + Arrays.toString(logits.shape()) + " must be [B, T, V] with B = " + labels.length
          + " rows of labels");
    }
    int b = logits.size(0);
    int t = logits.size(1);
    int[] targets = new int[b * t];
    for (int i = 0; i < b; i++) {
      if (labels[i].length != t) {
        throw new ShapeException("causal LM loss: row " + i + " has " + labels[i].length + " labels for " + t + " positions of logits");
      }
      for (int j = 0; j < t; j++) {
        targets[i * t + j] = j + 1 < t ? labels[i][j + 1] : IGNORE; // the last position predicts nothing
      }
    }
    return Ops.crossEntropy(logits, Tensor.ofInts(targets, b, t));
  }

  /** Labels for a prompt followed by an answer: -100 over the first {@code promptLength} positions, the ids after. */
  public static int[] answerLabels(int[] ids, int promptLength) {
    if (promptLength < 0 || promptLength > ids.length) {
      throw new TrainException("prompt length " + promptLength + " outside the " + ids.length + " ids");
    }
    int[] labels = ids.clone();
    Arrays.fill(labels, 0, promptLength, IGNORE);
    return labels;
  }
}
