package dev.fovea.tensor;

import java.util.Arrays;
import java.util.stream.Collectors;

/** An op got shapes it cannot work with; the message names the op and every shape involved. */
public class ShapeException extends TensorException {
  public ShapeException(String message) {
    super(message);
  }

  /** "op: shapes [2, 3] and [4] ..." followed by the reason. */
  public static ShapeException of(String op, String reason, int[]... shapes) {
    String s = Arrays.stream(shapes).map(Arrays::toString).collect(Collectors.joining(" and "));
    return new ShapeException(op + ": shapes " + s + ": " + reason);
  }
}
