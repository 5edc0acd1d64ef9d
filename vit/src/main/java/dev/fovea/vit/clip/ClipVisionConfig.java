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
 * HF {@code CLIPVisionConfig}: the {@code vision_config} of a CLIP config.json, or the whole file of
 * a vision-only folder ({@code model_type: clip_vision_model}, as LLaVA's vision towers carry).
 * Missing keys take HF's class defaults (ViT-B/32); every size is validated here, against the
 * limits of {@link ClipConfig} ({@link ClipConfig#MAX_LAYERS} and the others).
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
    hiddenSize = ClipConfigException.size("hidden_size", hiddenSize, 768, ClipConfig.MAX_HIDDEN);
    intermediateSize = ClipConfigException.size("intermediate_size", intermediateSize, 3072, ClipConfig.MAX_INTERMEDIATE);
    numHiddenLayers = ClipConfigException.size("num_hidden_layers", numHiddenLayers, 12, ClipConfig.MAX_LAYERS);
    numAttentionHeads = ClipConfigException.size("num_attention_heads", numAttentionHeads, 12, ClipConfig.MAX_HEADS);
    numChannels = ClipConfigException.size("num_channels", numChannels, 3, ClipConfig.MAX_CHANNELS);
    imageSize = ClipConfigException.size("image_size", imageSize, 224, ClipConfig.MAX_IMAGE_SIZE);
    patchSize = ClipConfigException.size("patch_size", patchSize, 32, ClipConfig.MAX_IMAGE_SIZE);
    hiddenAct = hiddenAct == null ? "quick_gelu" : hiddenAct;
    layerNormEps = layerNormEps == null ? 1e-5 : layerNormEps;
    projectionDim = ClipConfigException.size("projection_dim", projectionDim, 512, ClipConfig.MAX_PROJECTION);
    if (hiddenSize % numAttentionHeads != 0) {
      throw ClipConfigException.key("hidden_size", hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
    }
    if (imageSize % patchSize != 0) {
      throw ClipConfigException.key("image_size", imageSize + " is not a multiple of patch_size " + patchSize);
    }
    if (!(layerNormEps > 0) || !Double.isFinite(layerNormEps)) {
      throw ClipConfigException.key("layer_norm_eps", "must be positive, found " + layerNormEps);
    }
    try {
      Activation.fromConfig(hiddenAct);
    } catch (TensorException e) {
      throw ClipConfigException.key("hidden_act", ErrorList.abbreviate(e.getMessage(), ErrorList.ITEM_CHARS));
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
    return fromRoot(JsonConfig.of(ClipConfig.tree(json, source), source, ClipConfigException::new));
  }

  /** As {@link #parse}, over a parsed file (whose reader decides the exception type). */
  public static ClipVisionConfig fromRoot(JsonConfig root) {
    for (String key : new String[] {"vision_config_dict", "vision_config"}) {
      if (root.has(key)) {
        return fromJson(root.object(key));
      }
    }
    return fromJson(root);
  }

  /** Reads the keys of a vision config object; absent or null keys take HF's defaults. */
  public static ClipVisionConfig fromJson(JsonConfig c) {
    return ClipConfig.construct(c, () -> new ClipVisionConfig(
        c.integerOrNull("hidden_size", 1, ClipConfig.MAX_HIDDEN),
        c.integerOrNull("intermediate_size", 1, ClipConfig.MAX_INTERMEDIATE),
        c.integerOrNull("num_hidden_layers", 1, ClipConfig.MAX_LAYERS),
        c.integerOrNull("num_attention_heads", 1, ClipConfig.MAX_HEADS),
        c.integerOrNull("num_channels", 1, ClipConfig.MAX_CHANNELS),
        c.integerOrNull("image_size", 1, ClipConfig.MAX_IMAGE_SIZE),
        c.integerOrNull("patch_size", 1, ClipConfig.MAX_IMAGE_SIZE),
        c.string("hidden_act", null),
        c.has("layer_norm_eps") ? c.number("layer_norm_eps", 1e-5) : null,
        c.integerOrNull("projection_dim", 1, ClipConfig.MAX_PROJECTION)));
  }

  public static ClipVisionConfig read(java.nio.file.Path configJson) {
    return parse(ClipConfig.readBytes(configJson), configJson.toString());
  }

  /**
   * Where the tower's tensors ({@code prefix} = "vision_model." or LLaVA's
   * "vision_tower.vision_model.") disagree with this config, one line each, from the tensor list
   * alone: the number of encoder layers, the patch, class and position embeddings, and layer 0's
   * MLP. {@code keyPrefix} ("vision_config." or "") names the config's keys. A missing tensor is left
   * to the strict load.
   */
  public List<String> disagreements(WeightSource w, String prefix, String keyPrefix) {
    List<String> bad = new ArrayList<>();
    String of = keyPrefix.isEmpty() ? "" : " of " + keyPrefix.substring(0, keyPrefix.length() - 1);
    ClipConfig.add(bad, StateDict.countDisagreement(w, prefix + "encoder.layers.", keyPrefix + "num_hidden_layers", numHiddenLayers));
    String e = prefix + "embeddings.";
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, e + "patch_embedding.weight", "[hidden_size, num_channels, patch_size, patch_size]" + of,
        hiddenSize, numChannels, patchSize, patchSize));
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, e + "class_embedding", "[hidden_size]" + of, hiddenSize));
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, e + "position_embedding.weight", "[(image_size / patch_size)^2 + 1, hidden_size]" + of,
        numPositions(), hiddenSize));
    ClipConfig.add(bad, StateDict.shapeDisagreement(w, prefix + "encoder.layers.0.mlp.fc1.weight", "[intermediate_size, hidden_size]" + of,
        intermediateSize, hiddenSize));
    return bad;
  }
}
