package dev.fovea.llm.instructblip;

import dev.fovea.tensor.TensorException;

/** An InstructBLIP model, its config, its prompt or its images are not what they must be; the message says which and why. */
public class InstructBlipException extends TensorException {
  public InstructBlipException(String message) {
    super(message);
  }

  public InstructBlipException(String message, Throwable cause) {
    super(message, cause);
  }
}
