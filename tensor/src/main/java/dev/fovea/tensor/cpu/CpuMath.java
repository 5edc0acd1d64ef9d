package dev.fovea.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Scalar and vector versions of the special functions the kernels need. exp, log, tanh, sin and
 * cos use the Vector API's lanewise operators (intrinsics backed by the JDK's vector math library,
 * within a couple of ulp of {@link Math}); erf and erfc are ours. Measured errors against a
 * double-precision reference are asserted in {@code CpuMathTest}.
 *
 * <p>erf(x) = x P(x^2) for |x| &lt; 0.75, and erfc(z) = t exp(-z^2 + R(t)) with t = 1/(1 + z/2)
 * beyond (the form of Numerical Recipes' erfcc). P (degree 5) and R (degree 8) are least-squares
 * fits on Chebyshev nodes against mpmath: relative error 1.4e-9 for P, absolute error 1.1e-8 for R,
 * far below float precision, so the float kernels are limited by their own rounding.
 *
 * <p>Two traps this file avoids (each would cost relative accuracy where a result is small):
 * <ul>
 *   <li>gelu(x) for x &lt; 0 is x/2 erfc(-x/sqrt 2), never x/2 (1 + erf(x/sqrt 2)): near x = -5 the
 *       sum 1 + erf cancels to ~6e-7 and keeps no correct digit of float's erf.
 *   <li>exp(-z^2 + R) is computed as exp(-hi) exp(R - lo) with z^2 = hi + lo split exactly by an
 *       fma: rounding z^2 to float first shifts the exponent by up to 4e-6 at z = 10.
 * </ul>
 */
public final class CpuMath {
  private CpuMath() {}

  /** Below this |z| erf uses the odd series fit; above, the erfc tail. */
  static final float SPLIT = 0.75f;

  // erf(x) = x P(x^2), |x| < 0.75
  static final double[] P = {
    1.128379165488636, -0.37612618574097756, 0.11283373670550231, -0.026834473250480648, 0.005114029504813253,
    -0.0006747219465535539
  };
  // erfc(z) = t exp(-z^2 + R(t)), t = 1/(1 + z/2), 0.75 <= z <= 10
  static final double[] R = {
    -1.2654742993690724, 0.9991045369714721, 0.38374762107124166, 0.03827524147794409, 0.04065393945933268,
    -0.3048742148805376, -0.14532403442960112, 0.42866066740863834, -0.1753983673252658
  };
  private static final float[] PF = toFloat(P);
  private static final float[] RF = toFloat(R);
  private static final float SQRT1_2 = 0.70710678118654752f;

  private static float[] toFloat(double[] c) {
    float[] f = new float[c.length];
    for (int i = 0; i < c.length; i++) {
      f[i] = (float) c[i];
    }
    return f;
  }

  private static double horner(double[] c, double x) {
    double acc = c[c.length - 1];
    for (int i = c.length - 2; i >= 0; i--) {
      acc = acc * x + c[i];
    }
    return acc;
  }

  private static FloatVector horner(float[] c, FloatVector x) {
    FloatVector acc = FloatVector.broadcast(x.species(), c[c.length - 1]);
    for (int i = c.length - 2; i >= 0; i--) {
      acc = acc.fma(x, FloatVector.broadcast(x.species(), c[i]));
    }
    return acc;
  }

  // ------------------------------------------------------------------ scalar (double inside)

  /** erfc(z) for z &gt;= SPLIT. */
  static double erfcTail(double z) {
    if (z > 10) {
      return 0; // erfc(10) = 2e-45, below float's smallest subnormal
    }
    double t = 1 / (1 + 0.5 * z);
    return t * Math.exp(-z * z + horner(R, t));
  }

  public static float erf(float x) {
    double ax = Math.abs(x);
    if (ax < SPLIT) {
      return (float) (x * horner(P, (double) x * x));
    }
    return (float) Math.copySign(1 - erfcTail(ax), x);
  }

  /** gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt 2). */
  public static float gelu(float x) {
    double z = Math.abs(x) / Math.sqrt(2);
    if (z < SPLIT) {
      double erf = x / Math.sqrt(2) * horner(P, z * z);
      return (float) (0.5 * x * (1 + erf));
    }
    double erfc = erfcTail(z);
    return (float) (x < 0 ? 0.5 * x * erfc : x - 0.5 * x * erfc);
  }

  /** gelu_tanh(x) = x/2 (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3); the sigmoid form does not cancel for x &lt; 0. */
  public static float geluTanh(float x) {
    double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
    return (float) (x / (1 + Math.exp(-2 * u)));
  }

  public static float sigmoid(float x) {
    return (float) (1.0 / (1.0 + Math.exp(-x)));
  }

  /** quick_gelu(x) = x sigmoid(1.702 x), with 1.702 x in double (see the vector twin). */
  public static float quickGelu(float x) {
    return (float) (x / (1.0 + Math.exp(-1.702 * x)));
  }

  // ------------------------------------------------------------------ vector (float)

  /** erfc(c a) for a &gt;= 0 and c in {1, 1/sqrt 2} (c^2 exact); lanes with c a &lt; SPLIT get garbage the caller blends away. */
  private static FloatVector erfcTail(FloatVector a, float c, float c2) {
    FloatVector one = FloatVector.broadcast(a.species(), 1f);
    FloatVector z = a.mul(c).min(10f);
    FloatVector t = one.div(z.fma(0.5f, 1f));
    FloatVector hi = a.mul(a);
    FloatVector lo = a.fma(a, hi.neg()); // a^2 = hi + lo exactly
    FloatVector e1 = hi.mul(-c2).lanewise(VectorOperators.EXP);
    FloatVector e2 = horner(RF, t).sub(lo.mul(c2)).lanewise(VectorOperators.EXP);
    return t.mul(e1).mul(e2);
  }

  public static FloatVector erf(FloatVector x) {
    FloatVector ax = x.abs();
    FloatVector small = x.mul(horner(PF, x.mul(x)));
    FloatVector tail = FloatVector.broadcast(x.species(), 1f).sub(erfcTail(ax, 1f, 1f));
    tail = tail.blend(tail.neg(), x.compare(VectorOperators.LT, 0f)); // erf is odd
    return tail.blend(small, ax.compare(VectorOperators.LT, SPLIT));
  }

  public static FloatVector gelu(FloatVector x) {
    FloatVector a = x.abs();
    FloatVector xs = x.mul(SQRT1_2);
    FloatVector half = x.mul(0.5f);
    FloatVector small = half.mul(xs.mul(horner(PF, xs.mul(xs))).add(1f));
    FloatVector e = erfcTail(a, SQRT1_2, 0.5f);
    FloatVector negTail = half.mul(e);
    FloatVector tail = x.sub(negTail).blend(negTail, x.compare(VectorOperators.LT, 0f));
    VectorMask<Float> isSmall = a.mul(SQRT1_2).compare(VectorOperators.LT, SPLIT);
    return tail.blend(small, isSmall);
  }

  public static FloatVector geluTanh(FloatVector x) {
    FloatVector u2 = x.mul(x).mul(x).mul(0.044715f).add(x).mul(-2 * 0.7978845608028654f);
    return x.div(u2.lanewise(VectorOperators.EXP).add(1f));
  }

  // 1.702 = QG_HI + QG_LO, both floats
  private static final float QG_HI = 1.702f;
  private static final float QG_LO = (float) (1.702 - QG_HI);

  /**
   * quick_gelu(x) = x / (1 + exp(-1.702 x)). The product 1.702 x rounded to float (and 1.702
   * rounded to 1.702f) shifts the exponent by up to 1e-6 at x = -40; the product is kept as
   * hi + lo (fma) and exp(-hi - lo) = exp(-hi) (1 - lo) to float precision since |lo| &lt; 1e-5.
   */
  public static FloatVector quickGelu(FloatVector x) {
    FloatVector hi = x.mul(QG_HI);
    FloatVector lo = x.fma(FloatVector.broadcast(x.species(), QG_HI), hi.neg()).add(x.mul(QG_LO));
    FloatVector e = hi.neg().lanewise(VectorOperators.EXP).mul(lo.neg().add(1f));
    return x.div(e.add(1f));
  }

  public static FloatVector sigmoid(FloatVector x) {
    FloatVector one = FloatVector.broadcast(x.species(), 1f);
    return one.div(x.neg().lanewise(VectorOperators.EXP).add(one));
  }
}
