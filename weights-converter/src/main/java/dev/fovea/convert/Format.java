package dev.fovea.convert;

import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

/**
 * A weights format {@link Inputs} can recognise: a detector over a {@link Probe} (the first bytes
 * of a file, or a directory's file names) and the reader that opens it. {@code opener} is null for
 * a format this build recognises but cannot read yet, so the error says exactly that.
 */
public record Format(String name, Predicate<Probe> detects, Opener opener) {
  /** Opens a path this format detected (a file, or a model folder for sharded formats). */
  @FunctionalInterface
  public interface Opener {
    WeightSource open(Path path) throws IOException;
  }

  /** What detectors look at: for a file its first bytes, for a directory the names in it. */
  public record Probe(Path path, boolean directory, byte[] head, List<String> children) {
    /** True if the file starts with {@code magic} (ASCII). */
    public boolean startsWith(String magic) {
      if (directory || head.length < magic.length()) {
        return false;
      }
      for (int i = 0; i < magic.length(); i++) {
        if (head[i] != (byte) magic.charAt(i)) {
          return false;
        }
      }
      return true;
    }

    public boolean nameEndsWith(String suffix) {
      return path.getFileName() != null && path.getFileName().toString().endsWith(suffix);
    }

    /** For a directory: whether it holds a file whose name ends with {@code suffix}. */
    public boolean hasChildEndingWith(String suffix) {
      return children.stream().anyMatch(c -> c.endsWith(suffix));
    }
  }

  public boolean readable() {
    return opener != null;
  }
}
