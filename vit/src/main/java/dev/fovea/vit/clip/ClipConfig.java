package dev.fovea.vit.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * HF {@code CLIPConfig} (configuration_clip.py): {@code projection_dim}, {@code
 * logit_scale_init_value} (only an init value: the trained scale is the {@code logit_scale} tensor),
 * {@code text_config} and {@code vision_config}. Old files may carry {@code text_config_dict} /
 * {@code vision_config_dict}; when present they override the plain dicts, as HF does.
 *
 * <p>Read with {@link #read(Path)} or {@link #parse(byte[], String)}; a bad value fails with a
 * {@link ClipConfigException} naming the file and the key ({@code text_config.hidden_size}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClipConfig(
    @JsonProperty("projection_dim") Integer projectionDim,
    @JsonProperty("logit_scale_init_value") Double logitScaleInitValue,
    @JsonProperty("text_config") ClipTextConfig textConfig,
    @JsonProperty("vision_config") ClipVisionConfig visionConfig,
    @JsonProperty("text_config_dict") ClipTextConfig textConfigDict,
    @JsonProperty("vision_config_dict") ClipVisionConfig visionConfigDict) {

  static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  public ClipConfig {
    projectionDim = ClipConfigException.positive("projection_dim", projectionDim, 512);
    logitScaleInitValue = logitScaleInitValue == null ? 2.6592 : logitScaleInitValue;
    if (textConfigDict != null) {
      textConfig = textConfigDict;
    }
    if (visionConfigDict != null) {
      visionConfig = visionConfigDict;
    }
    if (textConfig == null) {
      textConfig = defaults(ClipTextConfig.class);
    }
    if (visionConfig == null) {
      visionConfig = defaults(ClipVisionConfig.class);
    }
  }

  private static <T> T defaults(Class<T> type) {
    try {
      return JSON.readValue("{}", type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads a CLIP config.json. */
  public static ClipConfig read(Path configJson) {
    return parse(readBytes(configJson), configJson.toString());
  }

  /**
   * Parses config.json bytes; {@code source} names the file in errors. The file must be a CLIP
   * config: a {@code model_type} other than {@code clip} (or, without one, {@code architectures}
   * that name no CLIP class) is refused before any value is read, so that another model's folder
   * fails with one line saying what it is, not with a list of every tensor that does not match.
   */
  public static ClipConfig parse(byte[] json, String source) {
    JsonNode root = tree(json, source);
    String type = root.path("model_type").isTextual() ? root.get("model_type").asText() : null;
    if ("clip_vision_model".equals(type) || (!root.has("vision_config") && !root.has("vision_config_dict") && root.has("image_size"))) {
      throw new ClipConfigException(source + ": a vision-only CLIPVisionConfig (model_type "
          + (type == null ? "?" : type) + "); load it with ClipVisionModel, which has no text tower");
    }
    List<String> architectures = new ArrayList<>();
    root.path("architectures").forEach(a -> architectures.add(a.asText()));
    boolean clipClass = architectures.stream().anyMatch(a -> a.startsWith("CLIP"));
    if ((type != null && !type.equals("clip")) || (type == null && !architectures.isEmpty() && !clipClass)) {
      String family = type != null ? type : architectures.get(0);
      throw new ClipConfigException(source + ": this is a " + family + " model (model_type " + (type == null ? "absent" : "\"" + type + "\"")
          + (architectures.isEmpty() ? "" : ", architectures " + String.join(", ", architectures)) + "), not CLIP: a CLIP model"
          + " (zero-shot classification, text and image embeddings) needs a CLIP checkpoint (model_type \"clip\", architectures CLIPModel)");
    }
    return bind(root, ClipConfig.class, source);
  }

  static byte[] readBytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ClipConfigException(file + ": no such file (a CLIP model folder needs its config.json)", e);
    } catch (IOException e) {
      throw new ClipConfigException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  static JsonNode tree(byte[] json, String source) {
    try {
      JsonNode root = JSON.readTree(json);
      if (root == null || !root.isObject()) {
        throw new ClipConfigException(source + ": expected a JSON object");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new ClipConfigException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ClipConfigException(source + ": cannot read: " + e.getMessage(), e);
    }
  }

  /** Binds a JSON object to a config record; errors name the source and the dotted key. */
  static <T> T bind(JsonNode node, Class<T> type, String source) {
    try {
      return JSON.treeToValue(node, type);
    } catch (JsonMappingException e) {
      String keys = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining("."));
      Throwable c = e;
      while (c != null && !(c instanceof ClipConfigException)) {
        c = c.getCause();
      }
      if (c instanceof ClipConfigException ce && ce.key() != null) {
        String full = keys.isEmpty() ? ce.key() : keys + "." + ce.key();
        throw new ClipConfigException(source + ": '" + full + "' " + ce.problem(), e);
      }
      String what = c != null ? c.getMessage() : e.getOriginalMessage();
      throw new ClipConfigException(source + ": " + (keys.isEmpty() ? "" : "in '" + keys + "': ") + what, e);
    } catch (JsonProcessingException e) {
      throw new ClipConfigException(source + ": " + e.getOriginalMessage(), e);
    } catch (ClipConfigException e) {
      throw new ClipConfigException(source + ": " + e.getMessage(), e);
    }
  }
}
