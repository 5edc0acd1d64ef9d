package dev.fovea.vit.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.fovea.nn.Activation;
import dev.fovea.nn.StateDict;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * HF {@code CLIPTextConfig}: the {@code text_config} of a CLIP config.json. Missing keys take HF's
 * class defaults (ViT-B/32's text tower; bos 49406, eos 49407, pad 1). Old OpenAI hub configs carry
 * {@code eos_token_id: 2}, which selects the legacy pooling rule (spec 1.5, {@link ClipTextTransformer}).
 * Sizes are checked against the limits of {@link ClipConfig} ({@link ClipConfig#MAX_LAYERS} and the others).
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
    vocabSize = ClipConfigException.size("vocab_size", vocabSize, 49408, ClipConfig.MAX_VOCAB);
    hiddenSize = ClipConfigException.size("hidden_size", hiddenSize, 512, ClipConfig.MAX_HIDDEN);
    intermediateSize = ClipConfigException.size("intermediate_size", intermediateSize, 2048, ClipConfig.MAX_INTERMEDIATE);
    numHiddenLayers = ClipConfigException.size("num_hidden_layers", numHiddenLayers, 12, ClipConfig.MAX_LAYERS);
    numAttentionHeads = ClipConfigException.size("num_attention_heads", numAttentionHeads, 8, ClipConfig.MAX_HEADS);
    maxPositionEmbeddings = ClipConfigException.size("max_position_embeddings", maxPositionEmbeddings, 77, ClipConfig.MAX_TEXT_POSITIONS);
    hiddenAct = hiddenAct == null ? "quick_gelu" : hiddenAct;
    layerNormEps = layerNormEps == null ? 1e-5 : layerNormEps;
    bosTokenId = bosTokenId == null ? 49406 : bosTokenId;
    eosTokenId = eosTokenId == null ? 49407 : eosTokenId;
    padTokenId = padTokenId == null ? 1 : padTokenId;
    projectionDim = ClipConfigException.size("projection_dim", projectionDim, 512, ClipConfig.MAX_PROJECTION);
    if (hiddenSize % numAttentionHeads != 0) {
      throw ClipConfigException.key("hidden_size", hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
    }
    if (!(layerNormEps > 0) || !Double.isFinite(layerNormEps)) {
      throw ClipConfigException.key("layer_norm_eps", "must be positive, found " + layerNormEps);
    }
    if (eosTokenId < 0 || eosTokenId >= vocabSize) {
      throw ClipConfigException.key("eos_token_id", eosTokenId + " is outside the vocabulary [0, " + vocabSize + ")");
    }
    try {
      Activation.fromConfig(hiddenAct);
    } catch (TensorException e) {
      throw ClipConfigException.key("hidden_act", ErrorList.abbreviate(e.getMessage(), ErrorList.ITEM_CHARS));
    }
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  public Activation activation() {
    return Activation.fromConfig(hiddenAct);
  }

  /** Reads the keys of a text config object; absent or null keys take HF's defaults. */
  public static ClipTextConfig fromJson(JsonConfig c) {
    return ClipConfig.construct(c, () -> new ClipTextConfig(
        c.integerOrNull("vocab_size", 1, ClipConfig.MAX_VOCAB),
        c.integerOrNull("hidden_size", 1, ClipConfig.MAX_HIDDEN),
        c.integerOrNull("intermediate_size", 1, ClipConfig.MAX_INTERMEDIATE),
        c.integerOrNull("num_hidden_layers", 1, ClipConfig.MAX_LAYERS),
        c.integerOrNull("num_attention_heads", 1, ClipConfig.MAX_HEADS),
        c.integerOrNull("max_position_embeddings", 1, ClipConfig.MAX_TEXT_POSITIONS),
        c.string("hidden_act", null),
        c.has("layer_norm_eps") ? c.number("layer_norm_eps", 1e-5) : null,
        c.integerOrNull("bos_token_id", Integer.MIN_VALUE, Integer.MAX_VALUE),
        c.integerOrNull("eos_token_id", Integer.MIN_VALUE, Integer.MAX_VALUE),
        c.integerOrNull("pad_token_id", Integer.MIN_VALUE, Integer.MAX_VALUE),
        c.integerOrNull("projection_dim", 1, ClipConfig.MAX_PROJECTION)));
  }

  /**
   * Where the text tower's tensors (under {@code prefix}, "text_model.") disagree with this config,
   * one line each, from the tensor list alone: the number of encoder layers, the token and position
   * embeddings, and layer 0's MLP. {@code keyPrefix} ("text_config.") names the config's keys.
   */
  public List<String> disagreements(WeightSource w, String prefix, String keyPrefix) {
    List<String> bad = new ArrayList<>();
    String of = keyPrefix.isEmpty() ? "" : " of " + keyPrefix.substring(0, keyPrefix.length() - 1);
    ClipConfig.add(bad, StateDict.countDisagreement(w, prefix + "encoder.layers.", keyPrefix + "num_hidden_layers", numHiddenLayers));
    String e = prefix + "embeddings.";
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, e + "token_embedding.weight", "[vocab_size, hidden_size]" + of, vocabSize, hiddenSize));
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, e + "position_embedding.weight", "[max_position_embeddings, hidden_size]" + of,
        maxPositionEmbeddings, hiddenSize));
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, prefix + "encoder.layers.0.mlp.fc1.weight", "[intermediate_size, hidden_size]" + of,
        intermediateSize, hiddenSize));
    return bad;
  }
}
