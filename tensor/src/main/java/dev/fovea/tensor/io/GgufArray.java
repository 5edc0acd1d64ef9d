package dev.fovea.tensor.io;

import java.util.List;

/**
 * A GGUF array value: its element type and the elements as {@link GgufType} describes (nested
 * arrays are {@code GgufArray}s again).
 */
public record GgufArray(GgufType elementType, List<Object> values) {
  public GgufArray {
    values = List.copyOf(values);
  }

  public int size() {
    return values.size();
  }
}
