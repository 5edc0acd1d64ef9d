package dev.fovea.vit.clip;

import dev.fovea.tensor.TensorException;

/**
 * A CLIP config.json (or a checkpoint that disagrees with it) that cannot be used: the message
 * names the file and the key or tensor at fault.
 */
public final class ClipConfigException extends TensorException {
  private final String key;
  private final String problem;

  public ClipConfigException(String message) {
    super(message);
    this.key = null;
    this.problem = message;
  }

  private ClipConfigException(String key, String problem) {
    super("'" + key + "' " + problem);
    this.key = key;
    this.problem = problem;
  }

  /** The config key at fault (relative to its record), or null. */
  public String key() {
    return key;
  }

  String problem() {
    return problem;
  }

  public ClipConfigException(String message, Throwable cause) {
    super(message, cause);
    this.key = null;
    this.problem = message;
  }

  /** A validation failure of one key, before the file is known (the readers add the file). */
  static ClipConfigException key(String key, String problem) {
    return new ClipConfigException(key, problem);
  }

  /** {@code value} (or {@code dflt} when null) in [1, max]; {@code max} is one of {@link ClipConfig}'s limits. */
  static int size(String key, Integer value, int dflt, int max) {
    int v = value == null ? dflt : value;
    if (v <= 0) {
      throw key(key, "must be positive, found " + v);
    }
    if (v > max) {
      throw key(key, "must be at most " + max + " (fovea's limit), found " + v);
    }
    return v;
  }
}
