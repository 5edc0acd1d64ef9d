package dev.fovea.tensor.io;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A llama.cpp CLIP / LLaVA-projector GGUF ("mmproj", {@code general.architecture = "clip"}) seen
 * as the vision half of a Hugging Face {@code LlavaForConditionalGeneration} checkpoint, in the
 * hub files' (old) layout of spec 2.2. Sources (spec 6.2): ggml-org/llama.cpp
 * {@code tools/mtmd/clip-impl.h}, {@code tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py},
 * {@code gguf-py/gguf/constants.py}. With {@code V = vision_tower.vision_model}:
 *
 * <pre>
 * v.class_embd               V.embeddings.class_embedding            [D] (a [1,1,D] or [1,D] file is reshaped to [D])
 * v.patch_embd.weight        V.embeddings.patch_embedding.weight     [D, 3, P, P] (ne = [P, P, 3, D]; always F16 in files)
 * v.patch_embd.bias          V.embeddings.patch_embedding.bias       (absent for CLIP, which has no patch bias)
 * v.position_embd.weight     V.embeddings.position_embedding.weight  [N, D]
 * v.pre_ln.{weight,bias}     V.pre_layrnorm.*                        (HF's misspelling kept)
 * v.blk.N.attn_q.*           V.encoder.layers.N.self_attn.q_proj.*
 * v.blk.N.attn_k.*           V.encoder.layers.N.self_attn.k_proj.*
 * v.blk.N.attn_v.*           V.encoder.layers.N.self_attn.v_proj.*
 * v.blk.N.attn_out.*         V.encoder.layers.N.self_attn.out_proj.*
 * v.blk.N.ln1.*              V.encoder.layers.N.layer_norm1.*
 * v.blk.N.ln2.*              V.encoder.layers.N.layer_norm2.*
 * v.blk.N.ffn_up.*           V.encoder.layers.N.mlp.fc1.*   [F, D]  \ swapped in legacy files,
 * v.blk.N.ffn_down.*         V.encoder.layers.N.mlp.fc2.*   [D, F]  / see below
 * v.post_ln.{weight,bias}    V.post_layernorm.*                      (legacy LLaVA files skip it)
 * mm.0.{weight,bias}         multi_modal_projector.linear_1.*        [T, D], [T]
 * mm.2.{weight,bias}         multi_modal_projector.linear_2.*        [T, T], [T]  (index 1 is the GELU)
 * </pre>
 *
 * Q/K rows are not permuted (CLIP has no RoPE). Other names (a text encoder's {@code t.*},
 * {@code v.blk.N.ffn_gate}, projector types other than "mlp") pass through unchanged, so a strict
 * loader reports them.
 *
 * <p>The up/down swap (spec 6.2, "legacy-converter quirks"): {@code convert_image_encoder_to_gguf.py}
 * renamed {@code mlp.fc1} to {@code ffn_down} and {@code mlp.fc2} to {@code ffn_up}; gguf-py's
 * current tensor map writes {@code fc1} as {@code ffn_up}. As llama.cpp does, the view decides per
 * layer by shape: when {@code ffn_down.weight}'s {@code ne[0]} (its last dimension here) is the
 * embedding width D, {@code ffn_down} is fc1. When F == D the two cannot be told apart and the
 * current naming is assumed. {@link #legacyFfnNaming} says which one a file uses.
 *
 * <p>Layer count: the legacy converter drops the last vision layer of a LLaVA tower
 * ({@code clip.vision.block_count} = 23 for ViT-L/14) and {@code v.post_ln}; the view exposes the
 * layers that are there. Whether current converters also drop layers is <b>UNCONFIRMED</b>, as is the
 * report that llama.cpp's LLaVA graph runs only {@code block_count - 1} of them (spec 10, item 8).
 *
 * <p>Metadata: {@link #params} reads the {@code clip.*} keys; {@link #visionConfig} turns them into an
 * HF {@code CLIPVisionConfig} map and {@link #preprocessorConfig} into a {@code CLIPImageProcessor}
 * map.
 */
public final class GgufClipNames {
  private GgufClipNames() {}

  /** HF prefix of the vision tower in a LLaVA checkpoint (hub layout). */
  public static final String VISION = "vision_tower.vision_model.";
  /** HF prefix of the LLaVA projector (hub layout). */
  public static final String PROJECTOR = "multi_modal_projector.";

  private static final Pattern BLK = Pattern.compile("v\\.blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
  private static final Map<String, String> GLOBAL = globals();
  private static final Map<String, String> BLOCK =
      Map.of(
          "attn_q", "self_attn.q_proj",
          "attn_k", "self_attn.k_proj",
          "attn_v", "self_attn.v_proj",
          "attn_out", "self_attn.out_proj",
          "ln1", "layer_norm1",
          "ln2", "layer_norm2",
          "ffn_up", "mlp.fc1",
          "ffn_down", "mlp.fc2");

  private static Map<String, String> globals() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("v.class_embd", VISION + "embeddings.class_embedding");
    m.put("v.patch_embd.weight", VISION + "embeddings.patch_embedding.weight");
    m.put("v.patch_embd.bias", VISION + "embeddings.patch_embedding.bias");
    m.put("v.position_embd.weight", VISION + "embeddings.position_embedding.weight");
    for (String p : List.of("weight", "bias")) {
      m.put("v.pre_ln." + p, VISION + "pre_layrnorm." + p);
      m.put("v.post_ln." + p, VISION + "post_layernorm." + p);
      m.put("mm.0." + p, PROJECTOR + "linear_1." + p);
      m.put("mm.2." + p, PROJECTOR + "linear_2." + p);
    }
    return Collections.unmodifiableMap(m);
  }

  /**
   * The HF name of an mmproj tensor, or null when it has none. {@code legacyFfn}: the file names
   * fc1 {@code ffn_down} (see the class comment).
   */
  public static String toHuggingFace(String gguf, boolean legacyFfn) {
    String g = GLOBAL.get(gguf);
    if (g != null) {
      return g;
    }
    Matcher m = BLK.matcher(gguf);
    if (!m.matches() || !BLOCK.containsKey(m.group(2))) {
      return null;
    }
    String mod = m.group(2);
    if (legacyFfn && mod.startsWith("ffn_")) {
      mod = mod.equals("ffn_up") ? "ffn_down" : "ffn_up";
    }
    return VISION + "encoder.layers." + m.group(1) + "." + BLOCK.get(mod) + "." + m.group(3);
  }

  /** The mmproj name of an HF LLaVA vision/projector tensor (current, non-legacy naming), or null. */
  public static String toGguf(String hf) {
    for (Map.Entry<String, String> e : GLOBAL.entrySet()) {
      if (e.getValue().equals(hf)) {
        return e.getKey();
      }
    }
    String layers = VISION + "encoder.layers.";
    if (!hf.startsWith(layers)) {
      return null;
    }
    String rest = hf.substring(layers.length());
    int dot = rest.indexOf('.');
    int last = rest.lastIndexOf('.');
    if (dot <= 0 || last <= dot || !rest.substring(0, dot).chars().allMatch(Character::isDigit)) {
      return null;
    }
    String mod = rest.substring(dot + 1, last);
    String kind = rest.substring(last + 1);
    if (!kind.equals("weight") && !kind.equals("bias")) {
      return null;
    }
    for (Map.Entry<String, String> e : BLOCK.entrySet()) {
      if (e.getValue().equals(mod)) {
        return "v.blk." + rest.substring(0, dot) + "." + e.getKey() + "." + kind;
      }
    }
    return null;
  }

  /**
   * Whether layer {@code layer}'s FFN uses the legacy converter's swapped names: its
   * {@code ffn_down.weight} has rows of the embedding width D (so it is fc1, [F, D]). False when
   * the layer has no ffn_down or F == D.
   */
  public static boolean legacyFfnNaming(GgufSource src, int layer) {
    String down = "v.blk." + layer + ".ffn_down.weight";
    WeightSource.TensorInfo i = src.info(down);
    if (i == null || i.shape().length != 2) {
      return false;
    }
    int d = embeddingWidth(src);
    return i.shape()[1] == d && i.shape()[0] != d;
  }

  /** Whether any layer of the file uses the legacy FFN naming. */
  public static boolean legacyFfnNaming(GgufSource src) {
    for (String n : src.names()) {
      Matcher m = BLK.matcher(n);
      if (m.matches() && m.group(2).equals("ffn_down") && m.group(3).equals("weight") && legacyFfnNaming(src, Integer.parseInt(m.group(1)))) {
        return true;
      }
    }
    return false;
  }

  private static int embeddingWidth(GgufSource src) {
    if (src.has("clip.vision.embedding_length")) {
      return src.getInt("clip.vision.embedding_length");
    }
    WeightSource.TensorInfo pos = src.info("v.position_embd.weight");
    if (pos == null || pos.shape().length == 0) {
      throw new FormatException(src.origin(), "metadata 'clip.vision.embedding_length'", "key not found and no v.position_embd.weight to infer it from");
    }
    return pos.shape()[pos.shape().length - 1];
  }

  /**
   * The mmproj source under HF LLaVA names ({@code vision_tower.vision_model.*},
   * {@code multi_modal_projector.*}). Closing it closes {@code src}.
   */
  public static WeightSource asHuggingFace(GgufSource src) {
    String arch = src.has("general.architecture") ? src.getString("general.architecture") : "?";
    if (!arch.equals("clip")) {
      throw new FormatException(src.origin(), "metadata 'general.architecture'", "is '" + arch + "', the HF LLaVA vision view needs 'clip' (an mmproj file)");
    }
    Map<String, String> toGguf = new LinkedHashMap<>();
    for (String n : src.names()) {
      Matcher m = BLK.matcher(n);
      boolean legacy = m.matches() && m.group(2).startsWith("ffn_") && legacyFfnNaming(src, Integer.parseInt(m.group(1)));
      String hf = toHuggingFace(n, legacy);
      String key = hf == null ? n : hf;
      if (toGguf.containsKey(key)) {
        throw new FormatException(src.origin(), "tensor '" + n + "'", "maps to '" + key + "', which tensor '" + toGguf.get(key) + "' already maps to");
      }
      toGguf.put(key, n);
    }
    return new HfView(src, Collections.unmodifiableMap(toGguf));
  }

  private static final class HfView implements WeightSource {
    final GgufSource src;
    final Map<String, String> toGguf;

    HfView(GgufSource src, Map<String, String> toGguf) {
      this.src = src;
      this.toGguf = toGguf;
    }

    @Override
    public Set<String> names() {
      return toGguf.keySet();
    }

    @Override
    public TensorInfo info(String name) {
      String g = toGguf.get(name);
      if (g == null) {
        return null;
      }
      TensorInfo i = src.info(g);
      return new TensorInfo(name, i.dtype(), hfShape(g, i.shape()));
    }

    @Override
    public Tensor get(String name) {
      String g = toGguf.get(name);
      if (g == null) {
        throw new TensorException("tensor '" + name + "' not found in " + origin() + " (" + toGguf.size() + " tensors)");
      }
      Tensor t = src.get(g);
      int[] shape = hfShape(g, t.shape());
      return Arrays.equals(shape, t.shape()) ? t : t.reshape(shape);
    }

    /** HF's CLIP class embedding is 1-D; files from other converters may carry [1, 1, D] or [1, D]. */
    private int[] hfShape(String gguf, int[] shape) {
      if (gguf.equals("v.class_embd") && shape.length > 1) {
        for (int k = 0; k < shape.length - 1; k++) {
          if (shape[k] != 1) {
            throw new FormatException(src.origin(), "tensor 'v.class_embd'", "shape " + Arrays.toString(shape) + " is not [D], [1, D] or [1, 1, D]");
          }
        }
        return new int[] {shape[shape.length - 1]};
      }
      return shape;
    }

    @Override
    public void release(String name) {
      String g = toGguf.get(name);
      if (g != null) {
        src.release(g);
      }
    }

    @Override
    public Map<String, Object> metadata() {
      return src.metadata();
    }

    @Override
    public String origin() {
      return src.origin() + " (as Hugging Face LLaVA vision tower)";
    }

    @Override
    public void close() {
      src.close();
    }
  }

  /**
   * The {@code clip.*} hyper-parameters (spec 6.2). {@code projectionDim} is CLIP's own
   * {@code projection_dim} (the unused visual projection), not the LLaVA projector's width, which
   * the {@code mm.*} shapes give. {@code featureLayer} is {@code clip.vision.feature_layer} when
   * present (its exact meaning across converters is <b>UNCONFIRMED</b>), else null.
   */
  public record Params(
      int imageSize,
      int patchSize,
      int embeddingLength,
      int feedForwardLength,
      int projectionDim,
      int headCount,
      int blockCount,
      float layerNormEpsilon,
      boolean useGelu,
      float[] imageMean,
      float[] imageStd,
      String projectorType,
      boolean hasLlavaProjector,
      int[] featureLayer) {}

  /** Reads {@link Params}; required keys missing raise a {@link FormatException} naming the key and file. */
  public static Params params(GgufSource s) {
    return new Params(
        s.getInt("clip.vision.image_size"),
        s.getInt("clip.vision.patch_size"),
        s.getInt("clip.vision.embedding_length"),
        s.getInt("clip.vision.feed_forward_length"),
        s.getInt("clip.vision.projection_dim", 0),
        s.getInt("clip.vision.attention.head_count"),
        s.getInt("clip.vision.block_count"),
        s.getFloat("clip.vision.attention.layer_norm_epsilon"),
        s.has("clip.use_gelu") && s.getBoolean("clip.use_gelu"),
        s.has("clip.vision.image_mean") ? s.getFloats("clip.vision.image_mean") : new float[] {0.48145466f, 0.4578275f, 0.40821073f},
        s.has("clip.vision.image_std") ? s.getFloats("clip.vision.image_std") : new float[] {0.26862954f, 0.26130258f, 0.27577711f},
        s.has("clip.projector_type") ? s.getString("clip.projector_type") : "mlp",
        s.has("clip.has_llava_projector") && s.getBoolean("clip.has_llava_projector"),
        s.has("clip.vision.feature_layer") ? featureLayers(s) : null);
  }

  private static int[] featureLayers(GgufSource s) {
    return s.metadataType("clip.vision.feature_layer") == GgufType.ARRAY ? s.getInts("clip.vision.feature_layer") : new int[] {s.getInt("clip.vision.feature_layer")};
  }

  /**
   * An HF {@code CLIPVisionConfig} ({@code model_type} "clip_vision_model", keys of spec 1.2):
   * {@code hidden_act} is "gelu" when {@code clip.use_gelu} is true, else "quick_gelu" (CLIP's), as
   * the legacy converter derived {@code use_gelu} from {@code hidden_act == "gelu"}.
   */
  public static Map<String, Object> visionConfig(Params p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model_type", "clip_vision_model");
    m.put("hidden_size", p.embeddingLength());
    m.put("intermediate_size", p.feedForwardLength());
    m.put("num_hidden_layers", p.blockCount());
    m.put("num_attention_heads", p.headCount());
    m.put("num_channels", 3);
    m.put("image_size", p.imageSize());
    m.put("patch_size", p.patchSize());
    m.put("hidden_act", p.useGelu() ? "gelu" : "quick_gelu");
    m.put("layer_norm_eps", p.layerNormEpsilon());
    if (p.projectionDim() > 0) {
      m.put("projection_dim", p.projectionDim());
    }
    return m;
  }

  /**
   * A {@code CLIPImageProcessor} config as llava-hf publishes it (spec 2.5, left column): shortest
   * edge to {@code image_size} (PIL bicubic, {@code resample} 3), center crop to a square of
   * {@code image_size}, rescale 1/255, normalize with the file's mean and std.
   */
  public static Map<String, Object> preprocessorConfig(Params p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("image_processor_type", "CLIPImageProcessor");
    m.put("do_resize", true);
    m.put("size", ordered("shortest_edge", p.imageSize()));
    m.put("resample", 3);
    m.put("do_center_crop", true);
    m.put("crop_size", ordered("height", p.imageSize(), "width", p.imageSize()));
    m.put("do_rescale", true);
    m.put("rescale_factor", 1.0 / 255.0);
    m.put("do_normalize", true);
    m.put("image_mean", toList(p.imageMean()));
    m.put("image_std", toList(p.imageStd()));
    m.put("do_convert_rgb", true);
    return m;
  }

  private static Map<String, Object> ordered(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static List<Float> toList(float[] a) {
    Float[] b = new Float[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = a[i];
    }
    return List.of(b);
  }
}
