package dev.fovea.convert;

import dev.fovea.tensor.WeightSource;
import java.nio.file.Path;
import java.util.Map;

/**
 * An opened model: its tensors, the side files of its folder (config.json, tokenizer files,
 * preprocessor config) and the format it was read as. Closing it closes the weight source.
 */
public record ModelInput(Path path, Format format, WeightSource weights, Map<String, byte[]> files) implements AutoCloseable {
  @Override
  public void close() {
    weights.close();
  }
}
