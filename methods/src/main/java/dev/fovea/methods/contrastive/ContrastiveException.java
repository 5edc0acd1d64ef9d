package dev.fovea.methods.contrastive;

/** Bad input to a contrastive decoding method (VCD, AVC): a parameter out of range, a prompt without an image, a prompt too long... */
public class ContrastiveException extends RuntimeException {
  public ContrastiveException(String message) {
    super(message);
  }
}
