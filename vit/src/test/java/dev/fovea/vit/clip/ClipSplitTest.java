package dev.fovea.vit.clip;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Split execution of the CLIP vision tower (spec methods-abs-agla.md A.13 item 2): the prefix up to
 * layer k once, then layers k..L-1, post_layernorm on CLS and the projection on a batch of
 * sequences. Against the plain-torch reference's image_embeds ({@code make_clip_reference.py}),
 * atol 1e-5 + rtol 1e-4, for every split point, with the batch edited (sequences duplicated).
 */
class ClipSplitTest {
  @Test
  void everySplitPointGivesTheReferenceEmbedding() {
    try (ClipReference ref = new ClipReference("tiny-p14"); ClipModel.Loaded loaded = ClipModel.open(ref.folder()); Scope s = Scope.open()) {
      ClipModel m = loaded.model();
      Tensor px = ref.get("images", "pixel_values");
      Tensor want = ref.get("images", "image_embeds");
      int layers = m.config.visionConfig().numHiddenLayers();
      for (int k = 0; k <= layers; k++) {
        Tensor hidden = m.visionModel.hiddenStateBefore(px, k); // [2, T, D]
        ClipReference.assertClose("split at layer " + k, m.encodeImageFrom(hidden, k), want, 1e-4, 1e-5);
        // a batch of edited sequences: image 1's prefix three times behind image 0's
        Tensor batch = Ops.concat(java.util.List.of(hidden.slice(0, 0, 1), hidden.slice(0, 1, 2), hidden.slice(0, 1, 2), hidden.slice(0, 1, 2)), 0);
        Tensor got = m.encodeImageFrom(batch, k);
        ClipReference.assertClose("split at layer " + k + ", batch row 3", got.slice(0, 3, 4), want.slice(0, 1, 2), 1e-4, 1e-5);
      }
    }
  }
}
