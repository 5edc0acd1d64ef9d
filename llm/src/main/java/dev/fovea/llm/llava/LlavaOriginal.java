package dev.fovea.llm.llava;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The original haotian-liu LLaVA-1.5 layout ({@code liuhaotian/llava-v1.5-7b}; spec models-formats.md
 * 2.6), read without conversion. Such a folder holds the LLaMA keys at the top level of its
 * config.json with the {@code mm_*} keys beside them, the weights {@code model.*}, {@code lm_head.*}
 * and {@code model.mm_projector.{0,2}.*}, and no vision tower: {@code mm_vision_tower} names a CLIP
 * checkpoint ({@code openai/clip-vit-large-patch14-336}) that the original code loads at run time.
 *
 * <p>Opening one yields what a llava-hf folder would hold: a llava-hf config.json (the vision config
 * of the tower, the text config of the top-level keys, {@code image_token_index} −200 as the
 * original's {@code IMAGE_TOKEN_INDEX}, and {@code image_aspect_ratio} kept so the images are padded
 * to square as the original does), the weights under llava-hf's names (the renames of transformers'
 * convert_llava_weights_to_hf.py), and the tower's preprocessor_config.json (the original builds its
 * image processor from the tower). {@code fovea convert} writes that to an archive.
 *
 * <p>The tower is looked for, in order: the folder the caller names; {@code mm_vision_tower} as a
 * path (absolute, or relative to the model folder or the working directory); the Hugging Face hub
 * cache ({@code $HF_HUB_CACHE}, {@code $HF_HOME/hub} or {@code ~/.cache/huggingface/hub}, folder
 * {@code models--org--name/snapshots/<refs/main>}; {@code -Dfovea.hf.hub.cache=DIR} is searched
 * first). A checkpoint that also embeds the tower's
 * weights ({@code model.vision_tower.vision_tower.vision_model.*}, as some derived checkpoints do)
 * uses those, and takes only the configuration and preprocessing from the tower folder.
 */
public final class LlavaOriginal {
  /** The original code's sentinel id for an image in a prompt (llava/constants.py IMAGE_TOKEN_INDEX). */
  public static final int IMAGE_TOKEN_INDEX = -200;

  private static final String EMBEDDED_TOWER = "model.vision_tower.vision_tower.";
  private static final String SOURCE_KEY = "fovea_original_layout";

  /** The opened checkpoint in llava-hf form; the caller owns (closes) {@code weights}. */
  public record Opened(WeightSource weights, byte[] configJson, byte[] preprocessorJson, Path towerFolder, String origin) {}

  private LlavaOriginal() {}

  /** Whether a parsed config.json is in the original layout (it carries {@code mm_vision_tower} or {@code mm_projector_type}). */
  public static boolean isOriginal(JsonNode config) {
    return config != null && (config.has("mm_vision_tower") || config.has("mm_projector_type"));
  }

  /** Whether {@code path} (a folder, or a file in one; not an archive or GGUF) holds an original-layout config.json. */
  public static boolean isOriginalFolder(Path path) {
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    if (name.endsWith(".fovea") || name.endsWith(".gguf")) {
      return false;
    }
    Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
    Path file = dir == null ? null : dir.resolve("config.json");
    if (file == null || !Files.isRegularFile(file)) {
      return false;
    }
    try {
      return isOriginal(JsonConfig.read(file, LlavaException::new));
    } catch (LlavaException e) {
      return false; // the regular loaders report the unreadable file
    }
  }

  /**
   * Opens an original-layout folder (or a weight file or index inside one).
   *
   * @param visionTower the CLIP tower's folder, or null to look for it as described above
   */
  public static Opened open(Path model, Path visionTower) {
    Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
    Path configFile = dir.resolve("config.json");
    JsonNode root = JsonConfig.read(configFile, LlavaException::new);
    if (!isOriginal(root)) {
      throw new LlavaException(configFile + ": not an original LLaVA config (no mm_vision_tower / mm_projector_type)");
    }
    String origin = configFile.toString();
    Path tower = findTower(root, dir, visionTower, origin);
    JsonNode towerConfig = JsonConfig.read(tower.resolve("config.json"), LlavaException::new);
    Path pre = tower.resolve("preprocessor_config.json");
    byte[] towerPre = Files.isRegularFile(pre) ? JsonConfig.readBytes(pre, LlavaException::new) : null;
    byte[] hf = hfConfig(root, towerConfig, origin, tower);
    WeightSource weights = WeightFiles.open(model);
    WeightSource towerWeights = null;
    try {
      boolean embedded = weights.names().stream().anyMatch(n -> n.startsWith(EMBEDDED_TOWER));
      if (!embedded) {
        towerWeights = WeightFiles.open(tower);
      }
      return new Opened(renamed(weights, towerWeights), hf, towerPre, tower, origin + " (original LLaVA layout, tower " + tower + ")");
    } catch (RuntimeException e) {
      weights.close();
      if (towerWeights != null) {
        towerWeights.close();
      }
      throw e;
    }
  }

  /** Whether a config.json was written by {@link #open} (also when an archive carries it). */
  public static boolean isSynthesized(byte[] configJson) {
    if (configJson == null) {
      return false;
    }
    try {
      return new ObjectMapper().readTree(configJson).has(SOURCE_KEY);
    } catch (IOException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- the tower

  static Path findTower(JsonNode root, Path modelDir, Path override, String origin) {
    if (override != null) {
      if (!Files.isRegularFile(override.resolve("config.json"))) {
        throw new LlavaException(override + ": the vision tower folder has no config.json");
      }
      return override;
    }
    String name = root.path("mm_vision_tower").asText(root.path("vision_tower").asText(""));
    if (name.isEmpty()) {
      throw new LlavaException(origin + ": mm_vision_tower is missing; name the CLIP tower's folder (--vision-tower)");
    }
    List<Path> tried = new ArrayList<>();
    List<Path> candidates = new ArrayList<>();
    try {
      Path p = Path.of(name);
      candidates.add(p.isAbsolute() ? p : modelDir.resolve(p));
      if (!p.isAbsolute()) {
        candidates.add(p);
      }
    } catch (java.nio.file.InvalidPathException e) {
      // not a path: a hub id only
    }
    for (Path hub : hubCaches()) {
      Path snapshot = hubSnapshot(hub, name);
      if (snapshot != null) {
        candidates.add(snapshot);
      } else {
        tried.add(hub.resolve("models--" + name.replace("/", "--")));
      }
    }
    for (Path c : candidates) {
      if (Files.isRegularFile(c.resolve("config.json"))) {
        return c;
      }
      tried.add(c);
    }
    throw new LlavaException(origin + ": the vision tower \"" + name + "\" (mm_vision_tower) was not found; looked in " + tried
        + ". Download that CLIP checkpoint and name its folder (--vision-tower DIR)");
  }

  /** The hub caches to search: $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub (those that exist). */
  static List<Path> hubCaches() {
    List<Path> out = new ArrayList<>();
    String cache = System.getenv("HF_HUB_CACHE");
    String home = System.getenv("HF_HOME");
    String fromProperty = System.getProperty("fovea.hf.hub.cache");
    if (fromProperty != null) {
      out.add(Path.of(fromProperty));
    }
    if (cache != null) {
      out.add(Path.of(cache));
    }
    if (home != null) {
      out.add(Path.of(home, "hub"));
    }
    out.add(Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"));
    return out.stream().filter(Files::isDirectory).distinct().toList();
  }

  /** {@code hub/models--org--name/snapshots/<rev>}: the revision refs/main names, else the only (or newest) snapshot. */
  static Path hubSnapshot(Path hub, String repoId) {
    if (!repoId.matches("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")) {
      return null;
    }
    Path repo = hub.resolve("models--" + repoId.replace("/", "--"));
    Path snapshots = repo.resolve("snapshots");
    if (!Files.isDirectory(snapshots)) {
      return null;
    }
    try {
      Path ref = repo.resolve("refs").resolve("main");
      if (Files.isRegularFile(ref)) {
        Path s = snapshots.resolve(Files.readString(ref).strip());
        if (Files.isDirectory(s)) {
          return s;
        }
      }
      try (Stream<Path> list = Files.list(snapshots)) {
        return list.filter(Files::isDirectory).max((a, b) -> {
          try {
            return Files.getLastModifiedTime(a).compareTo(Files.getLastModifiedTime(b));
          } catch (IOException e) {
            return 0;
          }
        }).orElse(null);
      }
    } catch (IOException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- config

  /** The llava-hf config.json equivalent to an original one with its tower's config. */
  static byte[] hfConfig(JsonNode root, JsonNode towerConfig, String origin, Path tower) {
    ObjectMapper om = new ObjectMapper();
    JsonConfig keys = JsonConfig.of(root, origin, LlavaException::new);
    String projector = ErrorList.abbreviate(keys.string("mm_projector_type", "linear"), 40);
    if (!projector.equals("mlp2x_gelu")) {
      throw new LlavaException(origin + ": mm_projector_type \"" + projector + "\" is not supported (LLaVA-1.5 uses \"mlp2x_gelu\")");
    }
    if (keys.bool("mm_use_im_start_end", false)) {
      throw new LlavaException(origin + ": mm_use_im_start_end is true (image start/end tokens, LLaVA-1.0 style); LLaVA-1.5 does not use them"
          + " and fovea does not support them");
    }
    String merge = ErrorList.abbreviate(keys.string("mm_patch_merge_type", "flat"), 40);
    if (!merge.equals("flat")) {
      throw new LlavaException(origin + ": mm_patch_merge_type \"" + merge + "\" (LLaVA-NeXT any-resolution) is not supported; LLaVA-1.5 is \"flat\"");
    }
    String feature = ErrorList.abbreviate(keys.string("mm_vision_select_feature", "patch"), 40);
    String strategy = switch (feature) {
      case "patch" -> "default";
      case "cls_patch" -> "full";
      default -> throw new LlavaException(origin + ": mm_vision_select_feature \"" + feature + "\" is neither \"patch\" nor \"cls_patch\"");
    };
    JsonNode vision = towerConfig.hasNonNull("vision_config") ? towerConfig.get("vision_config")
        : towerConfig.hasNonNull("vision_config_dict") ? towerConfig.get("vision_config_dict") : towerConfig;
    if (!vision.isObject()) {
      throw new LlavaException(tower + "/config.json: not a CLIP config");
    }
    int mmHidden = keys.integer("mm_hidden_size", -1, 1, Integer.MAX_VALUE);
    JsonNode towerHidden = vision.path("hidden_size");
    if (mmHidden > 0 && towerHidden.isIntegralNumber() && !towerHidden.bigIntegerValue().equals(java.math.BigInteger.valueOf(mmHidden))) {
      throw new LlavaException(origin + ": mm_hidden_size " + mmHidden + " disagrees with the vision tower's hidden_size "
          + JsonConfig.show(towerHidden) + " (" + tower + ")");
    }
    ObjectNode text = om.createObjectNode();
    root.fields().forEachRemaining(e -> {
      String k = e.getKey();
      if (!k.startsWith("mm_") && !k.startsWith("tune_mm") && !k.startsWith("freeze_mm") && !k.equals("architectures")
          && !k.equals("image_aspect_ratio") && !k.startsWith("tokenizer_") && !k.equals("_name_or_path")) {
        text.set(k, e.getValue());
      }
    });
    text.put("model_type", "llama");
    ObjectNode hf = om.createObjectNode();
    hf.putArray("architectures").add("LlavaForConditionalGeneration");
    hf.put("model_type", "llava");
    hf.put("image_token_index", IMAGE_TOKEN_INDEX);
    hf.put("vision_feature_layer", keys.integer("mm_vision_select_layer", -2, Integer.MIN_VALUE, Integer.MAX_VALUE));
    hf.put("vision_feature_select_strategy", strategy);
    hf.put("projector_hidden_act", "gelu");
    hf.put("multimodal_projector_bias", true);
    if (root.has("pad_token_id")) {
      hf.set("pad_token_id", root.get("pad_token_id"));
    }
    hf.put("tie_word_embeddings", keys.bool("tie_word_embeddings", false));
    if (root.has("image_aspect_ratio")) {
      hf.set("image_aspect_ratio", root.get("image_aspect_ratio"));
    }
    hf.set("vision_config", vision);
    hf.set("text_config", text);
    hf.put(SOURCE_KEY, "original LLaVA (" + origin + ", vision tower " + root.path("mm_vision_tower").asText("") + ")");
    try {
      return om.writerWithDefaultPrettyPrinter().writeValueAsBytes(hf);
    } catch (IOException e) {
      throw new LlavaException(origin + ": cannot write the converted config: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- names

  /** The llava-hf (old generation) name of an original checkpoint's tensor, or null for one to drop. */
  static String toHf(String name) {
    if (name.startsWith(EMBEDDED_TOWER)) {
      return "vision_tower." + name.substring(EMBEDDED_TOWER.length());
    } else if (name.startsWith("model.mm_projector.0.")) {
      return "multi_modal_projector.linear_1." + name.substring("model.mm_projector.0.".length());
    } else if (name.startsWith("model.mm_projector.2.")) {
      return "multi_modal_projector.linear_2." + name.substring("model.mm_projector.2.".length());
    } else if (name.startsWith("model.mm_projector.")) {
      throw new LlavaException("unexpected projector tensor '" + name + "' (mlp2x_gelu has model.mm_projector.0 and .2 only)");
    } else if (name.startsWith("model.")) {
      return "language_model." + name;
    } else if (name.startsWith("lm_head.")) {
      return "language_model." + name;
    }
    return name; // left for the strict loader to report as unexpected
  }

  /**
   * The checkpoint's tensors under llava-hf names, with the tower's {@code vision_model.*} as
   * {@code vision_tower.vision_model.*} (its text tower and projections are left out). Closing
   * the result closes both.
   */
  static WeightSource renamed(WeightSource model, WeightSource tower) {
    Map<String, WeightSource.Ref> refs = new LinkedHashMap<>();
    for (String n : model.names()) {
      refs.put(toHf(n), new WeightSource.Ref(model, n));
    }
    if (tower != null) {
      for (String n : tower.names()) {
        if (n.startsWith("vision_model.")) {
          refs.put("vision_tower." + n, new WeightSource.Ref(tower, n));
        }
      }
    }
    String origin = model.origin() + (tower == null ? "" : " + " + tower.origin()) + " (original LLaVA names, read as llava-hf's)";
    return WeightSource.renamed(refs, origin, tower == null ? List.of(model) : List.of(model, tower));
  }
}
