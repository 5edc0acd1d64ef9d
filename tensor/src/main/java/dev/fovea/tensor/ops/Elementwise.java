package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Ops.add;
import static dev.fovea.tensor.Ops.div;
import static dev.fovea.tensor.Ops.mul;
import static dev.fovea.tensor.Ops.neg;
import static dev.fovea.tensor.Ops.sub;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.UnaryOp;
import dev.fovea.tensor.autograd.Node;
import java.util.Arrays;

/**
 * Elementwise ops and their derivatives (d/dx written next to each case, in terms of the input x,
 * the result y and the incoming gradient g).
 */
public final class Elementwise {
  private Elementwise() {}

  static Tensor f32(Tensor x, String op) {
    if (x.dtype() == DType.F32) {
      return x;
    }
    if (!x.dtype().isFloatingPoint()) {
      throw new TensorException(op + ": expects a floating-point tensor, got " + x.dtype() + " of shape " + Arrays.toString(x.shape()));
    }
    return Views.to(x, DType.F32);
  }

  public static Tensor unary(UnaryOp op, Tensor x0) {
    Tensor x = f32(x0, op.name().toLowerCase());
    Tensor y = Tensor.empty(x.device(), DType.F32, x.shape());
    Backends.of(x.device()).unary(op, x, y);
    return y.recordedBy(new Node(op.name().toLowerCase(), x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {unaryBackward(op, x, y, g)};
      }
    });
  }

  private static Tensor unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor g) {
    return switch (op) {
      case NEG -> neg(g); // d(-x) = -1
      case EXP -> mul(g, y); // d exp = exp
      case LOG -> div(g, x); // d log = 1/x
      case TANH -> mul(g, sub(Ops.scalar(1f), Ops.square(y))); // 1 - tanh^2
      case ERF -> // 2/sqrt(pi) exp(-x^2)
          mul(g, Ops.mulScalar(Ops.exp(neg(Ops.square(x))), (float) (2 / Math.sqrt(Math.PI))));
      case GELU -> { // Phi(x) + x phi(x), phi = exp(-x^2/2)/sqrt(2 pi)
        Tensor cdf = Ops.mulScalar(Ops.addScalar(Ops.erf(Ops.mulScalar(x, (float) (1 / Math.sqrt(2)))), 1f), 0.5f);
        Tensor pdf = Ops.mulScalar(Ops.exp(Ops.mulScalar(Ops.square(x), -0.5f)), (float) (1 / Math.sqrt(2 * Math.PI)));
        yield mul(g, add(cdf, mul(x, pdf)));
      }
      case GELU_TANH -> { // u = c (x + a x^3); y = x/2 (1 + tanh u); dy = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) c (1 + 3 a x^2)
        float c = (float) Math.sqrt(2 / Math.PI);
        float a = 0.044715f;
        Tensor x2 = Ops.square(x);
        Tensor t = Ops.tanh(Ops.mulScalar(add(x, Ops.mulScalar(mul(x2, x), a)), c));
        Tensor left = Ops.mulScalar(Ops.addScalar(t, 1f), 0.5f);
        Tensor du = Ops.mulScalar(Ops.addScalar(Ops.mulScalar(x2, 3 * a), 1f), c);
        Tensor right = mul(Ops.mulScalar(x, 0.5f), mul(sub(Ops.scalar(1f), Ops.square(t)), du));
        yield mul(g, add(left, right));
      }
      case QUICK_GELU -> { // s = sigmoid(1.702 x); d = s + 1.702 x s (1 - s)
        Tensor s = Ops.sigmoid(Ops.mulScalar(x, 1.702f));
        yield mul(g, add(s, mul(Ops.mulScalar(x, 1.702f), mul(s, sub(Ops.scalar(1f), s)))));
      }
      case SILU -> { // s = sigmoid(x); d = s (1 + x (1 - s))
        Tensor s = Ops.sigmoid(x);
        yield mul(g, mul(s, Ops.addScalar(mul(x, sub(Ops.scalar(1f), s)), 1f)));
      }
      case RELU, STEP -> op == UnaryOp.RELU ? mul(g, unary(UnaryOp.STEP, x)) : Ops.mulScalar(g, 0f); // step' = 0 a.e.
      case SIGMOID -> mul(g, mul(y, sub(Ops.scalar(1f), y))); // y (1 - y)
      case SQRT -> div(Ops.mulScalar(g, 0.5f), y); // 1 / (2 sqrt x)
      case RSQRT -> mul(g, Ops.mulScalar(mul(y, mul(y, y)), -0.5f)); // -1/2 x^{-3/2} = -y^3/2
      case ABS -> mul(g, sub(unary(UnaryOp.STEP, x), unary(UnaryOp.STEP, neg(x)))); // sign(x)
      case SQUARE -> mul(g, Ops.mulScalar(x, 2f)); // 2x
      case RECIPROCAL -> neg(mul(g, Ops.square(y))); // -1/x^2
      case SIN -> mul(g, Ops.cos(x));
      case COS -> neg(mul(g, Ops.sin(x)));
    };
  }

  public static Tensor binary(BinaryOp op, Tensor a0, Tensor b0) {
    String name = op.name().toLowerCase();
    Tensor af = f32(a0, name);
    Tensor bf = f32(b0, name);
    // a small CPU operand (a scalar, a mask, a table) beside a device tensor is copied over
    boolean aOnHost = af.device().equals(dev.fovea.tensor.Device.CPU);
    Tensor a = aOnHost ? Transfer.align(name, af, bf) : af;
    Tensor b = aOnHost ? bf : Transfer.align(name, bf, af);
    int[] shape = Shapes.broadcast(name, a.shape(), b.shape());
    Tensor ae = Views.expand(a.detach(), shape);
    Tensor be = Views.expand(b.detach(), shape);
    Tensor y = Tensor.empty(a.device(), DType.F32, shape);
    Backends.of(a.device()).binary(op, ae, be, y);
    if (op == BinaryOp.EQ || op == BinaryOp.GT) {
      return y; // piecewise constant: no gradient
    }
    return y.recordedBy(new Node(name, a, b) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor ga = null;
        Tensor gb = null;
        boolean needA = a.requiresGrad();
        boolean needB = b.requiresGrad();
        switch (op) {
          case ADD -> {
            ga = g;
            gb = g;
          }
          case SUB -> {
            ga = g;
            gb = needB ? neg(g) : null;
          }
          case MUL -> {
            ga = needA ? mul(g, b) : null;
            gb = needB ? mul(g, a) : null;
          }
          case DIV -> { // d(a/b)/da = 1/b, d/db = -a/b^2 = -y/b
            ga = needA ? div(g, b) : null;
            gb = needB ? neg(div(mul(g, y), b)) : null;
          }
          case MAX, MIN -> { // the gradient goes to the selected input (to a on ties)
            Tensor pickA = binary(BinaryOp.EQ, y, a);
            ga = needA ? mul(g, pickA) : null;
            gb = needB ? mul(g, sub(Ops.scalar(1f), pickA)) : null;
          }
          case POW -> { // d a^b/da = b a^(b-1) = b y / a; d/db = y log a
            ga = needA ? mul(g, mul(b, binary(BinaryOp.POW, a, Ops.addScalar(b, -1f)))) : null;
            gb = needB ? mul(g, mul(y, Ops.log(a))) : null;
          }
          default -> throw new IllegalStateException(name);
        }
        return new Tensor[] {
          ga == null ? null : Reductions.sumToShape(ga, a.shape()),
          gb == null ? null : Reductions.sumToShape(gb, b.shape())
        };
      }
    });
  }
}
