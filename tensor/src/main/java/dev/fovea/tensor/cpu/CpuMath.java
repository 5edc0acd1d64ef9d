package dev.fovea.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Scalar and vector versions of the special functions the kernels need. exp, log, tanh, sin and
 * cos use the Vector API's lanewise operators (intrinsics backed by the JDK's vector math library,
 * within a few ulp of {@link Math}); erf is our polynomial (Abramowitz and Stegun 7.1.26 refined:
 * max abs error 1.5e-7 in exact arithmetic, tested against a double-precision reference).
 */
public final class CpuMath {
  private CpuMath() {}

  // A&S 7.1.26: erf(x) = 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) e^{-x^2}, t = 1/(1 + p x), x >= 0.
  static final float ERF_P = 0.3275911f;
  static final float ERF_A1 = 0.254829592f;
  static final float ERF_A2 = -0.284496736f;
  static final float ERF_A3 = 1.421413741f;
  static final float ERF_A4 = -1.453152027f;
  static final float ERF_A5 = 1.061405429f;

  public static float erf(float x) {
    // Computed in double: the polynomial's own error (1.5e-7) dominates.
    double ax = Math.abs(x);
    double t = 1.0 / (1.0 + ERF_P * ax);
    double y = 1.0 - (((((ERF_A5 * t + ERF_A4) * t) + ERF_A3) * t + ERF_A2) * t + ERF_A1) * t * Math.exp(-ax * ax);
    return (float) Math.copySign(y, x);
  }

  public static FloatVector erf(FloatVector x) {
    FloatVector ax = x.abs();
    FloatVector t = FloatVector.broadcast(x.species(), 1f).div(ax.fma(ERF_P, 1f));
    FloatVector poly = t.fma(ERF_A5, ERF_A4).fma(t, FloatVector.broadcast(x.species(), ERF_A3));
    poly = poly.fma(t, FloatVector.broadcast(x.species(), ERF_A2)).fma(t, FloatVector.broadcast(x.species(), ERF_A1)).mul(t);
    FloatVector e = ax.mul(ax).neg().lanewise(VectorOperators.EXP);
    FloatVector y = FloatVector.broadcast(x.species(), 1f).sub(poly.mul(e));
    // erf is odd: negate where x < 0
    return y.blend(y.neg(), x.compare(VectorOperators.LT, 0f));
  }

  public static float sigmoid(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-x)));
  }

  public static FloatVector sigmoid(FloatVector x) {
    FloatVector one = FloatVector.broadcast(x.species(), 1f);
    return one.div(x.neg().lanewise(VectorOperators.EXP).add(one));
  }
}
