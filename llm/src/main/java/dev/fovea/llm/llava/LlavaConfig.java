package dev.fovea.llm.llava;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.llm.llama.LlamaException;
import dev.fovea.nn.StateDict;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.vit.clip.ClipVisionConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HF {@code LlavaConfig} (transformers configuration_llava.py; spec models-formats.md 2.1), read
 * from a llava-hf {@code config.json}. Every key's JSON type and range is checked as for the
 * towers' own configs ({@link JsonConfig}, {@link LlamaConfig}'s and {@link ClipVisionConfig}'s
 * limits); errors name the file and the dotted key ({@code 'text_config.hidden_size'}).
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
    return fromJson(JsonConfig.read(configJson, LlavaException::new), configJson.toString());
  }

  /** Parses a llava-hf config.json; {@code origin} names it in errors. */
  public static LlavaConfig fromJson(byte[] json, String origin) {
    return fromJson(JsonConfig.parse(json, origin, LlavaException::new), origin);
  }

  /** Reads a parsed llava-hf config.json; {@code origin} names it in errors. */
  public static LlavaConfig fromJson(JsonNode parsed, String origin) {
    JsonConfig root = JsonConfig.of(parsed, origin, LlavaException::new);
    String type = root.string("model_type", "llava");
    if (!type.equals("llava")) {
      String hint = LlavaOriginal.isOriginal(parsed) ? " (an original haotian-liu checkpoint: open its folder with LlavaForConditionalGeneration.load)" : "";
      throw new LlavaException(origin + ": model_type is \"" + ErrorList.abbreviate(type, 40) + "\", expected \"llava\"" + hint);
    }
    if (LlavaOriginal.isOriginal(parsed)) {
      throw new LlavaException(origin + ": an original haotian-liu LLaVA config (mm_vision_tower " + JsonConfig.show(parsed.path("mm_vision_tower"))
          + "): open its folder with LlavaForConditionalGeneration.load(folder, visionTower) (fovea: --model DIR [--vision-tower DIR]),"
          + " which reads the CLIP tower beside it");
    }
    if (!parsed.path("vision_config").isObject() || !parsed.path("text_config").isObject()) {
      throw new LlavaException(origin + ": a LLaVA config needs the objects vision_config and text_config");
    }
    ClipVisionConfig vision = ClipVisionConfig.fromRoot(root); // errors are LlavaExceptions naming 'vision_config.<key>'
    JsonConfig textKeys = root.object("text_config");
    ObjectNode text = ((ObjectNode) textKeys.node()).deepCopy();
    LLAMA_DEFAULTS.forEach((k, v) -> {
      if (!text.hasNonNull(k)) {
        text.set(k, new ObjectMapper().valueToTree(v));
      }
    });
    if (!text.has("model_type")) {
      text.put("model_type", "llama");
    }
    if (!text.has("tie_word_embeddings") && root.has("tie_word_embeddings")) {
      text.put("tie_word_embeddings", root.bool("tie_word_embeddings", false));
    }
    LlamaConfig textConfig;
    try {
      textConfig = LlamaConfig.fromJson(textKeys.with(text));
    } catch (LlamaException e) {
      throw new LlavaException(e.getMessage(), e);
    }

    JsonNode layer = parsed.path("vision_feature_layer");
    if (layer.isArray()) {
      throw new LlavaException(origin + ": vision_feature_layer is a list " + JsonConfig.show(layer) + "; only a single layer (LLaVA-1.5: -2) is supported");
    }
    int featureLayer = root.integer("vision_feature_layer", -2, Integer.MIN_VALUE, Integer.MAX_VALUE);
    String strategy = root.string("vision_feature_select_strategy", "default");
    int imageToken = root.has("image_token_index") ? root.integer("image_token_index", Integer.MIN_VALUE, Integer.MAX_VALUE)
        : root.integer("image_token_id", 32000, Integer.MIN_VALUE, Integer.MAX_VALUE);
    // the strategy is checked by the constructor; an unknown one counts no CLS here
    int seq = root.integer("image_seq_length", featureTokens(vision, strategy), 1, Integer.MAX_VALUE);
    return new LlavaConfig(vision, textConfig, imageToken, featureLayer, ErrorList.abbreviate(strategy, 40), ErrorList.abbreviate(root.string(
        "projector_hidden_act", "gelu"), 40), seq, root.integer("pad_token_id", -1, Integer.MIN_VALUE, Integer.MAX_VALUE),
        root.bool("multimodal_projector_bias", true), origin);
  }

  /**
   * Where the checkpoint's tensors (llava-hf's old names) disagree with this config, one line each,
   * from the tensor list alone, so that a loader can refuse before building any module: the vision
   * tower ({@link ClipVisionConfig#disagreements}), the decoder ({@link LlamaConfig#disagreements}) and
   * the projector [C, Dv], [C, C].
   */
  public List<String> disagreements(WeightSource w) {
    List<String> bad = new ArrayList<>(visionConfig.disagreements(w, "vision_tower.vision_model.", "vision_config."));
    bad.addAll(textConfig.disagreements(w, "language_model.", "text_config."));
    int c = textConfig.hiddenSize();
    for (String d : new String[] {
        StateDict.shapeDisagreement(w, "multi_modal_projector.linear_1.weight", "[text_config.hidden_size, vision_config.hidden_size]", c,
            visionConfig.hiddenSize()),
        StateDict.shapeDisagreement(w, "multi_modal_projector.linear_2.weight", "[text_config.hidden_size, text_config.hidden_size]", c, c)}) {
      if (d != null) {
        bad.add(d);
      }
    }
    return bad;
  }
}
