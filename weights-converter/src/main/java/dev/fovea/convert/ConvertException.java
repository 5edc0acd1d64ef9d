package dev.fovea.convert;

import dev.fovea.tensor.TensorException;

/** An input cannot be opened or converted; the message names the path and what is wrong. */
public class ConvertException extends TensorException {
  public ConvertException(String message) {
    super(message);
  }

  public ConvertException(String message, Throwable cause) {
    super(message, cause);
  }
}
