package dev.fovea.llm.llava;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.tensor.TensorException;
import dev.fovea.vit.clip.ClipVisionConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * HF {@code LlavaConfig} (transformers configuration_llava.py; spec models-formats.md 2.1), read
 * from a llava-hf {@code config.json}.
 *
 * @param visionConfig {@code vision_config} (CLIP vision tower; missing keys take CLIP's defaults)
 * @param textConfig {@code text_config} (LLaMA; missing keys take HF {@code LlamaConfig}'s class
 *     defaults, since the llava-hf files list only what differs from them)
 * @param imageTokenIndex {@code image_token_index} (alias {@code image_token_id}), default 32000
 * @param visionFeatureLayer {@code vision_feature_layer}, an index into the tower's hidden states
 *     (negative counts from the end), default −2; a list (newer multi-layer configs) is rejected
 * @param visionFeatureSelectStrategy {@code "default"} (drop CLS) or {@code "full"}
 * @param projectorHiddenAct {@code projector_hidden_act}, "gelu" (exact erf)
 * @param imageSeqLength {@code image_seq_length}: tokens per image (patches, +1 with "full")
 * @param padTokenId {@code pad_token_id}, or −1
 * @param multimodalProjectorBias {@code multimodal_projector_bias}, default true
 * @param origin the file, for error messages
 */
public record LlavaConfig(
    ClipVisionConfig visionConfig,
    LlamaConfig textConfig,
    int imageTokenIndex,
    int visionFeatureLayer,
    String visionFeatureSelectStrategy,
    String projectorHiddenAct,
    int imageSeqLength,
    int padTokenId,
    boolean multimodalProjectorBias,
    String origin) {

  /** HF LlamaConfig's class defaults, for keys llava-hf's text_config leaves out. */
  private static final Map<String, Object> LLAMA_DEFAULTS = Map.of("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 11008,
      "num_hidden_layers", 32, "num_attention_heads", 32, "max_position_embeddings", 2048, "rms_norm_eps", 1e-6, "rope_theta", 10000.0,
      "bos_token_id", 1, "eos_token_id", 2);

  public LlavaConfig {
    int layers = visionConfig.numHiddenLayers();
    if (visionFeatureLayer < -(layers + 1) || visionFeatureLayer > layers) {
      throw new LlavaException(origin + ": vision_feature_layer " + visionFeatureLayer + " is outside the " + (layers + 1)
          + " hidden states of the vision tower (embeddings + " + layers + " layers)");
    }
    if (!visionFeatureSelectStrategy.equals("default") && !visionFeatureSelectStrategy.equals("full")) {
      throw new LlavaException(origin + ": vision_feature_select_strategy \"" + visionFeatureSelectStrategy + "\" is neither \"default\" nor \"full\"");
    }
    if (!projectorHiddenAct.equals("gelu")) {
      throw new LlavaException(origin + ": projector_hidden_act \"" + projectorHiddenAct + "\" is not supported (LLaVA-1.5 uses \"gelu\")");
    }
    // image_token_index may lie outside the vocabulary (GGUF pairs keep LLaMA's 32000 rows): image
    // positions are never embedded, their rows come from the projector.
    int expected = featureTokens(visionConfig, visionFeatureSelectStrategy);
    if (imageSeqLength != expected) {
      throw new LlavaException(origin + ": image_seq_length " + imageSeqLength + " disagrees with the vision tower, which gives " + expected
          + " tokens per image (" + visionConfig.gridSize() + "^2 patches" + (visionFeatureSelectStrategy.equals("full") ? " + CLS" : "") + ")");
    }
  }

  private static int featureTokens(ClipVisionConfig v, String strategy) {
    return v.gridSize() * v.gridSize() + (strategy.equals("full") ? 1 : 0);
  }

  /** The index into {@code hidden_states} (length layers + 1) that feeds the projector. */
  public int featureHiddenStateIndex() {
    int n = visionConfig.numHiddenLayers() + 1;
    return visionFeatureLayer < 0 ? n + visionFeatureLayer : visionFeatureLayer;
  }

  public static LlavaConfig read(Path configJson) {
    try {
      return fromJson(Files.readAllBytes(configJson), configJson.toString());
    } catch (IOException e) {
      throw new LlavaException(configJson + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Parses a llava-hf config.json; {@code origin} names it in errors. */
  public static LlavaConfig fromJson(byte[] json, String origin) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(json);
    } catch (IOException e) {
      throw new LlavaException(origin + ": not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new LlavaException(origin + ": not a JSON object");
    }
    String type = root.path("model_type").asText("llava");
    if (!type.equals("llava")) {
      String hint = LlavaOriginal.isOriginal(root) ? " (an original haotian-liu checkpoint: open its folder with LlavaForConditionalGeneration.load)" : "";
      throw new LlavaException(origin + ": model_type is \"" + type + "\", expected \"llava\"" + hint);
    }
    if (LlavaOriginal.isOriginal(root)) {
      throw new LlavaException(origin + ": an original haotian-liu LLaVA config (mm_vision_tower \"" + root.path("mm_vision_tower").asText()
          + "\"): open its folder with LlavaForConditionalGeneration.load(folder, visionTower) (fovea: --model DIR [--vision-tower DIR]),"
          + " which reads the CLIP tower beside it");
    }
    if (!root.path("vision_config").isObject() || !root.path("text_config").isObject()) {
      throw new LlavaException(origin + ": a LLaVA config needs the objects vision_config and text_config");
    }
    ClipVisionConfig vision;
    try {
      vision = ClipVisionConfig.parse(json, origin);
    } catch (TensorException e) {
      throw new LlavaException(origin + " (vision_config): " + e.getMessage(), e);
    }
    ObjectNode text = ((ObjectNode) root.get("text_config")).deepCopy();
    LLAMA_DEFAULTS.forEach((k, v) -> {
      if (!text.hasNonNull(k)) {
        text.set(k, new ObjectMapper().valueToTree(v));
      }
    });
    if (!text.has("model_type")) {
      text.put("model_type", "llama");
    }
    if (!text.has("tie_word_embeddings") && root.has("tie_word_embeddings")) {
      text.set("tie_word_embeddings", root.get("tie_word_embeddings"));
    }
    LlamaConfig textConfig = LlamaConfig.fromJson(text, origin + " (text_config)");

    JsonNode layer = root.path("vision_feature_layer");
    if (layer.isArray()) {
      throw new LlavaException(origin + ": vision_feature_layer is a list " + layer + "; only a single layer (LLaVA-1.5: -2) is supported");
    }
    int featureLayer = layer.isMissingNode() || layer.isNull() ? -2 : layer.asInt();
    String strategy = root.path("vision_feature_select_strategy").asText("default");
    int imageToken = root.has("image_token_index") ? root.get("image_token_index").asInt()
        : root.has("image_token_id") ? root.get("image_token_id").asInt() : 32000;
    int seq = root.has("image_seq_length") ? root.get("image_seq_length").asInt() : featureTokens(vision, strategy);
    return new LlavaConfig(vision, textConfig, imageToken, featureLayer, strategy, root.path("projector_hidden_act").asText("gelu"), seq,
        root.path("pad_token_id").asInt(-1), root.path("multimodal_projector_bias").asBoolean(true), origin);
  }
}
