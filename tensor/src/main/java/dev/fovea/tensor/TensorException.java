package dev.fovea.tensor;

/** Base of the typed errors thrown by the tensor layer; messages name the op, tensor, shapes or file at fault. */
public class TensorException extends RuntimeException {
  public TensorException(String message) {
    super(message);
  }

  public TensorException(String message, Throwable cause) {
    super(message, cause);
  }
}
