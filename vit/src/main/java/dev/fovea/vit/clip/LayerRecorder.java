package dev.fovea.vit.clip;

import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.ForwardHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.nn.Module;
import dev.fovea.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Collects one forward's per-layer outputs through the public hooks (STYLE point 10): a forward
 * hook on each {@code encoder.layers.N} for the hidden states and an attention hook for the
 * probabilities. The hooks only record calls from the thread that attached them, so a module tree
 * shared with other threads sees no foreign results (those threads do take the explicit attention
 * path while the hooks are attached).
 */
final class LayerRecorder implements AutoCloseable {
  private final Tensor[] hidden;
  private final Tensor[] attentions;
  private final List<HookHandle> handles = new ArrayList<>();

  LayerRecorder(Module tower, int layers, ClipOutputs outputs) {
    Thread owner = Thread.currentThread();
    this.hidden = outputs.hiddenStates() ? new Tensor[layers] : null;
    this.attentions = outputs.attentions() ? new Tensor[layers] : null;
    if (hidden != null) {
      handles.add(tower.addForwardHook(rel -> rel.matches("encoder\\.layers\\.\\d+"), ForwardHook.reading((path, out) -> {
        if (Thread.currentThread() == owner) {
          hidden[layerIndex(path)] = out;
        }
      })));
    }
    if (attentions != null) {
      handles.add(tower.addAttentionHook("encoder", AttentionHook.reading((ctx, probs) -> {
        if (Thread.currentThread() == owner) {
          attentions[ctx.layerIndex()] = probs;
        }
      })));
    }
  }

  private static int layerIndex(String path) {
    String[] parts = path.split("\\.");
    return Integer.parseInt(parts[parts.length - 1]);
  }

  /** embeddings + every layer's output, or empty. */
  List<Tensor> hiddenStates(Tensor embeddings) {
    if (hidden == null) {
      return List.of();
    }
    List<Tensor> out = new ArrayList<>(hidden.length + 1);
    out.add(embeddings);
    out.addAll(Arrays.asList(hidden));
    return List.copyOf(out);
  }

  List<Tensor> attentions() {
    return attentions == null ? List.of() : List.of(attentions);
  }

  @Override
  public void close() {
    handles.forEach(HookHandle::close);
  }
}
