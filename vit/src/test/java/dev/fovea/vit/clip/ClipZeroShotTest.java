package dev.fovea.vit.clip;

import static dev.fovea.vit.clip.ClipReference.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Zero-shot prompt ensembles and the tiny tokenizer against the torch reference (tiny-p32). */
class ClipZeroShotTest {
  static List<String> strings(com.fasterxml.jackson.databind.JsonNode a) {
    List<String> out = new ArrayList<>();
    a.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void tokenizerFromTheFolderGivesTheReferenceIds() {
    try (ClipReference ref = new ClipReference("tiny-p32"); ClipPipeline p = ClipPipeline.open(ref.folder(), ClipPipeline.Progress.NONE)) {
      ZeroShotClassifier.Batch b = ZeroShotClassifier.tokenize(p.tokenizer(), strings(ref.meta.get("prompts")), 32);
      int[][] ids = ref.ints("ids");
      int[][] mask = ref.ints("attention_mask");
      for (int i = 0; i < ids.length; i++) {
        assertArrayEquals(ids[i], b.ids()[i], "prompt " + i);
        assertArrayEquals(mask[i], b.attentionMask()[i], "mask " + i);
      }
    }
  }

  @Test
  void promptEnsembleProbabilitiesMatchTorch() {
    try (ClipReference ref = new ClipReference("tiny-p32"); ClipPipeline p = ClipPipeline.open(ref.folder(), ClipPipeline.Progress.NONE);
        Scope s = Scope.open()) {
      var zs = ref.meta.get("zeroshot");
      ZeroShotClassifier c = new ZeroShotClassifier(p.model(), p.tokenizer(), strings(zs.get("labels")), strings(zs.get("templates")), null);
      assertClose("tiny-p32 zeroshot class_embeds", c.classEmbeddings(), ref.get("zeroshot", "class_embeds"), 1e-4, 1e-5);
      Tensor cats = ref.get("images", "pixel_values").select(0, 0);
      float[][] probs = c.probabilities(cats);
      assertClose("tiny-p32 zeroshot probs", Tensor.of(probs[0], probs[0].length), ref.get("zeroshot", "probs"), 1e-4, 1e-6);
      List<ZeroShotClassifier.Prediction> ranked = c.classify(cats);
      assertEquals(5, ranked.size());
      assertEquals(1.0, ranked.stream().mapToDouble(ZeroShotClassifier.Prediction::probability).sum(), 1e-5);
    }
  }
}
