package dev.fovea.methods.eval;

/**
 * An evaluation that stopped at one item ({@link VqaEvaluation}, {@link YesNoEvaluation}): the answerer
 * failed (the cause is kept), its answer could not be recorded, the item id repeats among the items, or
 * a resumed record disagrees with the data. Results recorded before it are in the journal.
 */
public final class EvaluationException extends RuntimeException {
  private final String questionId;

  public EvaluationException(String questionId, String message) {
    super(message);
    this.questionId = questionId;
  }

  public EvaluationException(String questionId, String message, Throwable cause) {
    super(message, cause);
    this.questionId = questionId;
  }

  /** The item (question) at which the evaluation stopped. */
  public String questionId() {
    return questionId;
  }
}
