package dev.fovea.jmh;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Do 8-bit integer dot products through the Vector API beat f32 FMA for quantized prefill? llama.cpp
 * quantizes activations to 8 bits and multiplies Q8_0/Q4_0 panels with VNNI (vpdpbusd: 64 byte
 * products summed into 16 ints by one instruction). The Vector API has no such operation, nor
 * vpmaddwd's pairwise multiply-add: bytes must be widened, multiplied and widened again. This
 * bench times one GEMM micro-kernel, 4 rows x (two f32 vectors) columns over {@value #K} k steps with
 * packed operands in L1, both ways, one thread:
 *
 * <ul>
 *   <li>{@code f32}: our Gemm's shape, broadcast A, one fma per vector of products;
 *   <li>{@code int8}: the 8-bit values held as shorts (widened once, in packing), A broadcast as a
 *       short, products of steps k and k + 1 added in 16 bits (|a b| <= 127^2, two fit), widened to
 *       int (S2I, two halves) and added into int accumulators: the fewest operations per product the
 *       API allows. Exact (checked in setup). A real Q8_0 / Q4_0 kernel would add per-block work on
 *       top: the int sums converted and scaled every 32 k steps, and x quantized.
 * </ul>
 *
 * Products per second of int8 over f32 decide it: below 1, integer dot products do not pay here.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR})
@State(Scope.Benchmark)
public class IntDotBench {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final VectorSpecies<Short> SH = ShortVector.SPECIES_PREFERRED;
  static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  /** Columns of the micro-kernel: one short vector, two float vectors. */
  static final int NC = SH.length();
  static final int K = 256;

  private float[] fa;
  private float[] fb;
  private float[] fc;
  private short[] sa;
  private short[] sb;
  private int[] ic;

  @Setup(Level.Trial)
  public void setup() {
    if (F.vectorShape() != VectorShape.preferredShape() || NC != 2 * F.length() || NC != 2 * I.length()) {
      throw new IllegalStateException("IntDotBench: unexpected species " + F + " " + SH + " " + I);
    }
    Random r = new Random(1);
    fa = new float[4 * K];
    fb = new float[NC * K];
    fc = new float[4 * NC];
    sa = new short[4 * K];
    sb = new short[NC * K];
    ic = new int[4 * NC];
    for (int i = 0; i < sa.length; i++) {
      sa[i] = (short) (r.nextInt(255) - 127);
      fa[i] = sa[i];
    }
    for (int i = 0; i < sb.length; i++) {
      sb[i] = (short) (r.nextInt(255) - 127);
      fb[i] = sb[i];
    }
    int8();
    for (int m = 0; m < 4; m++) {
      for (int n = 0; n < NC; n++) {
        long s = 0;
        for (int k = 0; k < K; k++) {
          s += sa[4 * k + m] * sb[NC * k + n];
        }
        if (ic[m * NC + n] != s) {
          throw new IllegalStateException("IntDotBench: int8 kernel wrong at " + m + "," + n);
        }
      }
    }
    System.out.printf("%nfovea-intdot products-per-call=%d%n", 4L * NC * K);
  }

  /** C[4][NC] = A^T B, A packed [K][4], B packed [K][NC], f32 fma. */
  @Benchmark
  public float[] f32() {
    int h = F.length();
    FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int k = 0; k < K; k++) {
      FloatVector b0 = FloatVector.fromArray(F, fb, NC * k);
      FloatVector b1 = FloatVector.fromArray(F, fb, NC * k + h);
      FloatVector a0 = FloatVector.broadcast(F, fa[4 * k]);
      FloatVector a1 = FloatVector.broadcast(F, fa[4 * k + 1]);
      FloatVector a2 = FloatVector.broadcast(F, fa[4 * k + 2]);
      FloatVector a3 = FloatVector.broadcast(F, fa[4 * k + 3]);
      c00 = a0.fma(b0, c00);
      c01 = a0.fma(b1, c01);
      c10 = a1.fma(b0, c10);
      c11 = a1.fma(b1, c11);
      c20 = a2.fma(b0, c20);
      c21 = a2.fma(b1, c21);
      c30 = a3.fma(b0, c30);
      c31 = a3.fma(b1, c31);
    }
    c00.intoArray(fc, 0);
    c01.intoArray(fc, h);
    c10.intoArray(fc, 2 * h);
    c11.intoArray(fc, 3 * h);
    c20.intoArray(fc, 4 * h);
    c21.intoArray(fc, 5 * h);
    c30.intoArray(fc, 6 * h);
    c31.intoArray(fc, 7 * h);
    return fc;
  }

  /** The same product with the 8-bit values held as shorts (see the class comment). */
  @Benchmark
  public int[] int8() {
    int h = I.length();
    IntVector c00 = IntVector.zero(I), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (int k = 0; k < K; k += 2) {
      ShortVector b0 = ShortVector.fromArray(SH, sb, NC * k);
      ShortVector b1 = ShortVector.fromArray(SH, sb, NC * k + NC);
      ShortVector p0 = b0.mul(sa[4 * k]).add(b1.mul(sa[4 * k + 4]));
      ShortVector p1 = b0.mul(sa[4 * k + 1]).add(b1.mul(sa[4 * k + 5]));
      ShortVector p2 = b0.mul(sa[4 * k + 2]).add(b1.mul(sa[4 * k + 6]));
      ShortVector p3 = b0.mul(sa[4 * k + 3]).add(b1.mul(sa[4 * k + 7]));
      c00 = c00.add((IntVector) p0.convertShape(VectorOperators.S2I, I, 0));
      c01 = c01.add((IntVector) p0.convertShape(VectorOperators.S2I, I, 1));
      c10 = c10.add((IntVector) p1.convertShape(VectorOperators.S2I, I, 0));
      c11 = c11.add((IntVector) p1.convertShape(VectorOperators.S2I, I, 1));
      c20 = c20.add((IntVector) p2.convertShape(VectorOperators.S2I, I, 0));
      c21 = c21.add((IntVector) p2.convertShape(VectorOperators.S2I, I, 1));
      c30 = c30.add((IntVector) p3.convertShape(VectorOperators.S2I, I, 0));
      c31 = c31.add((IntVector) p3.convertShape(VectorOperators.S2I, I, 1));
    }
    c00.intoArray(ic, 0);
    c01.intoArray(ic, h);
    c10.intoArray(ic, 2 * h);
    c11.intoArray(ic, 3 * h);
    c20.intoArray(ic, 4 * h);
    c21.intoArray(ic, 5 * h);
    c30.intoArray(ic, 6 * h);
    c31.intoArray(ic, 7 * h);
    return ic;
  }
}
