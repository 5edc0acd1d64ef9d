package dev.fovea.methods.eval;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Answers one question about one image: the step an evaluation ({@link YesNoEvaluation}) calls for
 * every item it has no result for. Decoding methods plug in here: plain LLaVA generation, VCD, AVC;
 * the evaluation neither knows nor cares which.
 *
 * <p>Contract: {@code prompt} is the user's text (the benchmark question with its {@link
 * PromptVariant}), without conversation template and without the {@code <image>} marker; the answerer
 * adds both. {@code seed} seeds every random draw of this one answer (the same seed for every item:
 * an item's answer does not depend on which items came before it, so a resumed or limited run gives
 * the same answers as a full one). The same (image, prompt, seed) must give the same answer.
 */
@FunctionalInterface
public interface ImageAnswerer {
  Answer answer(Path image, String prompt, long seed) throws Exception;

  /**
   * An answer.
   *
   * @param text the generated text, raw
   * @param timingsMs named durations in milliseconds ({@code prefill}, {@code decode}...), recorded
   *     with the result
   * @param extra further fields for the record (a method's own output: AVC's blind tokens...),
   *     anything Jackson can write as JSON; not one of {@link EvalRecord}'s field names
   */
  record Answer(String text, Map<String, Double> timingsMs, Map<String, ?> extra) {
    public Answer {
      Objects.requireNonNull(text, "text");
      timingsMs = timingsMs == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(timingsMs));
      extra = extra == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    public static Answer of(String text) {
      return new Answer(text, Map.of(), Map.of());
    }
  }
}
