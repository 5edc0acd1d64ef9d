// Hand-written in flatc's Java style from tensor/src/main/flatbuffers/fovea_archive.fbs; keep in step.

package dev.fovea.tensor.archive.fb;

/** Element grouping (schema enum {@code BlockType : ubyte}). */
@SuppressWarnings("unused")
public final class BlockType {
  private BlockType() {}

  public static final int NONE = 0;
  public static final int Q8_0 = 1;
  public static final int Q4_0 = 2;

  public static final String[] names = {"NONE", "Q8_0", "Q4_0"};

  public static String name(int e) {
    return names[e];
  }
}
