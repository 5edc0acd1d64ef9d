package dev.fovea.llm.instructblip;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.llm.llama.LlamaException;
import dev.fovea.nn.StateDict;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.vit.blip.BlipConfig;
import dev.fovea.vit.instructblip.QFormerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HF {@code InstructBlipConfig} (configuration_instructblip.py; spec models-formats.md 4.1) read
 * from a Salesforce/instructblip-* {@code config.json}: {@code vision_config} (EVA ViT-g; the
 * structure of BLIP's ViT, so it is a {@link BlipConfig.Vision}), {@code qformer_config}, {@code
 * text_config} (LLaMA) and {@code num_query_tokens}. Missing keys take HF's class defaults; errors
 * name the file and the dotted key.
 *
 * @param imageTokenIndex {@code image_token_index} of newer configs (the processor's 32 {@code
 *     <image>} placeholders), or -1 (older configs: the queries go before the prompt)
 */
public record InstructBlipConfig(BlipConfig.Vision visionConfig, QFormerConfig qformerConfig, LlamaConfig textConfig, int numQueryTokens,
    int imageTokenIndex, String origin) {

  /** HF LlamaConfig's class defaults, for keys the text_config leaves out. */
  private static final Map<String, Object> LLAMA_DEFAULTS = Map.of("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 11008,
      "num_hidden_layers", 32, "num_attention_heads", 32, "max_position_embeddings", 2048, "rms_norm_eps", 1e-6, "rope_theta", 10000.0,
      "bos_token_id", 1, "eos_token_id", 2);

  public InstructBlipConfig {
    if (qformerConfig.encoderHiddenSize() != visionConfig.hiddenSize()) {
      throw new InstructBlipException(origin + ": qformer_config.encoder_hidden_size " + qformerConfig.encoderHiddenSize()
          + " differs from vision_config.hidden_size " + visionConfig.hiddenSize() + " (the Q-Former cross-attends to the vision states)");
    }
  }

  /** Parses config.json's bytes; {@code origin} names the file in errors. */
  public static InstructBlipConfig fromJson(byte[] json, String origin) {
    JsonNode parsed = JsonConfig.parse(json, origin, InstructBlipException::new);
    JsonConfig root = JsonConfig.of(parsed, origin, InstructBlipException::new);
    String type = root.string("model_type", "instructblip");
    if (!type.equals("instructblip")) {
      throw new InstructBlipException(origin + ": model_type is \"" + ErrorList.abbreviate(type, 40) + "\", expected \"instructblip\"");
    }
    for (String key : new String[] {"vision_config", "qformer_config", "text_config"}) {
      if (!parsed.path(key).isObject()) {
        throw new InstructBlipException(origin + ": an InstructBLIP config needs the object " + key);
      }
    }
    if (!root.bool("use_decoder_only_language_model", true)) {
      throw new InstructBlipException(origin + ": use_decoder_only_language_model is false (a Flan-T5 InstructBLIP); only the Vicuna (LLaMA) models are supported");
    }
    JsonConfig v = root.object("vision_config");
    BlipConfig.Vision vision;
    QFormerConfig qformer;
    try {
      if (!v.bool("qkv_bias", true)) {
        throw v.error("qkv_bias", "false is not supported (EVA ViT-g has q and v biases)");
      }
      String act = v.string("hidden_act", "gelu");
      try {
        dev.fovea.nn.Activation.fromConfig(act);
      } catch (TensorException e) {
        throw v.error("hidden_act", e.getMessage());
      }
      int hidden = v.integer("hidden_size", 1408, 1, 16384);
      int heads = v.integer("num_attention_heads", 16, 1, 1024);
      int image = v.integer("image_size", 224, 1, 8192);
      int patch = v.integer("patch_size", 14, 1, 8192);
      if (hidden % heads != 0) {
        throw v.error("hidden_size", hidden + " is not a multiple of num_attention_heads " + heads);
      }
      if (image % patch != 0) {
        throw v.error("image_size", image + " is not a multiple of patch_size " + patch);
      }
      vision = new BlipConfig.Vision(hidden, v.integer("intermediate_size", 6144, 1, 16384 * 8), v.integer("num_hidden_layers", 39, 1,
          BlipConfig.MAX_LAYERS), heads, image, patch, v.positive("layer_norm_eps", 1e-6), act);
      qformer = QFormerConfig.fromJson(root.object("qformer_config"));
    } catch (InstructBlipException e) {
      throw e;
    } catch (TensorException e) {
      throw new InstructBlipException(origin + ": " + e.getMessage(), e);
    }
    JsonConfig textKeys = root.object("text_config");
    ObjectNode text = ((ObjectNode) textKeys.node()).deepCopy();
    LLAMA_DEFAULTS.forEach((k, val) -> {
      if (!text.hasNonNull(k)) {
        text.set(k, new ObjectMapper().valueToTree(val));
      }
    });
    if (!text.has("model_type")) {
      text.put("model_type", "llama");
    }
    LlamaConfig textConfig;
    try {
      textConfig = LlamaConfig.fromJson(textKeys.with(text));
    } catch (LlamaException e) {
      throw new InstructBlipException(e.getMessage(), e);
    }
    int queries = root.integer("num_query_tokens", 32, 1, 4096);
    int imageToken = root.has("image_token_index") ? root.integer("image_token_index", -1, Integer.MAX_VALUE) : -1;
    return new InstructBlipConfig(vision, qformer, textConfig, queries, imageToken, origin);
  }

  /** Where the checkpoint's tensors (HF names) disagree with this config, one line each, before any module is built. */
  public List<String> disagreements(WeightSource w) {
    List<String> bad = new ArrayList<>();
    String layers = StateDict.countDisagreement(w, "vision_model.encoder.layers.", "vision_config.num_hidden_layers", visionConfig.numHiddenLayers());
    if (layers != null) {
      bad.add(layers);
    }
    String qlayers = StateDict.countDisagreement(w, "qformer.encoder.layer.", "qformer_config.num_hidden_layers", qformerConfig.numHiddenLayers());
    if (qlayers != null) {
      bad.add(qlayers);
    }
    bad.addAll(textConfig.disagreements(w, "language_model.", "text_config."));
    int dv = visionConfig.hiddenSize();
    int hq = qformerConfig.hiddenSize();
    for (String d : new String[] {
        StateDict.shapeDisagreement(w, "vision_model.embeddings.position_embedding", "[1, (image_size / patch_size)^2 + 1, hidden_size] of vision_config",
            1, visionConfig.numPositions(), dv),
        StateDict.shapeDisagreement(w, "vision_model.embeddings.patch_embedding.weight", "[hidden_size, 3, patch_size, patch_size] of vision_config", dv, 3,
            visionConfig.patchSize(), visionConfig.patchSize()),
        StateDict.shapeDisagreement(w, "query_tokens", "[1, num_query_tokens, qformer_config.hidden_size]", 1, numQueryTokens, hq),
        StateDict.shapeDisagreement(w, "qformer.embeddings.word_embeddings.weight", "[vocab_size, hidden_size] of qformer_config",
            qformerConfig.vocabSize(), hq),
        StateDict.shapeDisagreement(w, "language_projection.weight", "[text_config.hidden_size, qformer_config.hidden_size]",
            textConfig.hiddenSize(), hq)}) {
      if (d != null) {
        bad.add(d);
      }
    }
    return bad;
  }
}
