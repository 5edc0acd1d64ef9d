package dev.fovea.tensor;

/** Where a tensor's storage lives. The CPU is always present; others come from backends found through ServiceLoader. */
public record Device(String kind, int index) {
  public static final Device CPU = new Device("cpu", 0);

  public Device {
    if (kind == null || kind.isBlank()) {
      throw new IllegalArgumentException("device kind must not be empty");
    }
    if (index < 0) {
      throw new IllegalArgumentException("device index must be >= 0, got " + index);
    }
  }

  /** Parses "cpu", "cuda", "cuda:1". */
  public static Device parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 0) {
      return text.equals("cpu") ? CPU : new Device(text, 0);
    }
    try {
      return new Device(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad device '" + text + "': expected kind or kind:index, e.g. cuda:0");
    }
  }

  @Override
  public String toString() {
    return kind.equals("cpu") ? "cpu" : kind + ":" + index;
  }
}
