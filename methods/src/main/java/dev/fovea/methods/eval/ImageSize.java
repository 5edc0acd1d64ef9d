package dev.fovea.methods.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/** An image's width and height in pixels, both positive. */
public record ImageSize(int width, int height) {
  public ImageSize {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size " + width + " x " + height + " must be positive");
    }
  }

  /** {@code width * height}, as a double for relative sizes. */
  public double area() {
    return (double) width * height;
  }

  /**
   * Reads the size from the file's header only (ImageIO's {@code getWidth(0)}/{@code getHeight(0)}), so
   * listing a dataset does not decode any image. It is the size {@code dev.fovea.vit.image.ImageDecoder}
   * decodes to: neither applies the EXIF orientation.
   *
   * @throws IOException naming the file when it is missing, not an image ImageIO reads, or has an
   *     unreadable header
   */
  public static ImageSize read(Path image) throws IOException {
    if (!Files.isRegularFile(image)) {
      throw new IOException(image + ": " + (Files.exists(image) ? "not a regular file" : "no such file"));
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(image.toFile())) {
      if (in == null) {
        throw new IOException(image + ": cannot open the file for reading");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new IOException(image + ": not an image ImageIO reads (no reader recognises its first bytes)");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        return new ImageSize(reader.getWidth(0), reader.getHeight(0));
      } catch (IOException | RuntimeException e) {
        throw new IOException(image + ": unreadable image header: " + e.getMessage(), e);
      } finally {
        reader.dispose();
      }
    }
  }

  @Override
  public String toString() {
    return width + " x " + height;
  }
}
