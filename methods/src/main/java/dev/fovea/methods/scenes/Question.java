package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.ImageSize;
import dev.fovea.methods.eval.SizeSplit;
import java.util.Objects;
import java.util.Optional;

/**
 * A question about a scene with its one short answer.
 *
 * @param type what it asks
 * @param text the question, e.g. "What colour is the triangle?"
 * @param answer lowercase colour or shape words, one capital letter or digit, a number, yes or no
 * @param box where the answer is in the picture; empty when nothing shows it (a "no", a count of 0)
 * @param category for yes/no questions, the POPE-style split: {@link SceneGenerator#ABSENT} or {@link
 *     SceneGenerator#SWAPPED} (see there); empty for the other types
 */
public record Question(QuestionType type, String text, String answer, Optional<BoundingBox> box, Optional<String> category) {
  public Question {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(answer, "answer");
    Objects.requireNonNull(box, "box");
    Objects.requireNonNull(category, "category");
    if (answer.isBlank()) {
      throw new IllegalArgumentException("question \"" + text + "\" has a blank answer");
    }
  }

  /** This question in a POPE-style split. */
  public Question withCategory(String name) {
    return new Question(type, text, answer, box, Optional.of(name));
  }

  /** Whether the answer is yes or no. */
  public boolean isYesNo() {
    return type == QuestionType.EXISTS;
  }

  /** The answer-size split (ViCrop's thresholds) of the box on an image of this size; unsplit without a box. */
  public SizeSplit split(ImageSize size) {
    return box.map(b -> SizeSplit.Thresholds.VICROP.classify(b.area() / size.area())).orElse(SizeSplit.UNSPLIT);
  }
}
