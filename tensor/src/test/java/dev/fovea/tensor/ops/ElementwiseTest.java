package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;

import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.Check;
import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Naive;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.UnaryOp;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Elementwise ops: every unary op and every broadcasting binary op against {@link Naive}, over
 * random shapes and layouts (forward), and their gradients against finite differences (backward).
 *
 * <p>Forward tolerance: |err| &lt;= 1e-6 + 1e-6 |want| (a few float ulps; the special functions'
 * own error budgets are measured in {@code CpuMathTest}); sin/cos add 1e-6 absolute for arguments
 * up to |x| ~ 12.
 */
class ElementwiseTest {

  /** Inputs inside each op's domain, away from kinks and poles so that finite differences are meaningful. */
  static double[] domain(UnaryOp op, Random rng, int n) {
    double[] v = Gens.normal(rng, n, 3);
    for (int i = 0; i < n; i++) {
      double x = v[i];
      v[i] = (float) switch (op) {
        case LOG, SQRT, RSQRT -> Math.abs(x) + 0.1;
        case RECIPROCAL -> Math.copySign(Math.abs(x) + 0.2, x);
        case RELU, ABS, STEP -> Math.copySign(Math.abs(x) + 0.05, x); // away from the kink at 0
        default -> x;
      };
    }
    return v;
  }

  @Tag("kernel")
  @Test
  void unaryForwardMatchesNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        for (UnaryOp op : UnaryOp.values()) {
          Gens.View x = Gens.view(rng, shape, domain(op, rng, Naive.numel(shape)), true);
          Tensor y = Ops.unary(op, x.t());
          Naive.Arr want = x.a().map(Naive.unary(op));
          double atol = op == UnaryOp.SIN || op == UnaryOp.COS ? 2e-6 : 1e-6;
          Check.close(op + " on " + x, y, want, atol, 1e-6);
        }
      }
    });
  }

  /** Shape that broadcasts to {@code s}: some dims set to 1, sometimes leading dims dropped. */
  static int[] broadcastable(int[] s, Random rng) {
    int[] b = s.clone();
    for (int d = 0; d < b.length; d++) {
      if (rng.nextInt(4) == 0) {
        b[d] = 1;
      }
    }
    int drop = rng.nextInt(3) == 0 ? rng.nextInt(b.length + 1) : 0;
    return Arrays.copyOfRange(b, drop, b.length);
  }

  static double[] binaryDomain(BinaryOp op, boolean left, Random rng, int n) {
    double[] v = Gens.normal(rng, n, 2);
    for (int i = 0; i < n; i++) {
      if (op == BinaryOp.POW) {
        // base in [0.5, 2.5), exponent in [-2, 2): moderate curvature for finite differences
        v[i] = (float) (left ? 0.5 + rng.nextDouble() * 2 : -2 + 4 * rng.nextDouble());
      } else if (op == BinaryOp.DIV && !left) {
        v[i] = (float) Math.copySign(Math.abs(v[i]) + 0.2, v[i]);
      }
    }
    return v;
  }

  @Tag("kernel")
  @Test
  void binaryForwardBroadcastsLikeNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        for (BinaryOp op : BinaryOp.values()) {
          int[] sa = broadcastable(shape, rng);
          int[] sb = broadcastable(shape, rng);
          double[] va = binaryDomain(op, true, rng, Naive.numel(sa));
          double[] vb = binaryDomain(op, false, rng, Naive.numel(sb));
          if (op == BinaryOp.EQ || op == BinaryOp.GT || op == BinaryOp.MAX || op == BinaryOp.MIN) {
            // values on a coarse grid so that ties happen
            va = Arrays.stream(va).map(v -> Math.round(v * 2) / 2.0).toArray();
            vb = Arrays.stream(vb).map(v -> Math.round(v * 2) / 2.0).toArray();
          }
          Gens.View a = Gens.view(rng, sa, va, true);
          Gens.View b = Gens.view(rng, sb, vb, true);
          Tensor y = Ops.binary(op, a.t(), b.t());
          Naive.Arr want = Naive.binary(Naive.binary(op), a.a(), b.a());
          Check.close(op + " of " + a + " and " + b, y, want, 1e-6, 1e-6);
        }
      }
    });
  }

  /**
   * Backward of every differentiable unary op through a view of the leaf (slice with a step and a
   * transpose). Central differences with eps = 1e-2 on O(1) inputs: truncation error eps^2 f'''/6
   * ~ 2e-5 and float rounding ~ 6e-8 |y| / eps ~ 1e-5, so |err| &lt;= 2e-3 + 1e-2 |numeric| is loose
   * enough for the method and tight enough to catch a wrong formula (those are off by O(1)).
   */
  @Test
  void unaryBackwardMatchesFiniteDifferences() {
    qt(0.2).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int rows = 1 + rng.nextInt(4);
        int cols = 2 + rng.nextInt(6);
        for (UnaryOp op : UnaryOp.values()) {
          if (op == UnaryOp.STEP) {
            continue; // piecewise constant
          }
          Naive.Arr a = new Naive.Arr(new int[] {rows, 2 * cols}, domain(op, rng, rows * 2 * cols));
          Tensor x = a.tensor().requiresGrad(true);
          double eps = op == UnaryOp.EXP ? 1e-3 : 1e-2; // exp(30)'s curvature needs a smaller step
          GradCheck.check(op.name().toLowerCase() + " through slice+transpose",
              in -> Ops.unary(op, in.get(0).slice(1, 1, 2 * cols, 2).transpose(0, 1)),
              List.of(x), eps, 2e-3, op == UnaryOp.EXP ? 2e-3 : 1e-2);
        }
      }
    });
  }

  /** Backward of binary ops with broadcast operands: the gradient of a broadcast input is summed over the broadcast dims. */
  @Test
  void binaryBackwardThroughBroadcasting() {
    qt(0.2).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int[] shape = {1 + rng.nextInt(3), 1 + rng.nextInt(3), 1 + rng.nextInt(5)};
        for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAX, BinaryOp.MIN, BinaryOp.POW}) {
          int[] sa = broadcastable(shape, rng);
          int[] sb = broadcastable(shape, rng);
          double[] va = binaryDomain(op, true, rng, Naive.numel(sa));
          double[] vb = binaryDomain(op, false, rng, Naive.numel(sb));
          if (op == BinaryOp.MAX || op == BinaryOp.MIN) {
            // |a| < 1 < |b|: never near the kink a == b, and either side wins somewhere
            va = Gens.uniform(rng, va.length, -1, 1);
            for (int i = 0; i < vb.length; i++) {
              vb[i] = (float) ((i % 2 == 0 ? 1 : -1) * (2 + rng.nextDouble()));
            }
          }
          Tensor a = new Naive.Arr(sa, va).tensor().requiresGrad(true);
          Tensor b = new Naive.Arr(sb, vb).tensor().requiresGrad(true);
          GradCheck.check(op + " " + Arrays.toString(sa) + " with " + Arrays.toString(sb),
              in -> Ops.binary(op, in.get(0), in.get(1)), List.of(a, b), 1e-2, 2e-3, 1e-2);
        }
      }
    });
  }
}
