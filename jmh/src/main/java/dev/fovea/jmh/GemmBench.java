package dev.fovea.jmh;

import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.cpu.Gemm;
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
 * f32 GEMM, fovea {@link Gemm#sgemm} against OpenBLAS {@code cblas_sgemm} on the same off-heap
 * buffers and layouts:
 *
 * <ul>
 *   <li>{@code 1024x1024x1024}: A [m,k] and B [k,n] row-major (no transposes);
 *   <li>every other shape (m x k x n): A [m,k] row-major, the weight stored [n,k] as Linear does,
 *       i.e. C = A W^T (B transposed). {@code 197x768x768}, {@code 197x768x3072} and {@code
 *       197x3072x768} are ViT-B/16 at batch 1 (q/k/v/out_proj, fc1, fc2); {@code 577x1024x4096} and
 *       {@code 577x4096x1024} ViT-L/14-336 fc1 and fc2; {@code 600x2048x2048}, {@code 600x2048x256},
 *       {@code 600x2048x5632} and {@code 600x5632x2048} a TinyLlama-1.1B prefill of 600 tokens
 *       (q/o_proj, k/v_proj, gate/up_proj, down_proj). Any m x k x n works with {@code -p shape=...},
 *       e.g. {@code 4616x4096x1024} (ViT-L/14-336 fc2 at batch 8, 8 x 577 rows).
 * </ul>
 *
 * {@code dtype} is the weight's storage type (fovea only; OpenBLAS always reads F32). To compare
 * with an earlier Gemm, run this benchmark on both commits (the [n,k] packing work of 2026-11-24
 * measured 1.26-1.82x the Gemm of commit dd2a1ad on these shapes).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT})
@State(Scope.Benchmark)
public class GemmBench {
  /** m x k x n. */
  @Param({"1024x1024x1024", "197x768x768", "197x768x3072", "197x3072x768", "577x1024x4096", "577x4096x1024",
      "600x2048x2048", "600x2048x256", "600x2048x5632", "600x5632x2048"})
  public String shape;

  @Param({"F32"})
  public String dtype;

  @Param({"1", "2"})
  public int threads;

  @Param({"fovea", "openblas"})
  public String impl;

  private Arena arena;
  private int m, k, n;
  private boolean weightNk;
  private DType bType;
  private MemorySegment a, b, c;
  private FloatPointer pa, pb, pc;

  @Setup(Level.Trial)
  public void setup() {
    String[] d = shape.split("x");
    m = Integer.parseInt(d[0]);
    k = Integer.parseInt(d[1]);
    n = Integer.parseInt(d[2]);
    weightNk = !shape.equals("1024x1024x1024");
    arena = Arena.ofShared();
    a = Buffers.random(arena, DType.F32, (long) m * k, 1);
    bType = impl.equals("openblas") ? DType.F32 : DType.valueOf(dtype);
    b = Buffers.random(arena, bType, (long) k * n, 2);
    c = Buffers.alloc(arena, 4L * m * n);
    pa = Buffers.pointer(a);
    pb = Buffers.pointer(b);
    pc = Buffers.pointer(c);
    Parallel.setThreads(threads);
    openblas.blas_set_num_threads(threads);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public MemorySegment gemm() {
    if (impl.equals("openblas")) {
      if (weightNk) {
        openblas.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1f, pa, k, pb, k, 0f, pc, n);
      } else {
        openblas.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, pa, k, pb, n, 0f, pc, n);
      }
    } else if (weightNk) {
      Gemm.sgemm(m, n, k, a, 0, k, 1, b, bType, 0, 1, k, c, 0, n, false);
    } else {
      Gemm.sgemm(m, n, k, a, 0, k, 1, b, bType, 0, n, 1, c, 0, n, false);
    }
    return c;
  }
}
