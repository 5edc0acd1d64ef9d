package dev.fovea.nn.train;

import dev.fovea.tensor.TensorException;

/** A training run cannot go on: a bad setting, a checkpoint that does not fit, a non-finite loss. */
public class TrainException extends TensorException {
  public TrainException(String message) {
    super(message);
  }

  public TrainException(String message, Throwable cause) {
    super(message, cause);
  }
}
