package dev.fovea.vit.blip;

import dev.fovea.tensor.WeightSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two namings of a BLIP retrieval checkpoint (spec methods-abs-agla.md B.9): LAVIS / original
 * BLIP ({@code visual_encoder.blocks.3.attn.qkv.weight}) and Hugging Face ({@code
 * vision_model.encoder.layers.3.self_attn.qkv.weight}), after {@code
 * convert_blip_original_pytorch_to_hf.py}. Only the vision keys differ; text-encoder and head keys
 * are the same. The original {@code .pth} also holds momentum copies and queues ({@code *_m.*},
 * {@code *_queue}, {@code temp}) that the retrieval forward never reads: they are skipped by name.
 */
public final class BlipNames {
  private static final Pattern BLOCK = Pattern.compile("visual_encoder\\.blocks\\.(\\d+)\\.(.+)");

  private BlipNames() {}

  /** LAVIS saves {@code {"model": state_dict}}; the reader flattens it to {@code model.<key>}. */
  static final String LAVIS_WRAPPER = "model.";

  /** Whether {@code w} uses the LAVIS naming (any {@code visual_encoder.} key, bare or under LAVIS's {@code model.}). */
  public static boolean isLavis(WeightSource w) {
    for (String n : w.names()) {
      if (n.startsWith("visual_encoder.") || n.startsWith(LAVIS_WRAPPER + "visual_encoder.")) {
        return true;
      }
    }
    return false;
  }

  /** Whether every name sits under LAVIS's {@code model.} wrapper. */
  static boolean wrapped(WeightSource w) {
    for (String n : w.names()) {
      if (!n.startsWith(LAVIS_WRAPPER)) {
        return false;
      }
    }
    return !w.names().isEmpty();
  }

  /** Tensors of the original checkpoint that the retrieval model does not use (momentum encoders, queues). */
  public static boolean isUnused(String name) {
    String head = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
    return head.endsWith("_m") || head.endsWith("_queue") || head.equals("temp") || name.endsWith("position_ids");
  }

  /** The HF name of a LAVIS key, or null for a key that has none (unused or unknown: left to the strict load). */
  public static String toHf(String lavis) {
    if (isUnused(lavis)) {
      return null;
    }
    if (!lavis.startsWith("visual_encoder.")) {
      return lavis; // text_encoder.*, vision_proj, text_proj, itm_head keep their names
    }
    switch (lavis) {
      case "visual_encoder.norm.weight":
        return "vision_model.post_layernorm.weight";
      case "visual_encoder.norm.bias":
        return "vision_model.post_layernorm.bias";
      default:
        String hf = vitToHf(lavis);
        return hf != null ? hf : lavis; // unknown: the strict load names it as unexpected
    }
  }

  /**
   * The HF name of a key of LAVIS's ViT that BLIP and InstructBLIP name alike (class, position and
   * patch embeddings; the blocks' norms, fused qkv and projection), or null for any other key.
   */
  public static String vitToHf(String lavis) {
    String v = "vision_model.";
    switch (lavis) {
      case "visual_encoder.cls_token":
        return v + "embeddings.class_embedding";
      case "visual_encoder.pos_embed":
        return v + "embeddings.position_embedding";
      case "visual_encoder.patch_embed.proj.weight":
        return v + "embeddings.patch_embedding.weight";
      case "visual_encoder.patch_embed.proj.bias":
        return v + "embeddings.patch_embedding.bias";
      default:
        break;
    }
    Matcher m = BLOCK.matcher(lavis);
    if (!m.matches()) {
      return null;
    }
    String rest = m.group(2)
        .replaceFirst("^norm1\\.", "layer_norm1.")
        .replaceFirst("^norm2\\.", "layer_norm2.")
        .replaceFirst("^attn\\.qkv\\.", "self_attn.qkv.")
        .replaceFirst("^attn\\.proj\\.", "self_attn.projection.");
    return v + "encoder.layers." + m.group(1) + "." + rest;
  }

  /** A view of a LAVIS-named source under HF names, unused tensors left out; closing it closes {@code lavis}. */
  public static WeightSource hfView(WeightSource lavis) {
    Map<String, WeightSource.Ref> refs = new LinkedHashMap<>();
    boolean wrapped = wrapped(lavis);
    for (String n : lavis.names()) {
      String hf = toHf(wrapped ? n.substring(LAVIS_WRAPPER.length()) : n);
      if (hf != null) {
        WeightSource.Ref prev = refs.put(hf, new WeightSource.Ref(lavis, n));
        if (prev != null) {
          throw new BlipConfigException(lavis.origin() + ": tensors '" + prev.name() + "' and '" + n + "' both map to '" + hf + "'");
        }
      }
    }
    return WeightSource.renamed(refs, lavis.origin() + " (LAVIS names)", List.of(lavis));
  }
}
