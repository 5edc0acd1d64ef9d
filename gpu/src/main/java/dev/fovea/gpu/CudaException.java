package dev.fovea.gpu;

import dev.fovea.tensor.TensorException;

/** A CUDA, cuBLAS or NVRTC call failed; the message names the call, the error and its code. */
public final class CudaException extends TensorException {
  public CudaException(String message) {
    super(message);
  }
}
