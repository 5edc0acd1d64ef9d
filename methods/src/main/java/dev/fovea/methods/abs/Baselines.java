package dev.fovea.methods.abs;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.clip.ClipModel;
import dev.fovea.vit.clip.ZeroShotClassifier;
import dev.fovea.vit.tokenizer.ClipTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The baselines of ABS's script (spec A.10; helper.py zeroshot_classifier): one class vector each,
 * the mean of the L2-normalized embeddings of its texts, renormalized; an image's logits are the
 * cosines with its global (centre-crop) embedding.
 */
public final class Baselines {
  private Baselines() {}

  /** The methods the harness knows. */
  public enum Method {
    /** "a photo of a {}." */
    CLIP,
    /** a template ensemble (CLIP's ImageNet templates, or a file's) */
    CLIP_E,
    /** all CuPL sentences of the class, averaged */
    CUPL,
    /** attention-based selection */
    ABS;

    public String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** CLIP's 7-template ImageNet ensemble (openai/CLIP notebooks/Prompt_Engineering_for_ImageNet.ipynb, the selected subset). */
  public static final List<String> CLIP_TEMPLATES_7 = List.of("itap of a {}.", "a bad photo of the {}.", "a origami {}.",
      "a photo of the large {}.", "a {} in a video game.", "art of the {}.", "a photo of the small {}.");

  /** Class vectors [C, E] (global scope) from per-class texts. */
  public static Tensor classVectors(ClipModel model, ClipTokenizer tokenizer, List<List<String>> textsPerClass) {
    int context = model.config.textConfig().maxPositionEmbeddings();
    List<Tensor> rows = new ArrayList<>();
    for (List<String> texts : textsPerClass) {
      try (Scope s = Scope.open()) {
        Tensor sum = null;
        for (int from = 0; from < texts.size(); from += 64) {
          List<String> chunk = texts.subList(from, Math.min(texts.size(), from + 64));
          ZeroShotClassifier.Batch b = ZeroShotClassifier.tokenize(tokenizer, chunk, context);
          Tensor part = Ops.sum(model.encodeText(b.ids(), b.attentionMask()), 0, false);
          sum = sum == null ? part : Ops.add(sum, part);
        }
        Tensor mean = Ops.mulScalar(sum, 1f / texts.size());
        rows.add(ClipModel.normalize(mean).contiguous().copyTo(Scope.global()));
      }
    }
    return Ops.stack(rows, 0);
  }

  /**
   * The texts of each class for a baseline: CLIP's one sentence, the templates (CLIP-E) or the
   * class's sentences (CuPL, needs {@code sentences}).
   */
  public static List<List<String>> texts(Method method, List<String> classes, List<List<String>> sentences, List<String> templates) {
    List<List<String>> out = new ArrayList<>();
    for (int c = 0; c < classes.size(); c++) {
      String name = classes.get(c);
      out.add(switch (method) {
        case CLIP -> List.of("a photo of a " + name + ".");
        case CLIP_E -> templates.stream().map(t -> t.replace("{}", name)).toList();
        case CUPL -> {
          if (sentences == null) {
            throw new AbsException("CuPL needs class descriptions (--descriptions)");
          }
          yield sentences.get(c);
        }
        case ABS -> throw new AbsException("ABS has no single class vector; use DescriptionBank");
      });
    }
    return out;
  }
}
