package dev.fovea.methods.abs;

/** Bad input to ABS: a descriptions file missing a class, an empty class folder, a bad setting. The message names the file, class or option. */
public class AbsException extends RuntimeException {
  public AbsException(String message) {
    super(message);
  }

  public AbsException(String message, Throwable cause) {
    super(message, cause);
  }
}
