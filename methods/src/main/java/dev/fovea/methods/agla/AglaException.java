package dev.fovea.methods.agla;

/** AGLA cannot run as asked (bad parameters, a model that lacks what it needs); the message says what and why. */
public final class AglaException extends RuntimeException {
  public AglaException(String message) {
    super(message);
  }
}
