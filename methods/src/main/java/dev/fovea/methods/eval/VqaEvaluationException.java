package dev.fovea.methods.eval;

/**
 * An evaluation that stopped at one question: the answerer failed (the cause is kept), its answer
 * could not be recorded, or the question id repeats among the items. Results recorded before it are
 * in the journal.
 */
public final class VqaEvaluationException extends RuntimeException {
  private final String questionId;

  public VqaEvaluationException(String questionId, String message) {
    super(message);
    this.questionId = questionId;
  }

  public VqaEvaluationException(String questionId, String message, Throwable cause) {
    super(message, cause);
    this.questionId = questionId;
  }

  /** The question at which the evaluation stopped. */
  public String questionId() {
    return questionId;
  }
}
