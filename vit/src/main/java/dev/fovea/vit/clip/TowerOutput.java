package dev.fovea.vit.clip;

import dev.fovea.tensor.Tensor;
import java.util.List;

/**
 * One tower's forward (HF {@code BaseModelOutputWithPooling}). Shapes: B batch, T tokens, C width,
 * H heads, L layers.
 *
 * @param lastHiddenState [B, T, C]: vision: the last layer's output (not normed); text: after
 *     {@code final_layer_norm}
 * @param pooled [B, C]: vision: {@code post_layernorm} of the CLS row; text: the EOS row
 * @param hiddenStates L + 1 tensors [B, T, C] (index 0: the embeddings, after {@code pre_layrnorm}
 *     for vision; index k: output of layer k), or empty when not requested
 * @param attentions L tensors [B, H, T, T], the probabilities that multiplied V, or empty
 */
public record TowerOutput(Tensor lastHiddenState, Tensor pooled, List<Tensor> hiddenStates, List<Tensor> attentions) {}
