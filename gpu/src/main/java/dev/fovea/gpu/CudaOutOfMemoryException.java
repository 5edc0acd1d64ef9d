package dev.fovea.gpu;

import dev.fovea.tensor.TensorException;

/** The device has no memory left for an allocation, even after the pool's cached blocks were freed. */
public final class CudaOutOfMemoryException extends TensorException {
  public CudaOutOfMemoryException(String message) {
    super(message);
  }
}
