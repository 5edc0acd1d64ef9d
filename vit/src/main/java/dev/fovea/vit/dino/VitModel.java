package dev.fovea.vit.dino;

import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.ForwardHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Module;
import dev.fovea.nn.ModuleList;
import dev.fovea.nn.StateDictException;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.vit.clip.ClipCheckpoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * HF {@code ViTModel} (transformers src/transformers/models/vit/modeling_vit.py, ViTModel with
 * ViTEmbeddings, ViTEncoder, the final {@code layernorm}; the optional pooler is not built), the
 * layout of {@code facebook/dino-vitb16} and {@code dino-vits16}. Shapes: B batch, N = 1 + g*g
 * tokens, D width, H heads, L layers.
 *
 * <pre>
 * h0   = embeddings(pixels)             hidden_states[0]   [B, N, D]
 * hk   = encoder.layer.(k-1)(h(k-1))    hidden_states[k]   pre-norm layers, exact GELU
 * last = layernorm(hL)                  last_hidden_state
 * </pre>
 *
 * Attention probabilities come through the attention hooks ({@code addAttentionHook("encoder.layer.11", ...)});
 * {@link #clsAttention} hooks one layer only, so the others keep the fused path.
 */
public final class VitModel extends Module {
  public final VitConfig config;
  public final VitEmbeddings embeddings;
  public final ModuleList<VitLayer> layer;
  public final LayerNorm layernorm;

  /** One forward: last_hidden_state [B, N, D]; hidden states (L+1) and attentions (L, [B, H, N, N]) when asked, else empty. */
  public record Output(Tensor lastHiddenState, List<Tensor> hiddenStates, List<Tensor> attentions) {}

  public VitModel(VitConfig config) {
    this.config = config;
    this.embeddings = register("embeddings", new VitEmbeddings(config));
    this.layer = registerAt("encoder.layer", new ModuleList<>());
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      layer.add(new VitLayer(config));
    }
    this.layernorm = register("layernorm", new LayerNorm(config.hiddenSize(), (float) config.layerNormEps()));
  }

  /**
   * Builds the model from the checkpoint's config.json and loads it strictly. Names may carry the
   * {@code vit.} prefix of HF's task heads; the pooler and any head ({@code pooler.}, {@code
   * classifier.}) are not part of this model and are ignored.
   */
  public static VitModel load(ClipCheckpoint ckpt) {
    String source = ckpt.describe("config.json");
    VitConfig config = VitConfig.parse(ckpt.configJson(), source);
    String prefix = ckpt.weights().contains("vit.embeddings.cls_token") ? "vit." : "";
    List<String> bad = config.disagreements(ckpt.weights(), prefix);
    if (!bad.isEmpty()) {
      throw new VitConfigException("the sizes in " + source + " disagree with the weights in " + ckpt.weights().origin() + ErrorList.lines(bad));
    }
    VitModel m = new VitModel(config);
    try {
      ckpt.loadOther(m, prefix, name -> name.startsWith(prefix + "pooler.") || name.startsWith("classifier.") || name.endsWith("position_ids"));
    } catch (StateDictException e) {
      throw new VitConfigException(ckpt.path() + ": not a ViT checkpoint in HF ViTModel layout (" + source + "): " + e.getMessage(), e);
    }
    return m;
  }

  public Output forward(Tensor pixels) {
    return forward(pixels, false, false);
  }

  /** pixels [B, C, S, S]; per-layer hidden states and attentions collected through hooks when asked. */
  public Output forward(Tensor pixels, boolean hiddenStates, boolean attentions) {
    int n = config.numHiddenLayers();
    Tensor[] hidden = hiddenStates ? new Tensor[n] : null;
    Tensor[] attn = attentions ? new Tensor[n] : null;
    Thread owner = Thread.currentThread();
    List<HookHandle> handles = new ArrayList<>();
    try {
      if (hidden != null) {
        handles.add(addForwardHook(rel -> rel.matches("encoder\\.layer\\.\\d+"), ForwardHook.reading((path, out) -> {
          if (Thread.currentThread() == owner) {
            hidden[lastIndex(path)] = out;
          }
        })));
      }
      if (attn != null) {
        handles.add(addAttentionHook("encoder", AttentionHook.reading((ctx, probs) -> {
          if (Thread.currentThread() == owner) {
            attn[ctx.layerIndex()] = probs;
          }
        })));
      }
      Tensor h0 = embeddings.forward(pixels); // [B, N, D]
      Tensor h = h0;
      for (VitLayer l : layer) {
        h = l.forward(h);
      }
      Tensor last = layernorm.forward(h);
      List<Tensor> hs = List.of();
      if (hidden != null) {
        List<Tensor> all = new ArrayList<>(n + 1);
        all.add(h0);
        all.addAll(Arrays.asList(hidden));
        hs = List.copyOf(all);
      }
      return new Output(hooked(last, pixels), hs, attn == null ? List.of() : List.of(attn));
    } finally {
      handles.forEach(HookHandle::close);
    }
  }

  /**
   * The CLS query row of one layer's attention probabilities over the patch keys, [B, H, g*g]
   * (keys 1..N-1; spec methods-abs-agla.md A.3). Runs the layers up to {@code layerIndex} only,
   * with one attention hook on that layer.
   */
  public Tensor clsAttention(Tensor pixels, int layerIndex) {
    if (layerIndex < 0 || layerIndex >= config.numHiddenLayers()) {
      throw new TensorException("ViT: attention layer " + layerIndex + " out of range 0.." + (config.numHiddenLayers() - 1));
    }
    Tensor[] kept = new Tensor[1];
    Thread owner = Thread.currentThread();
    try (HookHandle h = addAttentionHook("encoder.layer." + layerIndex, AttentionHook.reading((ctx, probs) -> {
      if (Thread.currentThread() == owner) {
        kept[0] = probs;
      }
    }))) {
      Tensor x = embeddings.forward(pixels);
      for (int i = 0; i <= layerIndex; i++) {
        x = layer.get(i).forward(x);
      }
    }
    Tensor p = kept[0]; // [B, H, N, N]
    int tokens = p.size(3);
    return p.select(2, 0).slice(2, 1, tokens).contiguous(); // [B, H, N-1]
  }

  /** The CLS row averaged over heads: [B, g*g] (A.3 step 3). */
  public Tensor clsAttentionMap(Tensor pixels, int layerIndex) {
    return Ops.mean(clsAttention(pixels, layerIndex), 1, false);
  }

  private static int lastIndex(String path) {
    String[] parts = path.split("\\.");
    return Integer.parseInt(parts[parts.length - 1]);
  }
}
