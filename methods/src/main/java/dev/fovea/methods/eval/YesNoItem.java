package dev.fovea.methods.eval;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One yes/no question about one image (a POPE line, an MME question).
 *
 * @param split the file or named group it belongs to (POPE: the file's name or the line's {@code
 *     category}; MME: the subtask)
 * @param id unique within its split
 * @param image the image as the dataset names it (recorded with the result)
 * @param imagePath the image file, checked to exist when the dataset was read
 * @param question the question as the dataset has it
 * @param label the ground truth, yes or no
 */
public record YesNoItem(String split, String id, String image, Path imagePath, String question, YesNo label) {
  public YesNoItem {
    Objects.requireNonNull(split, "split");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(imagePath, "imagePath");
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(label, "label");
    if (label == YesNo.OTHER) {
      throw new IllegalArgumentException(split + " " + id + ": a label is yes or no, not other");
    }
  }
}
