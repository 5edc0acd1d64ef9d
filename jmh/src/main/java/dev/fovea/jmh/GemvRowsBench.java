package dev.fovea.jmh;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * {@code Ops.linear} of x [m, k] against weights W [n, k] at decode shapes, for m = 1 to 4 rows
 * (contrastive decoding runs its branches as one batch of rows). Each call of {@link #pass}
 * multiplies by every one of {@code megabytes} worth of separate weights (so the weights stream
 * from DRAM, as a model's layers do) once for each m, the m's in an order rotated call by call, and
 * times each m's pass on its own; at the end of the trial it prints the median per linear:
 *
 * <pre>
 * fovea-gemv-rows dtype=bf16 shape=2048x5632 threads=2 weights=9 m1_ms=0.512 m2_ms=0.560 m3_ms=... m4_ms=... r2=1.094 r3=... r4=...
 * </pre>
 *
 * with {@code rM} = median(m) / median(m = 1). The m's alternate inside one process, so the ratios
 * are little moved by this VM's shifting memory speed (see {@link GemvStreamBench}); the absolute
 * times of separate runs are. JMH's own score is the time of one call (all four m's). Shapes are k
 * x n: TinyLlama-1.1B's gate/up ({@code 2048x5632}), down ({@code 5632x2048}) and q/o ({@code
 * 2048x2048}). With {@code -p threads=1} the line also gives {@code cpuM_ms} and {@code cpu_rM}:
 * the median CPU time of the calling thread (which then runs every chunk), which other processes
 * on a shared machine move much less than wall time; it is the cost of the kernel's work, not of
 * its waits for memory, so compare it between kernels rather than with the wall times.
 *
 * <pre>
 * java -cp "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" org.openjdk.jmh.Main GemvRowsBench
 * java ... GemvRowsBench -p threads=1                                      (with CPU times)
 * java ... GemvRowsBench -jvmArgsPrepend -Dfovea.gemv.maxRows=1           (m >= 2 through the packed GEMM)
 * </pre>
 *
 * Measured 2026-12 on this project's 2-core VM while other builds loaded it (load average 3-11),
 * medians of 2 runs: 2 rows over 1 row on one thread by CPU time 1.0-1.23x for F32, 1.7-2.8x for
 * BF16/F16, 1.2-1.8x for Q8_0/Q4_0 (through the packed GEMM before the multi-row GEMV: 2.0-2.5x,
 * 4.2-8.1x, 6.8-17x); on two threads by wall time 0.9-1.1x, 1.3-2.9x, 1.2-1.9x (1.8-2.4x,
 * 2.7-4.8x, 7.8-10.8x). Tables in the commits of the multi-row GEMV.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT})
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
public class GemvRowsBench {
  static final int MAX_ROWS = 4;

  @Param({"f32", "bf16", "f16", "q8_0", "q4_0"})
  public String dtype;

  /** k x n. */
  @Param({"2048x5632", "5632x2048", "2048x2048"})
  public String shape;

  @Param({"2"})
  public int threads;

  /** Weight bytes per m's pass (at least two weights). */
  @Param({"96"})
  public int megabytes;

  private Arena arena;
  private final List<Tensor> weights = new ArrayList<>();
  private final Tensor[] xs = new Tensor[MAX_ROWS];
  private boolean measuring;
  private long calls;
  /** Per m, the nanoseconds of each measured pass, and the calling thread's CPU nanoseconds in it. */
  private final List<List<Long>> nanos = new ArrayList<>(), cpuNanos = new ArrayList<>();
  private final ThreadMXBean bean = ManagementFactory.getThreadMXBean();

  @Setup(Level.Trial)
  public void setup() {
    DType type = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
    String[] d = shape.split("x");
    int k = Integer.parseInt(d[0]);
    int n = Integer.parseInt(d[1]);
    arena = Arena.ofShared();
    long bytes = type.byteSize((long) n * k);
    int count = (int) Math.max(2, ((long) megabytes << 20) / bytes + 1);
    for (int l = 0; l < count; l++) {
      MemorySegment w = Buffers.random(arena, type, (long) n * k, 2 + l);
      weights.add(new Tensor(Storage.wrap(w, type, (long) n * k), new int[] {n, k}, new long[] {k, 1}, 0));
    }
    MemorySegment x = Buffers.random(arena, DType.F32, (long) MAX_ROWS * k, 1);
    for (int m = 1; m <= MAX_ROWS; m++) {
      xs[m - 1] = new Tensor(Storage.wrap(x, DType.F32, (long) MAX_ROWS * k), new int[] {m, k}, new long[] {k, 1}, 0);
      nanos.add(new ArrayList<>());
      cpuNanos.add(new ArrayList<>());
    }
    Parallel.setThreads(threads);
  }

  @Setup(Level.Iteration)
  public void startIteration(IterationParams iteration) {
    measuring = iteration.getType() == IterationType.MEASUREMENT;
  }

  @Benchmark
  public long pass() {
    long sink = 0;
    for (int r = 0; r < MAX_ROWS; r++) {
      int m = (int) ((calls + r) % MAX_ROWS) + 1;
      try (Scope s = Scope.open()) {
        long c0 = bean.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        for (Tensor w : weights) {
          sink += Ops.linear(xs[m - 1], w, null).numel();
        }
        long dt = System.nanoTime() - t0;
        long dc = bean.getCurrentThreadCpuTime() - c0;
        if (measuring) {
          nanos.get(m - 1).add(dt);
          cpuNanos.get(m - 1).add(dc);
        }
      }
    }
    calls++;
    return sink;
  }

  /** Median per linear, in ms, of each m's passes. */
  private double[] medians(List<List<Long>> passes) {
    double[] ms = new double[MAX_ROWS];
    for (int m = 0; m < MAX_ROWS; m++) {
      long[] t = passes.get(m).stream().mapToLong(Long::longValue).sorted().toArray();
      ms[m] = t.length == 0 ? Double.NaN : t[t.length / 2] / 1e6 / weights.size();
    }
    return ms;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    double[] ms = medians(nanos);
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%nfovea-gemv-rows dtype=%s shape=%s threads=%d weights=%d passes=%d",
        dtype, shape, threads, weights.size(), nanos.get(0).size()));
    for (int m = 0; m < MAX_ROWS; m++) {
      line.append(String.format(Locale.ROOT, " m%d_ms=%.3f", m + 1, ms[m]));
    }
    for (int m = 1; m < MAX_ROWS; m++) {
      line.append(String.format(Locale.ROOT, " r%d=%.3f", m + 1, ms[m] / ms[0]));
    }
    if (threads == 1) {
      double[] cpu = medians(cpuNanos);
      for (int m = 0; m < MAX_ROWS; m++) {
        line.append(String.format(Locale.ROOT, " cpu%d_ms=%.3f", m + 1, cpu[m]));
      }
      for (int m = 1; m < MAX_ROWS; m++) {
        line.append(String.format(Locale.ROOT, " cpu_r%d=%.3f", m + 1, cpu[m] / cpu[0]));
      }
    }
    System.out.println(line);
    arena.close();
  }
}
