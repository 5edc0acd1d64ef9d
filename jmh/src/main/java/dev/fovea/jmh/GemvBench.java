package dev.fovea.jmh;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.cpu.Gemv;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
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
 * Decode-time GEMV, y[n] = W[n,k] x[k] with k = 4096, n = 11008 (a 7B MLP up-projection): fovea
 * {@link Gemv#gemv} reading F32, BF16, Q8_0 or Q4_0 weights directly, and OpenBLAS {@code
 * cblas_sgemv} on the F32 weight ({@code kind = sgemv}). The weight (48-180 MB) is far larger than
 * the caches, so every call streams it from DRAM.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT})
@State(Scope.Benchmark)
public class GemvBench {
  static final int K = 4096;
  static final int N = 11008;

  @Param({"f32", "bf16", "q8_0", "q4_0", "sgemv"})
  public String kind;

  @Param({"1", "2"})
  public int threads;

  private Arena arena;
  private DType type;
  private MemorySegment x, w, y;
  private FloatPointer px, pw, py;

  @Setup(Level.Trial)
  public void setup() {
    type = kind.equals("sgemv") ? DType.F32 : DType.valueOf(kind.toUpperCase());
    arena = Arena.ofShared();
    x = Buffers.random(arena, DType.F32, K, 1);
    w = Buffers.random(arena, type, (long) N * K, 2);
    y = Buffers.alloc(arena, 4L * N);
    px = Buffers.pointer(x);
    py = Buffers.pointer(y);
    pw = type == DType.F32 ? Buffers.pointer(w) : null;
    Parallel.setThreads(threads);
    openblas.blas_set_num_threads(threads);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public MemorySegment gemv() {
    if (kind.equals("sgemv")) {
      openblas.cblas_sgemv(CblasRowMajor, CblasNoTrans, N, K, 1f, pw, K, px, 1, 0f, py, 1);
    } else {
      Gemv.gemv(N, K, x, 0, w, type, 0, K, y, 0, false);
    }
    return y;
  }
}
