package dev.fovea.vit.instructblip;

import dev.fovea.nn.Activation;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.io.JsonConfig;

/**
 * HF {@code InstructBlipQFormerConfig} (configuration_instructblip.py; spec models-formats.md 4.1):
 * a post-LN BERT whose layers with index % {@code cross_attention_frequency} == 0 also cross-attend
 * from the query positions to the image states. Missing keys take HF's class defaults (the
 * Salesforce/instructblip-vicuna-7b values).
 *
 * @param encoderHiddenSize width of the image states (1408 for EVA ViT-g)
 */
public record QFormerConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize, String hiddenAct,
    int maxPositionEmbeddings, double layerNormEps, int crossAttentionFrequency, int encoderHiddenSize, int padTokenId) {
  static final int MAX_HIDDEN = 16384;
  static final int MAX_LAYERS = 1024;
  static final int MAX_VOCAB = 1 << 22;

  public QFormerConfig {
    if (hiddenSize % numAttentionHeads != 0) {
      throw new TensorException("'qformer_config.hidden_size' " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
    }
    Activation.fromConfig(hiddenAct);
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  /** Whether layer {@code i} has a {@code crossattention} block (HF: {@code i % cross_attention_frequency == 0}). */
  public boolean hasCrossAttention(int i) {
    return i % crossAttentionFrequency == 0;
  }

  public Activation activation() {
    return Activation.fromConfig(hiddenAct);
  }

  /** Reads {@code qformer_config} ({@code c} is that object; its errors name the file and the dotted key). */
  public static QFormerConfig fromJson(JsonConfig c) {
    String act = c.string("hidden_act", "gelu");
    try {
      Activation.fromConfig(act);
    } catch (TensorException e) {
      throw c.error("hidden_act", e.getMessage());
    }
    int hidden = c.integer("hidden_size", 768, 1, MAX_HIDDEN);
    int heads = c.integer("num_attention_heads", 12, 1, MAX_HIDDEN);
    if (hidden % heads != 0) {
      throw c.error("hidden_size", hidden + " is not a multiple of num_attention_heads " + heads);
    }
    return new QFormerConfig(
        c.integer("vocab_size", 30523, 1, MAX_VOCAB),
        hidden,
        c.integer("num_hidden_layers", 12, 1, MAX_LAYERS),
        heads,
        c.integer("intermediate_size", 3072, 1, MAX_HIDDEN * 8),
        act,
        c.integer("max_position_embeddings", 512, 1, 1 << 16),
        c.positive("layer_norm_eps", 1e-12),
        c.integer("cross_attention_frequency", 2, 1, MAX_LAYERS),
        c.integer("encoder_hidden_size", 1408, 1, MAX_HIDDEN),
        c.integer("pad_token_id", 0, 0, MAX_VOCAB));
  }
}
