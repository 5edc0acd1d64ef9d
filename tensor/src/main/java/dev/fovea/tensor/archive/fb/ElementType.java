// Hand-written in flatc's Java style from tensor/src/main/flatbuffers/fovea_archive.fbs; keep in step.

package dev.fovea.tensor.archive.fb;

/** Element type of the stored bytes (schema enum {@code ElementType : ubyte}). */
@SuppressWarnings("unused")
public final class ElementType {
  private ElementType() {}

  public static final int F32 = 0;
  public static final int F16 = 1;
  public static final int BF16 = 2;
  public static final int I32 = 3;
  public static final int I64 = 4;
  public static final int Q8_0 = 5;
  public static final int Q4_0 = 6;

  public static final String[] names = {"F32", "F16", "BF16", "I32", "I64", "Q8_0", "Q4_0"};

  public static String name(int e) {
    return names[e];
  }
}
