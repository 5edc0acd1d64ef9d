package dev.fovea.methods.vicrop;

/** Bad input to ViCrop (a map of the wrong size, a box outside the image, a prompt too long...). */
public class ViCropException extends RuntimeException {
  public ViCropException(String message) {
    super(message);
  }

  public ViCropException(String message, Throwable cause) {
    super(message, cause);
  }
}
