package dev.fovea.tensor.io;

import dev.fovea.tensor.TensorException;

/**
 * A weight file is malformed, truncated, hostile or uses something the reader does not support.
 * The message always names the file and, where known, the tensor or header field at fault:
 * {@code "model.safetensors: tensor 'wte': data_offsets [0, 12] do not match shape [2, 3] of F32 (24 bytes)"}.
 */
public class FormatException extends TensorException {
  private final String file;
  private final String field;

  public FormatException(String file, String field, String message) {
    super(compose(file, field, message));
    this.file = file;
    this.field = field;
  }

  public FormatException(String file, String field, String message, Throwable cause) {
    super(compose(file, field, message), cause);
    this.file = file;
    this.field = field;
  }

  private static String compose(String file, String field, String message) {
    return file + (field == null ? "" : ": " + field) + ": " + message;
  }

  /** The file at fault. */
  public String file() {
    return file;
  }

  /** The tensor or header field at fault ("tensor 'x'", "header length", ...), or null. */
  public String field() {
    return field;
  }
}
