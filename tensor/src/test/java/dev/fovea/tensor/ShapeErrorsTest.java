package dev.fovea.tensor;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.ops.Interpolate;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every op given shapes it cannot use throws a TensorException naming the op and every shape involved (STYLE point 12). */
class ShapeErrorsTest {

  static void fails(String op, Executable call, int[]... shapes) {
    TensorException e = assertThrows(TensorException.class, call, op + " should reject its shapes");
    String m = e.getMessage();
    assertTrue(m.contains(op), "message should name the op '" + op + "': " + m);
    for (int[] s : shapes) {
      assertTrue(m.contains(Shapes.str(s)), "message should name shape " + Shapes.str(s) + ": " + m);
    }
  }

  static Tensor t(int... shape) {
    return Tensor.zeros(shape);
  }

  @Test
  void mismatchedShapesNameTheOpAndBothShapes() {
    int[] a = {2, 3};
    int[] b = {4};
    for (BinaryOp op : BinaryOp.values()) {
      fails(op.name().toLowerCase(), () -> Ops.binary(op, t(a), t(b)), a, b);
    }
    fails("matmul", () -> Ops.matmul(t(2, 3), t(4, 5)), new int[] {2, 3}, new int[] {4, 5});
    fails("matmul", () -> Ops.matmul(t(2, 2, 3), t(3, 3, 5)), new int[] {2, 2, 3}, new int[] {3, 3, 5});
    fails("linear", () -> Ops.linear(t(2, 3), t(5, 4), null), new int[] {2, 3}, new int[] {5, 4});
    fails("linear", () -> Ops.linear(t(2, 4), t(5, 4), t(3)), new int[] {3}, new int[] {5, 4});
    fails("layerNorm", () -> Ops.layerNorm(t(2, 3), t(4), null, 1e-5f), new int[] {2, 3}, new int[] {4});
    fails("rmsNorm", () -> Ops.rmsNorm(t(2, 3), t(4), 1e-5f), new int[] {2, 3}, new int[] {4});
    fails("attention", () -> Ops.scaledDotProductAttention(t(1, 2, 3, 4), t(1, 2, 5, 8), t(1, 2, 5, 8), null, false, 1f),
        new int[] {1, 2, 3, 4}, new int[] {1, 2, 5, 8});
    fails("attention", () -> Ops.scaledDotProductAttention(t(1, 3, 3, 4), t(1, 2, 5, 4), t(1, 2, 5, 4), null, false, 1f),
        new int[] {1, 3, 3, 4}, new int[] {1, 2, 5, 4});
    fails("attention", () -> Ops.scaledDotProductAttention(t(1, 2, 3, 4), t(1, 2, 5, 4), t(1, 2, 5, 4), t(3, 4), false, 1f),
        new int[] {3, 4}, new int[] {1, 2, 3, 5});
    fails("rope", () -> Ops.rope(t(2, 3, 8), t(3, 3), t(3, 3), false), new int[] {2, 3, 8}, new int[] {3, 3});
    fails("rope", () -> Ops.rope(t(2, 3, 8), t(3, 4), t(2, 4), false), new int[] {3, 4}, new int[] {2, 4});
    fails("conv2d", () -> Ops.conv2d(t(1, 3, 8, 8), t(4, 2, 3, 3), null, 1, 0), new int[] {1, 3, 8, 8}, new int[] {4, 2, 3, 3});
    fails("conv2d", () -> Ops.conv2d(t(1, 3, 8, 8), t(4, 3, 3, 3), t(5), 1, 0), new int[] {5}, new int[] {4, 3, 3, 3});
    fails("concat", () -> Ops.concat(List.of(t(2, 3), t(4, 4)), 0), new int[] {2, 3}, new int[] {4, 4});
    fails("stack", () -> Ops.stack(List.of(t(2, 3), t(3, 2)), 0), new int[] {2, 3}, new int[] {3, 2});
    fails("indexSelect", () -> Ops.indexSelect(t(2, 3), 1, Tensor.ofLongs(new long[] {0, 1}, 1, 2)), new int[] {2, 3}, new int[] {1, 2});
    fails("embedding", () -> Ops.embedding(t(2, 3, 4), Tensor.ofInts(new int[] {0}, 1)), new int[] {2, 3, 4}, new int[] {1});
    fails("expand", () -> Ops.expand(t(2, 3), 4, 3), new int[] {2, 3}, new int[] {4, 3});
    fails("reshape", () -> Ops.reshape(t(2, 3), 4, 2), new int[] {2, 3}, new int[] {4, 2});
    fails("copyInto", () -> Ops.copyInto(t(2, 3), t(3, 3)), new int[] {2, 3}, new int[] {3, 3});
    fails("interpolate", () -> Ops.interpolate(t(3), 4, 4, Interpolate.Mode.BILINEAR, false), new int[] {3});
    fails("split", () -> Ops.split(t(2, 5), 1, 2, 2), new int[] {2, 5});
    fails("softmax", () -> Ops.softmax(t(2, 3), 2), new int[] {2, 3});
    fails("sum", () -> Ops.sum(t(2, 3), -3, false), new int[] {2, 3});
  }
}
