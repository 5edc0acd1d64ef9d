package dev.fovea.jmh;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.cpu.Gemv;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
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
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * Decode-shaped GEMVs streamed from DRAM, each pass compared with a plain read of the same bytes
 * right before it. {@code layers} separate weights of one shape stand for a model's layers (so no
 * pass finds the last one's rows in a cache); one call of {@link #gemv} multiplies x by each of
 * them, and before every call (Level.Invocation, fine for calls of milliseconds) the fork times a
 * {@link WeightReads} pass over the same weights. At the end of the trial it prints
 *
 * <pre>
 * fovea-gemv-stream kind=bf16 shape=5632x2048 threads=2 gemv_gbps=41.3 read_gbps=47.9 fraction=0.862 each=0.85,0.87,...
 * </pre>
 *
 * with {@code fraction} = total read time / total GEMV time over the measurement iterations and
 * {@code each} the same per iteration. Shapes are k x n (y[n] = W[n,k] x[k]): TinyLlama-1.1B's
 * gate/up ({@code 2048x5632}), down ({@code 5632x2048}) and q/o ({@code 2048x2048}).
 *
 * <p>Compare kernel variants by the fraction, and only between runs in the same memory phase (see
 * {@code read_gbps}): this VM's memory speed changes between processes and within one (45-50
 * against 65-77 GB/s, 2026-11), which moves the GB/s of separate forks more than a kernel change
 * does. The fraction takes out most of that for a GEMV that keeps up with memory, not for one the
 * core limits: BF16 down_proj (k 5632, where x's 22 KB in L1 is the limit, Gemv's javadoc) read
 * 0.85-0.86 of the plain read at 48-49 GB/s and 0.75-0.76 at 65-67. Gemv's variants are chosen
 * by system properties, one per fork; pass them with {@code -jvmArgsPrepend} ({@code
 * -jvmArgsAppend} would replace this class's module flags):
 *
 * <pre>
 * java -cp ... org.openjdk.jmh.Main GemvStreamBench -p shape=5632x2048                 (as shipped)
 * java -cp ... org.openjdk.jmh.Main GemvStreamBench -p shape=5632x2048 -jvmArgsPrepend -Dfovea.gemv.bf16.pairK=1000000   (one row at a time)
 * java -cp ... org.openjdk.jmh.Main GemvStreamBench -jvmArgsPrepend -Dfovea.gemv.bf16.narrow=true                        (256-bit loads)
 * java -cp ... org.openjdk.jmh.Main GemvStreamBench -p kind=q8_0 -jvmArgsPrepend -Dfovea.gemv.chunkBytes=1048576         (parallel chunks)
 * </pre>
 *
 * and run each a few times, alternating: C2 compiles a kernel differently from one process to the
 * next now and then. Measured so (2026-11-24, 2 threads): BF16 rows in pairs (as shipped) against
 * one at a time, 2048x5632: fraction 1.02 and 1.02 against 0.89 at 65-66 GB/s, 0.96 and 0.96
 * against 0.91 at 48-49; 5632x2048: 0.755 and 0.763 against 0.713 and 0.690 at 61-67 GB/s. Re-run
 * this before changing a GEMV loop and after a JDK update (the loop shapes Gemv's javadoc
 * describes are fast by an empirical C2 behaviour).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT})
@State(Scope.Benchmark)
public class GemvStreamBench {
  @Param({"bf16"})
  public String kind;

  /** k x n. */
  @Param({"2048x5632", "5632x2048", "2048x2048"})
  public String shape;

  @Param({"2"})
  public int threads;

  @Param({"22"})
  public int layers;

  private Arena arena;
  private DType type;
  private int k, n;
  private MemorySegment x, y;
  private final List<MemorySegment> weights = new ArrayList<>();
  private WeightReads reads;
  private boolean measuring;
  private long readNs, gemvNs, passes;
  private long totalReadNs, totalGemvNs, totalPasses;
  private final List<Double> each = new ArrayList<>();

  @Setup(Level.Trial)
  public void setup() {
    type = DType.valueOf(kind.toUpperCase(Locale.ROOT));
    String[] d = shape.split("x");
    k = Integer.parseInt(d[0]);
    n = Integer.parseInt(d[1]);
    arena = Arena.ofShared();
    x = Buffers.random(arena, DType.F32, k, 1);
    y = Buffers.alloc(arena, 4L * n);
    for (int l = 0; l < layers; l++) {
      weights.add(Buffers.random(arena, type, (long) n * k, 2 + l));
    }
    reads = new WeightReads(weights);
    Parallel.setThreads(threads);
  }

  @Setup(Level.Iteration)
  public void startIteration(IterationParams iteration) {
    measuring = iteration.getType() == IterationType.MEASUREMENT;
    readNs = 0;
    gemvNs = 0;
    passes = 0;
  }

  /** A timed read of every weight, right before each GEMV pass. */
  @Setup(Level.Invocation)
  public void read() {
    readNs += reads.nanos();
  }

  @Benchmark
  public MemorySegment gemv() {
    long t0 = System.nanoTime();
    for (MemorySegment w : weights) {
      Gemv.gemv(n, k, x, 0, w, type, 0, k, y, 0, false);
    }
    gemvNs += System.nanoTime() - t0;
    passes++;
    return y;
  }

  @TearDown(Level.Iteration)
  public void endIteration() {
    if (measuring && passes > 0) {
      each.add((double) readNs / gemvNs);
      totalReadNs += readNs;
      totalGemvNs += gemvNs;
      totalPasses += passes;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (totalPasses > 0) {
      double bytes = (double) reads.bytes() * totalPasses;
      System.out.printf(Locale.ROOT, "%nfovea-gemv-stream kind=%s shape=%s threads=%d gemv_gbps=%.1f read_gbps=%.1f fraction=%.3f each=%s%n",
          kind, shape, threads, bytes / totalGemvNs, bytes / totalReadNs, (double) totalReadNs / totalGemvNs,
          each.stream().map(f -> String.format(Locale.ROOT, "%.3f", f)).collect(Collectors.joining(",")));
    }
    arena.close();
  }
}
