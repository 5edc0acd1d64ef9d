package dev.fovea.vit.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.fovea.nn.StateDict;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * HF {@code CLIPConfig} (configuration_clip.py): {@code projection_dim}, {@code
 * logit_scale_init_value} (only an init value: the trained scale is the {@code logit_scale} tensor),
 * {@code text_config} and {@code vision_config}. Old files may carry {@code text_config_dict} /
 * {@code vision_config_dict}; when present they override the plain dicts, as HF does.
 *
 * <p>Read with {@link #read(Path)} or {@link #parse(byte[], String)}; a bad value fails with a
 * {@link ClipConfigException} naming the file and the key ({@code text_config.hidden_size}). Every
 * key's JSON type is checked ({@link JsonConfig}: 64.5, "64" or 1e12 for an integer are refused,
 * absent or null keys take HF's defaults, unknown keys are ignored), and every size has a ceiling
 * ({@link #MAX_LAYERS} and the others below): each is many times the largest published CLIP
 * (ViT-bigG/14: 48 layers, width 1664, MLP 8192, 16 heads; 896-pixel inputs), so no real checkpoint
 * reaches one, while a hostile config cannot make the loader build a million layers or overflow
 * the patch grid. {@link #disagreements} then compares the config with the checkpoint's tensor list
 * before any module is built.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ClipConfig(
    @JsonProperty("projection_dim") Integer projectionDim,
    @JsonProperty("logit_scale_init_value") Double logitScaleInitValue,
    @JsonProperty("text_config") ClipTextConfig textConfig,
    @JsonProperty("vision_config") ClipVisionConfig visionConfig,
    @JsonProperty("text_config_dict") ClipTextConfig textConfigDict,
    @JsonProperty("vision_config_dict") ClipVisionConfig visionConfigDict) {

  /** Most encoder layers per tower (bigG: 48). */
  public static final int MAX_LAYERS = 1024;
  /** Widest tower (bigG: 1664). */
  public static final int MAX_HIDDEN = 65_536;
  /** Widest MLP (bigG: 8192). */
  public static final int MAX_INTERMEDIATE = 262_144;
  /** Most attention heads (bigG: 16). */
  public static final int MAX_HEADS = 1024;
  /** Widest projection (bigG: 1280). */
  public static final int MAX_PROJECTION = 65_536;
  /** Largest text vocabulary (CLIP: 49408). */
  public static final int MAX_VOCAB = 1 << 22;
  /** Most text positions (CLIP: 77; Long-CLIP: 248). */
  public static final int MAX_TEXT_POSITIONS = 1 << 16;
  /** Largest input side in pixels (published: 224 to 896); 8192^2 patches of one pixel still fit an int. */
  public static final int MAX_IMAGE_SIZE = 8192;
  /** Most input channels (RGB: 3). */
  public static final int MAX_CHANNELS = 16;

  public ClipConfig {
    projectionDim = ClipConfigException.size("projection_dim", projectionDim, 512, MAX_PROJECTION);
    logitScaleInitValue = logitScaleInitValue == null ? 2.6592 : logitScaleInitValue;
    if (textConfigDict != null) {
      textConfig = textConfigDict;
    }
    if (visionConfigDict != null) {
      visionConfig = visionConfigDict;
    }
    if (textConfig == null) {
      textConfig = ClipTextConfig.fromJson(empty());
    }
    if (visionConfig == null) {
      visionConfig = ClipVisionConfig.fromJson(empty());
    }
  }

  private static JsonConfig empty() {
    return JsonConfig.of(JsonNodeFactory.instance.objectNode(), "defaults", ClipConfigException::new);
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
    List<String> architectures = new ArrayList<>();
    root.path("architectures").forEach(a -> architectures.add(a.asText()));
    boolean clipClass = architectures.stream().anyMatch(a -> a.startsWith("CLIP"));
    boolean visionOnly = "clip_vision_model".equals(type); // refused below with its own message
    if ((type != null && !type.equals("clip") && !visionOnly) || (type == null && !architectures.isEmpty() && !clipClass)) {
      String family = ErrorList.abbreviate(type != null ? type : architectures.get(0), 40);
      throw new ClipConfigException(source + ": this is a " + family + " model (model_type " + (type == null ? "absent" : "\""
          + ErrorList.abbreviate(type, 40) + "\"")
          + (architectures.isEmpty() ? "" : ", architectures " + ErrorList.abbreviate(String.join(", ", architectures), 120)) + "), not CLIP: a CLIP model"
          + " (zero-shot classification, text and image embeddings) needs a CLIP checkpoint (model_type \"clip\", architectures CLIPModel)");
    }
    JsonConfig c = JsonConfig.of(root, source, ClipConfigException::new);
    if (visionOnly || (!c.has("vision_config") && !c.has("vision_config_dict") && c.has("image_size"))) {
      throw new ClipConfigException(source + ": a vision-only CLIPVisionConfig (model_type "
          + (c.has("model_type") ? JsonConfig.show(c.get("model_type")) : "?") + "); load it with ClipVisionModel, which has no text tower");
    }
    return fromJson(c);
  }

  /** Reads the keys of a parsed config.json. */
  public static ClipConfig fromJson(JsonConfig c) {
    // the *_dict keys override the plain ones (as HF does), so only the one that wins is read
    ClipTextConfig text = ClipTextConfig.fromJson(c.object(c.has("text_config_dict") ? "text_config_dict" : "text_config"));
    ClipVisionConfig vision = ClipVisionConfig.fromJson(c.object(c.has("vision_config_dict") ? "vision_config_dict" : "vision_config"));
    return construct(c, () -> new ClipConfig(c.integerOrNull("projection_dim", 1, MAX_PROJECTION), c.has("logit_scale_init_value")
        ? c.number("logit_scale_init_value", 2.6592) : null, text, vision, null, null));
  }

  /**
   * Where the checkpoint's tensors disagree with this config, one line each, from the tensor list
   * alone (before any module is built): both towers ({@link ClipTextConfig#disagreements}, {@link
   * ClipVisionConfig#disagreements}) and the projections [E, W] and [E, D].
   */
  public List<String> disagreements(WeightSource w) {
    List<String> bad = new ArrayList<>(textConfig.disagreements(w, "text_model.", "text_config."));
    bad.addAll(visionConfig.disagreements(w, "vision_model.", "vision_config."));
    add(bad, StateDict.shapeDisagreement(w, "visual_projection.weight", "[projection_dim, vision_config.hidden_size]", projectionDim,
        visionConfig.hiddenSize()));
    add(bad, StateDict.shapeDisagreement(w, "text_projection.weight", "[projection_dim, text_config.hidden_size]", projectionDim,
        textConfig.hiddenSize()));
    return bad;
  }

  static void add(List<String> bad, String problem) {
    if (problem != null) {
      bad.add(problem);
    }
  }

  /** Runs a record constructor; a failure of one key ({@link ClipConfigException#key}) is reported with the file and the dotted key. */
  static <T> T construct(JsonConfig c, Supplier<T> make) {
    try {
      return make.get();
    } catch (ClipConfigException e) {
      if (e.key() == null) {
        throw e;
      }
      throw c.error(e.key(), e.problem());
    }
  }

  static byte[] readBytes(Path file) {
    if (!java.nio.file.Files.exists(file)) {
      throw new ClipConfigException(file + ": no such file (a CLIP model folder needs its config.json)");
    }
    return JsonConfig.readBytes(file, ClipConfigException::new);
  }

  /** Parses bytes into a JSON object; not JSON, or not an object, is a {@link ClipConfigException} naming the file. */
  static JsonNode tree(byte[] json, String source) {
    return JsonConfig.parse(json, source, ClipConfigException::new);
  }
}
