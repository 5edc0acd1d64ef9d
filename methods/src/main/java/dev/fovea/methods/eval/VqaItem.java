package dev.fovea.methods.eval;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One VQA question with its human answers.
 *
 * @param questionId unique within a dataset; the key of a {@link ResultsJournal}
 * @param image the image file, relative to the dataset's images folder (see {@link #imagePath(Path)})
 * @param question the question as the dataset has it
 * @param answers the human answers, raw (not normalized); at least one, usually 10
 * @param bbox the ground-truth answer box in image pixels, when the dataset has one
 * @param imageSize the image's size, when known; always present when there is a box, which lies inside it
 * @param type the question's type, when the dataset names one (the synthetic scenes' {@code "type"}:
 *     colour, glyph, count, exists); evaluations report accuracy per type beside the size splits
 */
public record VqaItem(String questionId, String image, String question, List<String> answers,
    Optional<BoundingBox> bbox, Optional<ImageSize> imageSize, Optional<String> type) {
  public VqaItem {
    Objects.requireNonNull(questionId, "questionId");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(question, "question");
    if (questionId.isBlank()) {
      throw new IllegalArgumentException("question id is blank");
    }
    if (image.isBlank()) {
      throw new IllegalArgumentException("question " + questionId + ": image is blank");
    }
    answers = List.copyOf(answers); // also rejects null answers
    if (answers.isEmpty()) {
      throw new IllegalArgumentException("question " + questionId + " has no answers");
    }
    bbox = bbox == null ? Optional.empty() : bbox;
    imageSize = imageSize == null ? Optional.empty() : imageSize;
    type = type == null ? Optional.empty() : type;
    if (bbox.isPresent()) {
      if (imageSize.isEmpty()) {
        throw new IllegalArgumentException("question " + questionId + " has a box but no image size");
      }
      if (!bbox.get().inside(imageSize.get())) {
        throw new IllegalArgumentException("question " + questionId + ": box " + bbox.get()
            + " lies outside the " + imageSize.get() + " image");
      }
    }
  }

  /** An item without a type. */
  public VqaItem(String questionId, String image, String question, List<String> answers, Optional<BoundingBox> bbox, Optional<ImageSize> imageSize) {
    this(questionId, image, question, answers, bbox, imageSize, Optional.empty());
  }

  /** An item without box or image size. */
  public static VqaItem of(String questionId, String image, String question, List<String> answers) {
    return new VqaItem(questionId, image, question, answers, Optional.empty(), Optional.empty());
  }

  /** This item with a box on an image of the given size. */
  public VqaItem withBox(BoundingBox box, ImageSize size) {
    return new VqaItem(questionId, image, question, answers, Optional.of(box), Optional.of(size), type);
  }

  /** The image file under {@code imagesDir} (an absolute {@link #image()} is returned as it is). */
  public Path imagePath(Path imagesDir) {
    return imagesDir.resolve(image);
  }
}
