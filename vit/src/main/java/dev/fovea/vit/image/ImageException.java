package dev.fovea.vit.image;

import java.nio.file.Path;

/**
 * An image that cannot be read or processed: unreadable, truncated or corrupt data, a size outside the
 * limits, a colour layout we do not convert, or a file that is no image at all. The message always
 * names the file (or the caller's label for in-memory data) and what is wrong with it.
 */
public final class ImageException extends RuntimeException {
  private final String source;

  public ImageException(String source, String problem) {
    super(source + ": " + problem);
    this.source = source;
  }

  public ImageException(String source, String problem, Throwable cause) {
    super(source + ": " + problem, cause);
    this.source = source;
  }

  public ImageException(Path path, String problem) {
    this(path.toString(), problem);
  }

  /** The file path or label of the image at fault. */
  public String source() {
    return source;
  }
}
