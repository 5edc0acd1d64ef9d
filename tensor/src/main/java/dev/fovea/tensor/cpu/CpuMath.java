package dev.fovea.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Scalar and vector versions of the special functions the kernels need. exp, erf and erfc are
 * ours (exp for run-to-run determinism, see {@link #exp(FloatVector)}); log, tanh, sin and cos use
 * the Vector API's lanewise operators (the JDK's vector math library, within a couple of ulp of
 * {@link Math}). Measured errors against a
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

  // exp(x) = 2^k exp(r), k = rint(x log2 e), r = x - k ln 2 (Cody-Waite: ln 2 = LN2_HI + LN2_LO,
  // LN2_HI with few bits so k LN2_HI is exact), exp(r) = 1 + r + r^2 P(r) on |r| <= ln2/2 with
  // Cephes' expf coefficients; 2^k is applied as two exact power-of-two factors so results that
  // underflow to subnormals are still right.
  //
  // Why not VectorOperators.EXP: its intrinsic (the JDK's vector math library) and its Java
  // fallback (per-lane Math.exp, used before C2 compiles a loop) round differently, so results
  // would depend on JIT timing. This uses only add/mul/fma/convert, which are IEEE-exact the same
  // in every tier: bit-identical results run to run. Max error measured in CpuMathTest.
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  private static final float RINT = 12582912f; // 1.5 * 2^23: x + RINT - RINT rounds to an integer (ties to even)
  private static final float EXP_LO = -104f; // exp below this is 0 in float
  private static final float EXP_HI = 89f; // exp above this is +inf in float
  private static final float E0 = 1.9875691500e-4f;
  private static final float E1 = 1.3981999507e-3f;
  private static final float E2 = 8.3334519073e-3f;
  private static final float E3 = 4.1665795894e-2f;
  private static final float E4 = 1.6666665459e-1f;
  private static final float E5 = 5.0000001201e-1f;

  /** exp(x) in float arithmetic (the scalar twin of {@link #exp(FloatVector)}: bit-identical to each lane). */
  public static float expf(float x) {
    return expf(x, 0f);
  }

  /** exp(hi + lo) for a small correction lo, without rounding hi + lo first (twin of {@link #exp(FloatVector, FloatVector)}). */
  public static float expf(float hi, float lo) {
    if (Float.isNaN(hi) || Float.isNaN(lo)) {
      return Float.NaN;
    }
    float x = hi + lo;
    if (x < EXP_LO) {
      return 0f;
    }
    if (x > EXP_HI) {
      return Float.POSITIVE_INFINITY;
    }
    float k = Math.fma(x, LOG2E, RINT) - RINT;
    float r = Math.fma(k, -LN2_HI, Math.min(Math.max(hi, EXP_LO - 8), EXP_HI + 8));
    r = Math.fma(k, -LN2_LO, r) + lo;
    float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(E0, r, E1), r, E2), r, E3), r, E4), r, E5);
    float er = 1f + Math.fma(r * r, p, r);
    int ki = (int) k;
    int k1 = ki >> 1;
    return er * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((ki - k1 + 127) << 23);
  }

  // The vector constants are fields so exp stays small: a FloatVector crossing a call that C2
  // does not inline is boxed on the heap, and C2 inlines hot methods of at most 325 bytecodes
  // (FreqInlineSize; exp(hi, lo) is 316, javap -c).
  private static final jdk.incubator.vector.VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
  private static final FloatVector V_ZERO = FloatVector.zero(SP);
  private static final FloatVector V_ONE = FloatVector.broadcast(SP, 1f);
  private static final FloatVector V_INF = FloatVector.broadcast(SP, Float.POSITIVE_INFINITY);
  private static final FloatVector V_LO = FloatVector.broadcast(SP, EXP_LO);
  private static final FloatVector V_HI = FloatVector.broadcast(SP, EXP_HI);
  private static final FloatVector V_HLO = FloatVector.broadcast(SP, EXP_LO - 8);
  private static final FloatVector V_HHI = FloatVector.broadcast(SP, EXP_HI + 8);
  private static final FloatVector V_RINT = FloatVector.broadcast(SP, RINT);
  private static final FloatVector V_LOG2E = FloatVector.broadcast(SP, LOG2E);
  private static final FloatVector V_NLN2_HI = FloatVector.broadcast(SP, -LN2_HI);
  private static final FloatVector V_NLN2_LO = FloatVector.broadcast(SP, -LN2_LO);
  private static final FloatVector V_E0 = FloatVector.broadcast(SP, E0);
  private static final FloatVector V_E1 = FloatVector.broadcast(SP, E1);
  private static final FloatVector V_E2 = FloatVector.broadcast(SP, E2);
  private static final FloatVector V_E3 = FloatVector.broadcast(SP, E3);
  private static final FloatVector V_E4 = FloatVector.broadcast(SP, E4);
  private static final FloatVector V_E5 = FloatVector.broadcast(SP, E5);
  private static final IntVector V_BIAS = IntVector.broadcast(jdk.incubator.vector.IntVector.SPECIES_PREFERRED, 127);

  /** exp of every lane (vectors of {@code FloatVector.SPECIES_PREFERRED}); see {@link #expf} for the method. */
  public static FloatVector exp(FloatVector x) {
    return exp(x, V_ZERO);
  }

  /**
   * exp(hi + lo) per lane, with lo a correction (|lo| up to a few units) added after the range
   * reduction of hi so hi + lo is never rounded: one call for the erfc tail's exp(-z^2 + R).
   */
  public static FloatVector exp(FloatVector hi, FloatVector lo) {
    FloatVector x = hi.add(lo);
    // Lanes whose result is 0 compute exp(0) instead of exp(EXP_LO): that would go through
    // subnormal products, which cost a microcode assist each on this project's Zen 5 (a peaked
    // softmax of 600 scores ran 2.3x slower). Every other lane computes exactly as before.
    VectorMask<Float> under = x.lt(V_LO);
    // The clamps are a compare and a blend each, not min/max: C2 compiles FloatVector.min/max with
    // Java's NaN and -0.0 rules as six instructions (vpmovd2m, two blends, vmaxps, vcmpunordps, a
    // masked move). A blend keeps a NaN lane (every compare with NaN is false), as min/max would,
    // and no bound is 0, so every lane's bits are the same as with min/max; 17% less time per exp
    // (one thread, in L1, Zen 4, 2026-12-07; 48M lanes of random and special inputs compared bit
    // for bit against the min/max form).
    FloatVector t = x.blend(V_ZERO, under);
    FloatVector k = t.blend(V_HI, V_HI.lt(t)).fma(V_LOG2E, V_RINT).sub(V_RINT);
    FloatVector h = hi.blend(V_ZERO, under);
    h = h.blend(V_HLO, h.lt(V_HLO));
    h = h.blend(V_HHI, V_HHI.lt(h));
    FloatVector r = k.fma(V_NLN2_LO, k.fma(V_NLN2_HI, h)).add(lo.blend(V_ZERO, under));
    FloatVector p = V_E0.fma(r, V_E1).fma(r, V_E2).fma(r, V_E3).fma(r, V_E4).fma(r, V_E5);
    FloatVector er = r.mul(r).fma(p, r).add(V_ONE);
    IntVector ki = (IntVector) k.convert(VectorOperators.F2I, 0);
    IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
    FloatVector y = er.mul(k1.add(V_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
        .mul(ki.sub(k1).add(V_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    // outside [EXP_LO, EXP_HI] the result is 0 or +inf (the clamped lanes computed garbage); NaN stays
    return y.blend(V_ZERO, under).blend(V_INF, x.compare(VectorOperators.GT, V_HI)).blend(x, x.test(VectorOperators.IS_NAN));
  }

  private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[SP.length()]);

  /**
   * Per-thread scratch of one vector's lanes, for {@link #sumLanes(float[])}: the caller stores its
   * accumulator with {@code intoArray} so no FloatVector crosses a call (which would box it).
   */
  public static float[] lanes() {
    return LANES.get();
  }

  private static final VectorSpecies<Float> PS = FloatVector.SPECIES_PREFERRED;
  private static final int PL = PS.length();
  // lane i takes lane i + step (mod L), for step = L/2, L/4, L/8, L/16 (1 where L is smaller: unused)
  private static final VectorShuffle<Float> FOLD1 = VectorShuffle.fromOp(PS, i -> (i + Math.max(1, PL / 2)) % PL);
  private static final VectorShuffle<Float> FOLD2 = VectorShuffle.fromOp(PS, i -> (i + Math.max(1, PL / 4)) % PL);
  private static final VectorShuffle<Float> FOLD3 = VectorShuffle.fromOp(PS, i -> (i + Math.max(1, PL / 8)) % PL);
  private static final VectorShuffle<Float> FOLD4 = VectorShuffle.fromOp(PS, i -> (i + Math.max(1, PL / 16)) % PL);

  /**
   * {@link #hsum}'s tree as data: lane i takes lane i + s (mod L) for s = L/2, L/4, ..., 1. A kernel
   * near C2's inlining cut-off reduces with {@code for (f : FOLDS) v = v.add(v.rearrange(f))} and
   * {@code v.lane(0)}: only the JDK's force-inlined vector methods, never refused, where a call to
   * hsum past the cut-off is left a call and boxes its vector (see Gemv's class comment).
   */
  static final VectorShuffle<Float>[] FOLDS = folds();

  @SuppressWarnings("unchecked")
  private static VectorShuffle<Float>[] folds() {
    int n = Integer.numberOfTrailingZeros(PL);
    VectorShuffle<Float>[] f = new VectorShuffle[n];
    for (int j = 0; j < n; j++) {
      int step = PL >> (j + 1);
      f[j] = VectorShuffle.fromOp(PS, i -> (i + step) % PL);
    }
    return f;
  }

  /**
   * Sum of the lanes of a preferred-species vector as a fixed pairwise tree (L = 16: lane 0 ends as
   * ((l0 + l8) + (l4 + l12)) + ((l2 + l10) + (l6 + l14)) + ..., the same tree for every L): lane
   * shuffles and lanewise adds only, each exact or IEEE-rounded the same way in every JIT tier, so
   * the result is reproducible where reduceLanes(ADD) is not. Stays in registers: a row-at-a-time
   * GEMV reading from DRAM ran ~7% faster than storing the lanes for {@link #sumLanes(float[])}.
   * Callers must be inlined into (CpuMath is force-inlined by the launch flags) or the vector is boxed;
   * the flags do not lift C2's node-count cut-off, so large kernels use {@link #FOLDS} instead.
   */
  public static float hsum(FloatVector a) {
    if (PL > 16) { // the same tree (FOLD1..4 name L <= 16's shuffles only)
      for (VectorShuffle<Float> f : FOLDS) {
        a = a.add(a.rearrange(f));
      }
      return a.lane(0);
    }
    if (PL >= 2) {
      a = a.add(a.rearrange(FOLD1));
    }
    if (PL >= 4) {
      a = a.add(a.rearrange(FOLD2));
    }
    if (PL >= 8) {
      a = a.add(a.rearrange(FOLD3));
    }
    if (PL >= 16) {
      a = a.add(a.rearrange(FOLD4));
    }
    return a.lane(0);
  }

  /**
   * Sum of the lanes in lane order. reduceLanes(ADD) leaves the order unspecified, and it does
   * differ between JIT tiers, so results would depend on timing.
   */
  public static float sumLanes(float[] lanes) {
    float s = 0f;
    for (float x : lanes) {
      s += x;
    }
    return s;
  }



  /** erfc(c a) for a &gt;= 0 and c in {1, 1/sqrt 2} (c^2 exact); lanes with c a &lt; SPLIT get garbage the caller blends away. */
  private static FloatVector erfcTail(FloatVector a, float c, float c2) {
    FloatVector one = FloatVector.broadcast(a.species(), 1f);
    FloatVector z = a.mul(c).min(10f);
    FloatVector t = one.div(z.fma(0.5f, 1f));
    FloatVector hi = a.mul(a);
    FloatVector lo = a.fma(a, hi.neg()); // a^2 = hi + lo exactly
    return t.mul(exp(hi.mul(-c2), horner(RF, t).sub(lo.mul(c2))));
  }

  public static FloatVector erf(FloatVector x) {
    FloatVector ax = x.abs();
    FloatVector small = x.mul(horner(PF, x.mul(x)));
    FloatVector tail = FloatVector.broadcast(x.species(), 1f).sub(erfcTail(ax, 1f, 1f));
    tail = tail.blend(tail.neg(), x.compare(VectorOperators.LT, 0f)); // erf is odd
    return tail.blend(small, ax.compare(VectorOperators.LT, SPLIT));
  }

  public static FloatVector gelu(FloatVector x) {
    // Keep this order: inlined into geluRow, the body parses past 18,000 nodes, C2's inlining
    // cut-off (see Gemv's class comment), and the calls of ours in it must come early. Here horner
    // is parsed at ~9,700 and exp (the last) at ~11,600; computing the tail first put horner at
    // ~18,500, refused, and boxed every vector (44 MB per 1M-element GELU or ERF, 2026-12-07).
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
    return x.div(exp(u2).add(1f));
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
    FloatVector e = exp(hi.neg()).mul(lo.neg().add(1f));
    return x.div(e.add(1f));
  }

  public static FloatVector sigmoid(FloatVector x) {
    FloatVector one = FloatVector.broadcast(x.species(), 1f);
    return one.div(exp(x.neg()).add(one));
  }
}
