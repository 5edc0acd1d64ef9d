package dev.fovea.llm.llava;

import dev.fovea.tensor.TensorException;

/** A LLaVA model, its config, its prompt or its images are not what they must be; the message says which and why. */
public class LlavaException extends TensorException {
  public LlavaException(String message) {
    super(message);
  }

  public LlavaException(String message, Throwable cause) {
    super(message, cause);
  }
}
