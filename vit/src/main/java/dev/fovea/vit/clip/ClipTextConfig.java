package dev.fovea.vit.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.fovea.nn.Activation;
import dev.fovea.tensor.TensorException;

/**
 * HF {@code CLIPTextConfig}: the {@code text_config} of a CLIP config.json. Missing keys take HF's
 * class defaults (ViT-B/32's text tower; bos 49406, eos 49407, pad 1). Old OpenAI hub configs carry
 * {@code eos_token_id: 2}, which selects the legacy pooling rule (spec 1.5, {@link ClipTextTransformer}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClipTextConfig(
    @JsonProperty("vocab_size") Integer vocabSize,
    @JsonProperty("hidden_size") Integer hiddenSize,
    @JsonProperty("intermediate_size") Integer intermediateSize,
    @JsonProperty("num_hidden_layers") Integer numHiddenLayers,
    @JsonProperty("num_attention_heads") Integer numAttentionHeads,
    @JsonProperty("max_position_embeddings") Integer maxPositionEmbeddings,
    @JsonProperty("hidden_act") String hiddenAct,
    @JsonProperty("layer_norm_eps") Double layerNormEps,
    @JsonProperty("bos_token_id") Integer bosTokenId,
    @JsonProperty("eos_token_id") Integer eosTokenId,
    @JsonProperty("pad_token_id") Integer padTokenId,
    @JsonProperty("projection_dim") Integer projectionDim) {

  public ClipTextConfig {
    vocabSize = ClipConfigException.positive("vocab_size", vocabSize, 49408);
    hiddenSize = ClipConfigException.positive("hidden_size", hiddenSize, 512);
    intermediateSize = ClipConfigException.positive("intermediate_size", intermediateSize, 2048);
    numHiddenLayers = ClipConfigException.positive("num_hidden_layers", numHiddenLayers, 12);
    numAttentionHeads = ClipConfigException.positive("num_attention_heads", numAttentionHeads, 8);
    maxPositionEmbeddings = ClipConfigException.positive("max_position_embeddings", maxPositionEmbeddings, 77);
    hiddenAct = hiddenAct == null ? "quick_gelu" : hiddenAct;
    layerNormEps = layerNormEps == null ? 1e-5 : layerNormEps;
    bosTokenId = bosTokenId == null ? 49406 : bosTokenId;
    eosTokenId = eosTokenId == null ? 49407 : eosTokenId;
    padTokenId = padTokenId == null ? 1 : padTokenId;
    projectionDim = ClipConfigException.positive("projection_dim", projectionDim, 512);
    if (hiddenSize % numAttentionHeads != 0) {
      throw ClipConfigException.key("hidden_size", hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
    }
    if (!(layerNormEps > 0)) {
      throw ClipConfigException.key("layer_norm_eps", "must be positive, found " + layerNormEps);
    }
    if (eosTokenId < 0 || eosTokenId >= vocabSize) {
      throw ClipConfigException.key("eos_token_id", eosTokenId + " is outside the vocabulary [0, " + vocabSize + ")");
    }
    try {
      Activation.fromConfig(hiddenAct);
    } catch (TensorException e) {
      throw ClipConfigException.key("hidden_act", e.getMessage());
    }
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  public Activation activation() {
    return Activation.fromConfig(hiddenAct);
  }
}
