package dev.fovea.llm.instructblip;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.vit.blip.BlipNames;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The two namings of an InstructBLIP (Vicuna) checkpoint (spec models-formats.md 4.7): LAVIS's
 * {@code blip2_vicuna_instruct} state dict and Hugging Face's, after transformers'
 * convert_instructblip_original_to_pytorch.py:
 *
 * <pre>
 * visual_encoder.cls_token / pos_embed / patch_embed.proj.*   vision_model.embeddings.class_embedding / position_embedding / patch_embedding.*
 * visual_encoder.blocks.i.norm{1,2}.*                          vision_model.encoder.layers.i.layer_norm{1,2}.*
 * visual_encoder.blocks.i.attn.qkv.weight                      ...self_attn.qkv.weight
 * visual_encoder.blocks.i.attn.{q_bias, v_bias}                ...self_attn.qkv.bias = [q_bias, 0, v_bias] (EVA has no key bias)
 * visual_encoder.blocks.i.attn.proj.* / mlp.fc{1,2}.*           ...self_attn.projection.* / mlp.fc{1,2}.*
 * ln_vision.*                                                  vision_model.post_layernorm.*
 * Qformer.bert.embeddings.LayerNorm.*                          qformer.embeddings.layernorm.*
 * Qformer.bert.*  (attention.self / crossattention.self)       qformer.*  (attention.attention / crossattention.attention)
 * llm_proj.*                                                   language_projection.*
 * llm_model.*                                                  language_model.*
 * query_tokens                                                 query_tokens
 * </pre>
 *
 * A LAVIS {@code .pth} saves {@code {"model": state_dict}}; the reader flattens it to {@code model.<key>}.
 * Buffers the forward never reads ({@code position_ids}, {@code rotary_emb.inv_freq}) and the
 * Q-Former's unused LM head ({@code Qformer.cls.*}) are left out.
 */
public final class InstructBlipNames {
  private static final Pattern BLOCK = Pattern.compile("visual_encoder\\.blocks\\.(\\d+)\\.(.+)");
  static final String LAVIS_WRAPPER = "model.";

  private InstructBlipNames() {}

  /** Whether {@code w} uses LAVIS's names (a {@code visual_encoder.}, {@code Qformer.} or {@code llm_proj.} key, bare or wrapped). */
  public static boolean isLavis(WeightSource w) {
    for (String n : w.names()) {
      String k = n.startsWith(LAVIS_WRAPPER) ? n.substring(LAVIS_WRAPPER.length()) : n;
      if (k.startsWith("visual_encoder.") || k.startsWith("Qformer.") || k.startsWith("llm_proj.") || k.startsWith("llm_model.")) {
        return true;
      }
    }
    return false;
  }

  private static boolean wrapped(WeightSource w) {
    for (String n : w.names()) {
      if (!n.startsWith(LAVIS_WRAPPER)) {
        return false;
      }
    }
    return !w.names().isEmpty();
  }

  /** The HF name of a LAVIS key; null for a key with no HF counterpart (buffers, the q/v biases, which {@link #hfView} fuses). */
  public static String toHf(String lavis) {
    if (lavis.endsWith("position_ids") || lavis.endsWith(".rotary_emb.inv_freq") || lavis.startsWith("Qformer.cls.")) {
      return null;
    }
    switch (lavis) {
      case "ln_vision.weight":
        return "vision_model.post_layernorm.weight";
      case "ln_vision.bias":
        return "vision_model.post_layernorm.bias";
      case "Qformer.bert.embeddings.LayerNorm.weight":
        return "qformer.embeddings.layernorm.weight";
      case "Qformer.bert.embeddings.LayerNorm.bias":
        return "qformer.embeddings.layernorm.bias";
      default:
        break;
    }
    Matcher m = BLOCK.matcher(lavis);
    if (m.matches() && (m.group(2).equals("attn.q_bias") || m.group(2).equals("attn.v_bias"))) {
      return null;
    }
    String vit = BlipNames.vitToHf(lavis);
    if (vit != null) {
      return vit;
    }
    if (lavis.startsWith("Qformer.bert.")) {
      return "qformer." + lavis.substring("Qformer.bert.".length()).replace("attention.self.", "attention.attention.");
    }
    if (lavis.startsWith("llm_proj.")) {
      return "language_projection." + lavis.substring("llm_proj.".length());
    }
    if (lavis.startsWith("llm_model.")) {
      return "language_model." + lavis.substring("llm_model.".length());
    }
    return lavis; // query_tokens; an unknown key is named as unexpected by the strict load
  }

  /**
   * A view of a LAVIS-named source under HF names; each block's {@code q_bias} and {@code v_bias}
   * become one F32 {@code qkv.bias} [3D] (read now: they are small). Closing the view closes {@code lavis}.
   */
  public static WeightSource hfView(WeightSource lavis) {
    boolean wrapped = wrapped(lavis);
    String prefix = wrapped ? LAVIS_WRAPPER : "";
    Map<String, WeightSource.Ref> refs = new LinkedHashMap<>();
    Map<String, Tensor> fused = new LinkedHashMap<>();
    for (String n : lavis.names()) {
      String key = n.substring(prefix.length());
      Matcher m = BLOCK.matcher(key);
      if (m.matches() && m.group(2).equals("attn.q_bias")) {
        String vName = prefix + "visual_encoder.blocks." + m.group(1) + ".attn.v_bias";
        if (!lavis.contains(vName)) {
          throw new InstructBlipException(lavis.origin() + ": '" + n + "' has no partner '" + vName + "' (EVA's qkv bias is [q_bias, 0, v_bias])");
        }
        fused.put("vision_model.encoder.layers." + m.group(1) + ".self_attn.qkv.bias", qkvBias(lavis, n, vName));
        continue;
      }
      String hf = toHf(key);
      if (hf != null) {
        WeightSource.Ref prev = refs.put(hf, new WeightSource.Ref(lavis, n));
        if (prev != null) {
          throw new InstructBlipException(lavis.origin() + ": tensors '" + prev.name() + "' and '" + n + "' both map to '" + hf + "'");
        }
      }
    }
    WeightSource biases = WeightSource.of(fused);
    fused.keySet().forEach(k -> refs.put(k, new WeightSource.Ref(biases, k)));
    List<WeightSource> owned = new ArrayList<>(List.of(lavis));
    return WeightSource.renamed(refs, lavis.origin() + " (LAVIS names)", owned);
  }

  private static Tensor qkvBias(WeightSource w, String qName, String vName) {
    float[] q = Ops.to(w.get(qName), DType.F32).toFloatArray();
    float[] v = Ops.to(w.get(vName), DType.F32).toFloatArray();
    if (q.length != v.length) {
      throw new InstructBlipException(w.origin() + ": '" + qName + "' has " + q.length + " values but '" + vName + "' has " + v.length);
    }
    float[] all = new float[3 * q.length];
    System.arraycopy(q, 0, all, 0, q.length);
    System.arraycopy(v, 0, all, 2 * q.length, v.length);
    try (Scope s = Scope.open()) {
      return Tensor.of(all, all.length).copyTo(Scope.global());
    }
  }
}
