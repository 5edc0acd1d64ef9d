package dev.fovea.jmh;

import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * Memory read bandwidth of a buffer of {@code mib} MiB (far larger than the caches), read as
 * {@link WeightReads} reads a model's weights (the same SIMD pass, chunks and threads). Runs in a
 * fork of its own, so on this VM (whose memory speed differs between processes) it can be from
 * another memory phase than a decode benchmark: {@code bench/decode.sh} prints it for reference
 * and takes the decode bound from the weight reads inside the decode fork.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT})
@State(Scope.Benchmark)
public class ReadBandwidthBench {
  @Param({"1024"})
  public int mib;

  @Param({"0"})
  public int threads;

  private Arena arena;
  private WeightReads reads;

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    arena = Arena.ofShared();
    reads = new WeightReads(List.of(Buffers.random(arena, dev.fovea.tensor.DType.F32, (long) mib << 18, 9)));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public long read() {
    return reads.read();
  }
}
