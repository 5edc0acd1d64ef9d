package dev.fovea.tensor.archive;

import dev.fovea.tensor.TensorException;

/**
 * A fovea archive is malformed, truncated, of another version, or cannot be read or written. The
 * message names the file and the field or tensor at fault, e.g. {@code "model.fovea: tensor
 * 'fc1.weight': offset 96 is not a multiple of 64"}.
 */
public class ArchiveException extends TensorException {
  private final String file;

  public ArchiveException(String file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  public ArchiveException(String file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The archive (or temporary file) at fault. */
  public String file() {
    return file;
  }
}
