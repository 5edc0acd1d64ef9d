package dev.fovea.jmh;

import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAdder;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Memory read bandwidth: a SIMD sum over {@code mib} MiB of floats (far larger than the caches),
 * split over the engine's threads as the GEMV splits its rows. Decode's bandwidth bound is the
 * weight bytes per token divided by this rate.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:CompileCommand=quiet", "-XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::*"})
@State(Scope.Benchmark)
public class ReadBandwidthBench {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  @Param({"1024"})
  public int mib;

  @Param({"0"})
  public int threads;

  private Arena arena;
  private MemorySegment buf;

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    arena = Arena.ofShared();
    buf = Buffers.random(arena, dev.fovea.tensor.DType.F32, (long) mib << 18, 9);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public double read() {
    long floats = buf.byteSize() / 4;
    DoubleAdder total = new DoubleAdder();
    Parallel.forRange(floats, 1L << 20, (lo, hi) -> {
      FloatVector a0 = FloatVector.zero(S);
      FloatVector a1 = FloatVector.zero(S);
      int l = S.length();
      long i = lo;
      for (; i + 2L * l <= hi; i += 2L * l) {
        a0 = a0.add(FloatVector.fromMemorySegment(S, buf, i * 4, ByteOrder.LITTLE_ENDIAN));
        a1 = a1.add(FloatVector.fromMemorySegment(S, buf, (i + l) * 4, ByteOrder.LITTLE_ENDIAN));
      }
      total.add(a0.add(a1).reduceLanes(VectorOperators.ADD));
    });
    return total.sum();
  }
}
