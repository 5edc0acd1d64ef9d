package dev.fovea.methods.eval;

/**
 * A results journal that cannot be used: garbage before its last line, a record with a missing or
 * mistyped field, a journal written by a different run (method, model or settings), a file locked by
 * another process, a question appended twice. The message names the file, and the line when there is
 * one.
 */
public final class ResultsJournalException extends RuntimeException {
  public ResultsJournalException(String message) {
    super(message);
  }

  public ResultsJournalException(String message, Throwable cause) {
    super(message, cause);
  }
}
