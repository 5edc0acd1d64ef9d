package dev.fovea.llm.llava;

/** Positions [start, end) of one image's feature rows in the merged LLaVA sequence (row-major patches). */
public record ImageSpan(int start, int end) {
  public ImageSpan {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException("image span [" + start + ", " + end + ") is empty or negative");
    }
  }

  public int length() {
    return end - start;
  }
}
