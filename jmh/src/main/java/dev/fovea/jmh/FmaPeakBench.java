package dev.fovea.jmh;

import dev.fovea.tensor.cpu.Parallel;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The f32 FMA ceiling of this machine as the Vector API reaches it: every engine thread runs
 * {@code ITERS} iterations of {@value #CHAINS} independent fma chains on registers (no loads), at
 * the preferred vector width. The setup prints the FLOPs per call (threads x ITERS x CHAINS x lanes
 * x 2) as {@code fovea-fma-peak ... flops=<n>}; {@code bench/decode.sh} divides it by the measured
 * time and prints {@code f32_fma_peak_gflops}, the ceiling for any f32 (or bf16 widened to f32)
 * prefill, beside the rate PyTorch's prefill reaches.
 *
 * <p>Each chain accumulates into the fma's addend (a = m * m + a), as a GEMM micro-kernel does.
 * Until 2026-12-08 each chain ran a = a * m + c (the chain through a multiplicand): on Zen 3 that
 * form reached 77-81 GFLOP/s on one core (51 a core in this benchmark on two) where the addend form
 * reaches 96-98 and Gemm's AVX2 micro-kernel 97-100 (scratch programs, one process), so it was not
 * a ceiling there; figures computed against it before that date are fractions of the lower rate.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS})
@State(Scope.Benchmark)
public class FmaPeakBench {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  /** Iterations per thread and call. */
  public static final int ITERS = 2_000_000;
  /** Independent fma chains per thread ({@link #chains} runs exactly this many). */
  static final int CHAINS = 12;

  @Param({"0"})
  public int threads;

  private float[] out;

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    out = new float[Parallel.threads()];
    long flops = (long) Parallel.threads() * ITERS * CHAINS * S.length() * 2;
    System.out.printf("%nfovea-fma-peak threads=%d lanes=%d iters=%d flops=%d%n", Parallel.threads(), S.length(), ITERS, flops);
  }

  @Benchmark
  public float fma() {
    int n = Parallel.threads();
    Parallel.forChunks(n, (c, worker) -> out[c] = chains(ITERS, c));
    float s = 0;
    for (float v : out) {
      s += v;
    }
    return s;
  }

  static float chains(int iters, float seed) {
    FloatVector m = FloatVector.broadcast(S, 0.999999f);
    FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
    FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
    FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
    for (int i = 0; i < iters; i++) {
      a0 = m.fma(m, a0);
      a1 = m.fma(m, a1);
      a2 = m.fma(m, a2);
      a3 = m.fma(m, a3);
      a4 = m.fma(m, a4);
      a5 = m.fma(m, a5);
      a6 = m.fma(m, a6);
      a7 = m.fma(m, a7);
      a8 = m.fma(m, a8);
      a9 = m.fma(m, a9);
      a10 = m.fma(m, a10);
      a11 = m.fma(m, a11);
    }
    return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
        .reduceLanes(VectorOperators.ADD);
  }
}
