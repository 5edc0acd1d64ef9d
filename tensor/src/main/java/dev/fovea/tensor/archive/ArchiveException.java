package dev.fovea.tensor.archive;

import dev.fovea.tensor.io.FormatException;

/**
 * A fovea archive is malformed, truncated, of another version, or cannot be read or written. The
 * message names the file and the field or tensor at fault, e.g. {@code "model.fovea: tensor
 * 'fc1.weight': offset 96 is not a multiple of 64"}.
 *
 * <p>A {@link FormatException}, so a caller that reads weights of any format catches one type;
 * {@link #file()} is the archive (or temporary file), {@link #field()} is null (the field, when
 * known, is part of the message).
 */
public class ArchiveException extends FormatException {
  public ArchiveException(String file, String message) {
    super(file, null, message);
  }

  public ArchiveException(String file, String message, Throwable cause) {
    super(file, null, message, cause);
  }
}
