package dev.fovea.vit.dino;

import dev.fovea.tensor.TensorException;

/** A ViT/DINO config.json, or a checkpoint that disagrees with it: the message names the file and the key or tensor at fault. */
public final class VitConfigException extends TensorException {
  public VitConfigException(String message) {
    super(message);
  }

  public VitConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
