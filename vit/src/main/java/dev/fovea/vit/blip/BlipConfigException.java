package dev.fovea.vit.blip;

import dev.fovea.tensor.TensorException;

/** A BLIP checkpoint (config.json, weights, vocab) that cannot be used: the message names the file and the key or tensor at fault. */
public final class BlipConfigException extends TensorException {
  public BlipConfigException(String message) {
    super(message);
  }

  public BlipConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
