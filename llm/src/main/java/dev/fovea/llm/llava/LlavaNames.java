package dev.fovea.llm.llava;

import dev.fovea.tensor.WeightSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;

/**
 * The two llava-hf naming generations (spec models-formats.md 2.2). Hub files written by
 * convert_llava_weights_to_hf.py use the old names, which are fovea's module paths; transformers
 * &gt;= ~4.52 re-saves under {@code model.}:
 *
 * <pre>
 * model.language_model.X          -> language_model.model.X
 * lm_head.X                       -> language_model.lm_head.X
 * model.vision_tower.X            -> vision_tower.X
 * model.multi_modal_projector.X   -> multi_modal_projector.X
 * </pre>
 */
public final class LlavaNames {
  private LlavaNames() {}

  /** True when {@code source} uses the newer {@code model.language_model.*} naming. */
  public static boolean isNewLayout(WeightSource source) {
    for (String n : source.names()) {
      if (n.startsWith("model.language_model.") || n.startsWith("model.vision_tower.") || n.startsWith("model.multi_modal_projector.")) {
        return true;
      }
    }
    return false;
  }

  /** The old name of a new-layout name (other names unchanged). */
  public static String toOld(String name) {
    if (name.startsWith("model.language_model.")) {
      return "language_model.model." + name.substring("model.language_model.".length());
    } else if (name.startsWith("lm_head.")) {
      return "language_model." + name;
    } else if (name.startsWith("model.vision_tower.")) {
      return name.substring("model.".length());
    } else if (name.startsWith("model.multi_modal_projector.")) {
      return name.substring("model.".length());
    }
    return name;
  }

  /** {@code source} seen under the old names when it uses the new ones, else {@code source} itself. */
  public static WeightSource oldLayout(WeightSource source) {
    if (!isNewLayout(source)) {
      return source;
    }
    Map<String, WeightSource.Ref> refs = new LinkedHashMap<>();
    for (String n : source.names()) {
      refs.put(toOld(n), new WeightSource.Ref(source, n));
    }
    return WeightSource.renamed(refs, source.origin() + " (new llava-hf names, read as the old ones)", List.of(source));
  }
}
