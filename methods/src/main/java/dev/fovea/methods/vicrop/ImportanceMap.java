package dev.fovea.methods.vicrop;

import java.util.Arrays;

/**
 * An importance map over a model's visual grid, row-major: {@code value(row, col) = values[row *
 * cols + col]}, row = y (top to bottom), col = x. LLaVA-1.5's grid is 24 x 24 (token k of an
 * image span is row k / 24, column k % 24); a high-resolution map stitches tiles into (vs·m) x (hs·m).
 */
public record ImportanceMap(int rows, int cols, float[] values) {
  public ImportanceMap {
    if (rows <= 0 || cols <= 0) {
      throw new ViCropException("importance map size " + rows + " x " + cols + " must be positive");
    }
    if (values == null || values.length != (long) rows * cols) {
      throw new ViCropException("importance map " + rows + " x " + cols + " needs " + ((long) rows * cols) + " values, got "
          + (values == null ? "none" : values.length));
    }
    values = values.clone();
  }

  public float get(int row, int col) {
    return values[row * cols + col];
  }

  /** A copy of the values, row-major. */
  @Override
  public float[] values() {
    return values.clone();
  }

  /** Throws a {@link ViCropException} unless this map is {@code rows} x {@code cols}. */
  public ImportanceMap requireSize(int expectRows, int expectCols, String what) {
    if (rows != expectRows || cols != expectCols) {
      throw new ViCropException(what + ": the importance map is " + rows + " x " + cols + " but " + expectRows + " x " + expectCols + " is needed");
    }
    return this;
  }

  /**
   * Throws a {@link ViCropException} naming the first cell (row, column) whose value is NaN or
   * infinite; {@code what} says who needs the map.
   */
  public ImportanceMap requireFinite(String what) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        throw new ViCropException(what + ": importance map value at (row " + i / cols + ", col " + i % cols + ") is " + values[i]
            + "; the map must be finite (a 0/0 or x/0 ratio?)");
      }
    }
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImportanceMap m && m.rows == rows && m.cols == cols && Arrays.equals(m.values, values);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * rows + cols) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "ImportanceMap[" + rows + " x " + cols + "]";
  }
}
