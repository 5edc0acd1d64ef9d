package dev.fovea.vit.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.fovea.nn.Activation;
import dev.fovea.tensor.TensorException;

/**
 * HF {@code CLIPVisionConfig}: the {@code vision_config} of a CLIP config.json, or the whole file of
 * a vision-only folder ({@code model_type: clip_vision_model}, as LLaVA's vision towers carry).
 * Missing keys take HF's class defaults (ViT-B/32); every size is validated here.
 *
 * <p>Derived sizes: {@link #headDim()}, {@link #gridSize()}, {@link #numPositions()} (patches + CLS).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClipVisionConfig(
    @JsonProperty("hidden_size") Integer hiddenSize,
    @JsonProperty("intermediate_size") Integer intermediateSize,
    @JsonProperty("num_hidden_layers") Integer numHiddenLayers,
    @JsonProperty("num_attention_heads") Integer numAttentionHeads,
    @JsonProperty("num_channels") Integer numChannels,
    @JsonProperty("image_size") Integer imageSize,
    @JsonProperty("patch_size") Integer patchSize,
    @JsonProperty("hidden_act") String hiddenAct,
    @JsonProperty("layer_norm_eps") Double layerNormEps,
    @JsonProperty("projection_dim") Integer projectionDim) {

  public ClipVisionConfig {
    hiddenSize = ClipConfigException.positive("hidden_size", hiddenSize, 768);
    intermediateSize = ClipConfigException.positive("intermediate_size", intermediateSize, 3072);
    numHiddenLayers = ClipConfigException.positive("num_hidden_layers", numHiddenLayers, 12);
    numAttentionHeads = ClipConfigException.positive("num_attention_heads", numAttentionHeads, 12);
    numChannels = ClipConfigException.positive("num_channels", numChannels, 3);
    imageSize = ClipConfigException.positive("image_size", imageSize, 224);
    patchSize = ClipConfigException.positive("patch_size", patchSize, 32);
    hiddenAct = hiddenAct == null ? "quick_gelu" : hiddenAct;
    layerNormEps = layerNormEps == null ? 1e-5 : layerNormEps;
    projectionDim = ClipConfigException.positive("projection_dim", projectionDim, 512);
    if (hiddenSize % numAttentionHeads != 0) {
      throw ClipConfigException.key("hidden_size", hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
    }
    if (imageSize % patchSize != 0) {
      throw ClipConfigException.key("image_size", imageSize + " is not a multiple of patch_size " + patchSize);
    }
    if (!(layerNormEps > 0)) {
      throw ClipConfigException.key("layer_norm_eps", "must be positive, found " + layerNormEps);
    }
    try {
      Activation.fromConfig(hiddenAct);
    } catch (TensorException e) {
      throw ClipConfigException.key("hidden_act", e.getMessage());
    }
  }

  /** D / H. */
  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  /** Patches per side at the checkpoint's image size. */
  public int gridSize() {
    return imageSize / patchSize;
  }

  /** Rows of the position table: grid^2 + 1 (the CLS position is row 0). */
  public int numPositions() {
    return gridSize() * gridSize() + 1;
  }

  public Activation activation() {
    return Activation.fromConfig(hiddenAct);
  }

  /**
   * The vision config of a config.json: its {@code vision_config} (CLIP, LLaVA) or
   * {@code vision_config_dict} (old CLIP files), or the whole file when it is a vision-only
   * {@code CLIPVisionConfig}. {@code source} names the file in errors.
   */
  public static ClipVisionConfig parse(byte[] json, String source) {
    com.fasterxml.jackson.databind.JsonNode root = ClipConfig.tree(json, source);
    for (String key : new String[] {"vision_config_dict", "vision_config"}) {
      if (root.hasNonNull(key)) {
        return ClipConfig.bind(root.get(key), ClipVisionConfig.class, source + " (" + key + ")");
      }
    }
    return ClipConfig.bind(root, ClipVisionConfig.class, source);
  }

  public static ClipVisionConfig read(java.nio.file.Path configJson) {
    return parse(ClipConfig.readBytes(configJson), configJson.toString());
  }
}
