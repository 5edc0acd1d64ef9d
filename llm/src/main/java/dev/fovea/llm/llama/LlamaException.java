package dev.fovea.llm.llama;

import dev.fovea.tensor.TensorException;

/** A LLaMA model, its config or its inputs are not what they must be; the message says which and why. */
public class LlamaException extends TensorException {
  public LlamaException(String message) {
    super(message);
  }

  public LlamaException(String message, Throwable cause) {
    super(message, cause);
  }
}
