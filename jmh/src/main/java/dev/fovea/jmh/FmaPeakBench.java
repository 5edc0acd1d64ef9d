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
    FloatVector c = FloatVector.broadcast(S, 1e-7f);
    FloatVector a0 = FloatVector.broadcast(S, seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
    FloatVector a4 = a0.add(4), a5 = a0.add(5), a6 = a0.add(6), a7 = a0.add(7);
    FloatVector a8 = a0.add(8), a9 = a0.add(9), a10 = a0.add(10), a11 = a0.add(11);
    for (int i = 0; i < iters; i++) {
      a0 = a0.fma(m, c);
      a1 = a1.fma(m, c);
      a2 = a2.fma(m, c);
      a3 = a3.fma(m, c);
      a4 = a4.fma(m, c);
      a5 = a5.fma(m, c);
      a6 = a6.fma(m, c);
      a7 = a7.fma(m, c);
      a8 = a8.fma(m, c);
      a9 = a9.fma(m, c);
      a10 = a10.fma(m, c);
      a11 = a11.fma(m, c);
    }
    return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
        .reduceLanes(VectorOperators.ADD);
  }
}
