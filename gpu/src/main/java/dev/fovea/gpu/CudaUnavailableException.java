package dev.fovea.gpu;

import dev.fovea.tensor.TensorException;

/**
 * The CUDA backend cannot start on this machine: no driver, no device, or the CUDA libraries are
 * missing. The message starts with "no CUDA device" and says what was missing and how to fix it.
 */
public final class CudaUnavailableException extends TensorException {
  public CudaUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
