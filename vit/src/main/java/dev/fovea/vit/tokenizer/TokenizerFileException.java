package dev.fovea.vit.tokenizer;

import java.nio.file.Path;

/**
 * A vocabulary or tokenizer file is missing, unreadable or malformed. The message always names the
 * file and says what was expected.
 */
public final class TokenizerFileException extends RuntimeException {
  private final transient Path file;

  public TokenizerFileException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  public TokenizerFileException(Path file, String message, Throwable cause) {
    super(file + ": " + message + (cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"), cause);
    this.file = file;
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }
}
