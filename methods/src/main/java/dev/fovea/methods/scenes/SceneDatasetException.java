package dev.fovea.methods.scenes;

/** A scenes dataset cannot be written where asked; the message names the folder and what is wrong. */
public final class SceneDatasetException extends RuntimeException {
  public SceneDatasetException(String message) {
    super(message);
  }

  public SceneDatasetException(String message, Throwable cause) {
    super(message, cause);
  }
}
