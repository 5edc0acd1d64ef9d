package dev.fovea.jmh;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Which vector operations issue beside the fmas and which take the fmas' own slots, on this machine
 * as C2 compiles the Vector API. A quantized GEMV converts every weight to f32 before its fma, so its
 * speed is the conversion's operations plus the fmas, less whatever overlaps; this bench measures
 * the overlap directly. One thread; each iteration of {@code fma} runs six independent fma chains on
 * registers, and each {@code fmaPlus*} method adds six independent chains of one other operation to
 * the same loop (time per iteration, {@value #N} iterations a call):
 *
 * <ul>
 *   <li>{@code fmaPlusSub}: an f32 subtraction ({@code vsubps});
 *   <li>{@code fmaPlusI2F}: an int to f32 conversion ({@code vcvtdq2ps});
 *   <li>{@code fmaPlusAdd}: an int addition ({@code vpaddd});
 *   <li>{@code fmaPlusShift}: a logical shift right ({@code vpsrld});
 *   <li>{@code fmaPlusAndOr}: an and then an or with constants (one {@code vpternlogd});
 *   <li>{@code fmaPlusOr}: an or and an int addition;
 *   <li>{@code fmaPlusPermute}: a lane permutation ({@code IntVector.selectFrom}, {@code vpermd});
 *   <li>{@code fmaPlusBroadcast}: a float from an array broadcast to all lanes and added;
 *   <li>{@code fmaPlusWiden}: L bytes from an array zero-extended to L int lanes ({@code
 *       vpmovzxbd}, as the Q4_0 kernels widen their nibbles) and or-ed into the chain;
 *   <li>{@code fmaPlusMax}: {@code FloatVector.max}, which C2 compiles with Java's NaN and -0.0
 *       rules as six instructions ({@code vpmovd2m}, two blends, {@code vmaxps}, {@code
 *       vcmpunordps}, a masked move).
 * </ul>
 *
 * A {@code fmaPlus*} time equal to {@code fma}'s means the operation issued beside the fmas for free.
 * Zen 4 VM (2 cores, AVX-512, 2026-12-07, two runs of 2 forks x 5 iterations), time / fma's: sub,
 * int to f32 conversion, int add and shift 0.99-1.02 (fma alone is one zmm fma a cycle: 1.66 ns an
 * iteration of six); and-or 1.24-1.25; or + add 1.50-1.54; permute 1.51-1.52; broadcast 1.69;
 * widening 1.88-1.91; max 5.0-5.7. So on Zen 4 the byte widening, permutes, broadcasts and (less)
 * the logical operations of a nibble decode take issue slots from its fmas, while subtractions,
 * shifts and conversions run beside them: why the Q4_0 GEMV forms that trade a shift or a
 * subtraction for a logical operation or a permute did not pay (see the README, "Zen 4, tenth
 * session"), and why CpuMath.exp clamps with a compare and a blend instead of min/max.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR})
@State(Scope.Benchmark)
public class VectorPortsBench {
  static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(I.length() * 8));
  /** Loop iterations per call. */
  static final int N = 1 << 16;

  private final byte[] bytes = new byte[4096];
  private final float[] scalars = new float[1024];
  private final int[] rotation = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0};
  private final float mul = 0.999999f;
  private final float add = 1e-7f;
  private final int mask = 0x0F0F_0F0F;
  private final int bits = 0x4B00_0000;

  @Benchmark
  @OperationsPerInvocation(N)
  public float fma() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusSub() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    FloatVector g0 = c, g1 = c.add(1), g2 = c.add(2), g3 = c.add(3), g4 = c.add(4), g5 = c.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.sub(c);
      g1 = g1.sub(c);
      g2 = g2.sub(c);
      g3 = g3.sub(c);
      g4 = g4.sub(c);
      g5 = g5.sub(c);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).add(g0).add(g1).add(g2).add(g3).add(g4).add(g5)
        .reduceLanes(VectorOperators.ADD);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusI2F() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector g0 = IntVector.broadcast(I, mask), g1 = g0.add(1), g2 = g0.add(2), g3 = g0.add(3), g4 = g0.add(4),
        g5 = g0.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.convert(VectorOperators.I2F, 0).reinterpretAsInts();
      g1 = g1.convert(VectorOperators.I2F, 0).reinterpretAsInts();
      g2 = g2.convert(VectorOperators.I2F, 0).reinterpretAsInts();
      g3 = g3.convert(VectorOperators.I2F, 0).reinterpretAsInts();
      g4 = g4.convert(VectorOperators.I2F, 0).reinterpretAsInts();
      g5 = g5.convert(VectorOperators.I2F, 0).reinterpretAsInts();
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusAdd() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector k = IntVector.broadcast(I, mask);
    IntVector g0 = k, g1 = g0.add(1), g2 = g0.add(2), g3 = g0.add(3), g4 = g0.add(4), g5 = g0.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.add(k);
      g1 = g1.add(k);
      g2 = g2.add(k);
      g3 = g3.add(k);
      g4 = g4.add(k);
      g5 = g5.add(k);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusAndOr() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector g0 = IntVector.broadcast(I, mask), g1 = g0.add(1), g2 = g0.add(2), g3 = g0.add(3), g4 = g0.add(4),
        g5 = g0.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.and(mask).or(bits);
      g1 = g1.and(mask).or(bits);
      g2 = g2.and(mask).or(bits);
      g3 = g3.and(mask).or(bits);
      g4 = g4.and(mask).or(bits);
      g5 = g5.and(mask).or(bits);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusShift() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector g0 = IntVector.broadcast(I, mask), g1 = g0.add(1), g2 = g0.add(2), g3 = g0.add(3), g4 = g0.add(4),
        g5 = g0.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.lanewise(VectorOperators.LSHR, 1);
      g1 = g1.lanewise(VectorOperators.LSHR, 1);
      g2 = g2.lanewise(VectorOperators.LSHR, 1);
      g3 = g3.lanewise(VectorOperators.LSHR, 1);
      g4 = g4.lanewise(VectorOperators.LSHR, 1);
      g5 = g5.lanewise(VectorOperators.LSHR, 1);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusWiden() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector g0 = IntVector.zero(I), g1 = g0, g2 = g0, g3 = g0, g4 = g0, g5 = g0;
    int lanes = I.length();
    for (int i = 0; i < N; i++) {
      int o = (i * 6 * lanes) & 2047; // no division in the loop; bytes has 4096
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.or(widen(o));
      g1 = g1.or(widen(o + lanes));
      g2 = g2.or(widen(o + 2 * lanes));
      g3 = g3.or(widen(o + 3 * lanes));
      g4 = g4.or(widen(o + 4 * lanes));
      g5 = g5.or(widen(o + 5 * lanes));
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusPermute() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector ix = IntVector.fromArray(I, rotation, 0);
    IntVector g0 = IntVector.broadcast(I, mask), g1 = g0.add(1), g2 = g0.add(2), g3 = g0.add(3), g4 = g0.add(4),
        g5 = g0.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = ix.selectFrom(g0);
      g1 = ix.selectFrom(g1);
      g2 = ix.selectFrom(g2);
      g3 = ix.selectFrom(g3);
      g4 = ix.selectFrom(g4);
      g5 = ix.selectFrom(g5);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusBroadcast() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    FloatVector g0 = c, g1 = c, g2 = c, g3 = c, g4 = c, g5 = c;
    float[] s = scalars;
    for (int i = 0; i < N; i++) {
      int o = (i * 6) & 511; // no division in the loop; s has 1024 entries
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.add(FloatVector.broadcast(F, s[o]));
      g1 = g1.add(FloatVector.broadcast(F, s[o + 1]));
      g2 = g2.add(FloatVector.broadcast(F, s[o + 2]));
      g3 = g3.add(FloatVector.broadcast(F, s[o + 3]));
      g4 = g4.add(FloatVector.broadcast(F, s[o + 4]));
      g5 = g5.add(FloatVector.broadcast(F, s[o + 5]));
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).add(g0).add(g1).add(g2).add(g3).add(g4).add(g5)
        .reduceLanes(VectorOperators.ADD);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusMax() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    FloatVector g0 = c, g1 = c.add(1), g2 = c.add(2), g3 = c.add(3), g4 = c.add(4), g5 = c.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.max(m);
      g1 = g1.max(m);
      g2 = g2.max(m);
      g3 = g3.max(m);
      g4 = g4.max(m);
      g5 = g5.max(m);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).add(g0).add(g1).add(g2).add(g3).add(g4).add(g5)
        .reduceLanes(VectorOperators.ADD);
  }

  @Benchmark
  @OperationsPerInvocation(N)
  public float fmaPlusOr() {
    FloatVector m = FloatVector.broadcast(F, mul), c = FloatVector.broadcast(F, add);
    FloatVector f0 = m, f1 = m.add(1), f2 = m.add(2), f3 = m.add(3), f4 = m.add(4), f5 = m.add(5);
    IntVector k = IntVector.broadcast(I, mask);
    IntVector g0 = k, g1 = g0.add(1), g2 = g0.add(2), g3 = g0.add(3), g4 = g0.add(4), g5 = g0.add(5);
    for (int i = 0; i < N; i++) {
      f0 = f0.fma(m, c);
      f1 = f1.fma(m, c);
      f2 = f2.fma(m, c);
      f3 = f3.fma(m, c);
      f4 = f4.fma(m, c);
      f5 = f5.fma(m, c);
      g0 = g0.or(k).add(k);
      g1 = g1.or(k).add(k);
      g2 = g2.or(k).add(k);
      g3 = g3.or(k).add(k);
      g4 = g4.or(k).add(k);
      g5 = g5.or(k).add(k);
    }
    return f0.add(f1).add(f2).add(f3).add(f4).add(f5).reduceLanes(VectorOperators.ADD) + sum(g0, g1, g2, g3, g4, g5);
  }

  private IntVector widen(int o) {
    return (IntVector) ByteVector.fromArray(B, bytes, o).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
  }

  private static float sum(IntVector g0, IntVector g1, IntVector g2, IntVector g3, IntVector g4, IntVector g5) {
    return g0.add(g1).add(g2).add(g3).add(g4).add(g5).reduceLanes(VectorOperators.ADD);
  }
}
