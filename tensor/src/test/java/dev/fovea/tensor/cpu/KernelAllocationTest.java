package dev.fovea.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.UnaryOp;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Inference must not allocate Java heap per element: a FloatVector that crosses a call C2 does
 * not inline is boxed (about 12 bytes per element). Each unary op runs on 1M elements after
 * warm-up, on the calling thread only, and may allocate at most a few KB (the Tensor objects).
 */
class KernelAllocationTest {
  private static final long BOUND = 64 * 1024;

  @Test
  void unaryKernelsAllocateNoHeapPerElement() {
    onOneThread(() -> {
      Tensor x = Ops.mulScalar(Tensor.randn(new Random(3), 1 << 20), 2f).copyTo(Scope.global());
      Tensor pos = Ops.addScalar(Ops.abs(x), 0.5f).copyTo(Scope.global());
      StringBuilder report = new StringBuilder();
      long worst = 0;
      for (UnaryOp op : UnaryOp.values()) {
        Tensor in = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT ? pos : x;
        long bytes = steadyBytes(() -> Ops.unary(op, in), () -> Ops.unary(op, in.narrow(0, 0, 4096)));
        report.append(op).append('=').append(bytes).append(' ');
        worst = Math.max(worst, bytes);
      }
      // 1M elements: boxing would cost ~12 MB; the bound allows the op's few small objects.
      assertTrue(worst < BOUND, "heap bytes per 1M-element unary op: " + report);
    });
  }

  /**
   * The norms read F32 weights and biases in place: a decode step's norm (one row) had copied its
   * parameters into new heap arrays on every call (8 KB a weight at a width of 2048, 44 RMSNorms a
   * TinyLlama step). One row of 65,536 here, where the copies would be 256 KB a parameter.
   */
  @Test
  void normsReadTheirParametersInPlace() {
    onOneThread(() -> {
      Random rng = new Random(6);
      Tensor x = Tensor.randn(rng, 1, 65536).copyTo(Scope.global());
      Tensor w = Tensor.randn(rng, 65536).copyTo(Scope.global());
      Tensor b = Tensor.randn(rng, 65536).copyTo(Scope.global());
      long rms = steadyBytes(() -> Ops.rmsNorm(x, w, 1e-5f), () -> Ops.rmsNorm(x, w, 1e-5f));
      long ln = steadyBytes(() -> Ops.layerNorm(x, w, b, 1e-5f), () -> Ops.layerNorm(x, w, b, 1e-5f));
      assertTrue(rms < 16 * 1024 && ln < 16 * 1024, "heap bytes of one norm of a 65,536-wide row: rmsNorm " + rms + ", layerNorm " + ln);
    });
  }

  /** The same for binary ops (both operands full, and one broadcast) and the fused row kernels. */
  @Test
  void binaryAndRowKernelsAllocateNoHeapPerElement() {
    onOneThread(() -> {
      Random rng = new Random(4);
      Tensor a = Tensor.randn(rng, 1024, 1024).copyTo(Scope.global());
      Tensor b = Ops.addScalar(Ops.abs(Tensor.randn(rng, 1024, 1024)), 0.5f).copyTo(Scope.global());
      Tensor row = Tensor.randn(rng, 1024).copyTo(Scope.global());
      StringBuilder report = new StringBuilder();
      long worst = 0;
      for (dev.fovea.tensor.BinaryOp op : dev.fovea.tensor.BinaryOp.values()) {
        long full = steadyBytes(() -> Ops.binary(op, a, b), () -> Ops.binary(op, a.narrow(0, 0, 4), b.narrow(0, 0, 4)));
        long bcast = steadyBytes(() -> Ops.binary(op, a, row), () -> Ops.binary(op, a.narrow(0, 0, 4), row));
        report.append(op).append('=').append(full).append('/').append(bcast).append(' ');
        worst = Math.max(worst, Math.max(full, bcast));
      }
      long sm = steadyBytes(() -> Ops.softmax(a, -1), () -> Ops.softmax(a.narrow(0, 0, 4), -1));
      long ln = steadyBytes(() -> Ops.layerNorm(a, row, row, 1e-5f), () -> Ops.layerNorm(a.narrow(0, 0, 4), row, row, 1e-5f));
      long rn = steadyBytes(() -> Ops.rmsNorm(a, row, 1e-5f), () -> Ops.rmsNorm(a.narrow(0, 0, 4), row, 1e-5f));
      long sum = steadyBytes(() -> Ops.sum(a, -1, false), () -> Ops.sum(a.narrow(0, 0, 4), -1, false));
      long mx = steadyBytes(() -> Ops.max(a, -1, false), () -> Ops.max(a.narrow(0, 0, 4), -1, false));
      long lsm = steadyBytes(() -> Ops.logSoftmax(a, -1), () -> Ops.logSoftmax(a.narrow(0, 0, 4), -1));
      report.append(" max=").append(mx).append(" logSoftmax=").append(lsm);
      report.append("softmax=").append(sm).append(" layerNorm=").append(ln).append(" rmsNorm=").append(rn).append(" sum=").append(sum);
      worst = Math.max(worst, Math.max(Math.max(sm, ln), Math.max(rn, sum)));
      // 1M elements; per-row allocations (1024 rows) are allowed a few dozen bytes each
      assertTrue(worst < BOUND, "heap bytes per 1M-element op: " + report);
    });
  }

  /**
   * GEMV for every weight dtype, one row of x and (gemvRows) 2 to 4, at a short k (1024) and a
   * LLaMA-7B one (4096, where x no longer fits beside the weights in a Zen 4 L1): a boxed vector in
   * a row kernel would cost tens of bytes per row and k-step. 1022 rows at k 4096 split into chunks
   * of odd row counts, so the measured call also runs the lone last row of a chunk (the single-row
   * kernels). The warm-up calls take 67 rows so that every kernel a measured call reaches has been
   * compiled: warmed on 64 rows, the single-row BF16, Q8_0 and Q4_0 kernels ran in the interpreter
   * in the measured call (246, 197 and 222 KB a call, 2026-12-07), which an earlier session read
   * as kernels falling off their intrinsics. (A real process warms them too: JitWarmUp's vocabulary
   * is odd.)
   */
  @Test
  void gemvAllocatesNoHeapPerRow() {
    onOneThread(() -> {
      try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
        Random rnd = new Random(5);
        StringBuilder report = new StringBuilder();
        long worst = 0;
        for (int[] shape : new int[][] {{2048, 1024}, {1022, 4096}}) {
          int n = shape[0];
          int k = shape[1];
          java.lang.foreign.MemorySegment x = KernelRef.randomF32((long) Gemv.MAX_ROWS * k, rnd, arena).seg();
          java.lang.foreign.MemorySegment y = arena.allocate(4L * Gemv.MAX_ROWS * n, 64);
          for (dev.fovea.tensor.DType t : new dev.fovea.tensor.DType[] {dev.fovea.tensor.DType.F32,
              dev.fovea.tensor.DType.F16, dev.fovea.tensor.DType.BF16, dev.fovea.tensor.DType.Q8_0,
              dev.fovea.tensor.DType.Q4_0}) {
            java.lang.foreign.MemorySegment w = KernelRef.random(t, (long) n * k, rnd, arena).seg();
            long bytes = steadyBytes(() -> Gemv.gemv(n, k, x, 0, w, t, 0, k, y, 0, false),
                () -> Gemv.gemv(67, k, x, 0, w, t, 0, k, y, 0, false));
            report.append("k=").append(k).append(' ').append(t).append('=').append(bytes).append(' ');
            worst = Math.max(worst, bytes);
            for (int m = 2; m <= Gemv.MAX_ROWS; m++) {
              int rows = m;
              bytes = steadyBytes(() -> Gemv.gemvRows(rows, n, k, x, 0, k, 1, w, t, 0, k, y, 0, n, false),
                  () -> Gemv.gemvRows(rows, 67, k, x, 0, k, 1, w, t, 0, k, y, 0, n, false));
              report.append(t).append(" m=").append(m).append('=').append(bytes).append(' ');
              worst = Math.max(worst, bytes);
            }
          }
        }
        // 2M or 4M weights: boxing would cost megabytes; the bound allows the call's few small objects.
        assertTrue(worst < BOUND, "heap bytes per gemv (2048 x 1024 and 1022 x 4096, m rows of x): " + report);
      }
    });
  }

  /**
   * GEMM against a weight stored [n, k] (the Linear layout) for every weight dtype (F16/BF16 and
   * Q8_0/Q4_0 decoded with vectors while packing): packing goes through per-thread scratch, so a
   * steady-state call allocates only its few small objects.
   */
  @Test
  void sgemmAgainstLinearWeightsAllocatesNoHeapPerTile() {
    int m = 197;
    int n = 256;
    int k = 320;
    onOneThread(() -> {
      try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
        Random rnd = new Random(6);
        java.lang.foreign.MemorySegment a = KernelRef.randomF32((long) m * k, rnd, arena).seg();
        java.lang.foreign.MemorySegment c = arena.allocate(4L * m * n, 64);
        java.lang.foreign.MemorySegment a2 = KernelRef.randomF32(600L * 512, rnd, arena).seg();
        java.lang.foreign.MemorySegment c2 = arena.allocate(4L * 600 * 256, 64);
        StringBuilder report = new StringBuilder();
        long worst = 0;
        for (dev.fovea.tensor.DType t : new dev.fovea.tensor.DType[] {dev.fovea.tensor.DType.F32,
            dev.fovea.tensor.DType.F16, dev.fovea.tensor.DType.BF16, dev.fovea.tensor.DType.Q8_0,
            dev.fovea.tensor.DType.Q4_0}) {
          java.lang.foreign.MemorySegment w = KernelRef.random(t, (long) n * k, rnd, arena).seg();
          long bytes = steadyBytes(() -> Gemm.sgemm(m, n, k, a, 0, k, 1, w, t, 0, 1, k, c, 0, n, false),
              () -> Gemm.sgemm(16, n, k, a, 0, k, 1, w, t, 0, 1, k, c, 0, n, false));
          report.append(t).append('=').append(bytes).append(' ');
          worst = Math.max(worst, bytes);
          // A of 600 x 512 floats, past Gemm's pre-pack threshold: A packed once into the calling
          // thread's buffer (allocated on the first call only), the kernels reading it from there.
          java.lang.foreign.MemorySegment w2 = KernelRef.random(t, 256L * 512, rnd, arena).seg();
          bytes = steadyBytes(() -> Gemm.sgemm(600, 256, 512, a2, 0, 512, 1, w2, t, 0, 1, 512, c2, 0, 256, false),
              () -> Gemm.sgemm(600, 160, 512, a2, 0, 512, 1, w2, t, 0, 1, 512, c2, 0, 256, false));
          report.append(t).append(" prepacked=").append(bytes).append(' ');
          worst = Math.max(worst, bytes);
        }
        // 197 x 256 x 320: a boxed vector in a kernel or the transpose would cost megabytes.
        assertTrue(worst < BOUND, "heap bytes per 197 x 256 x 320 (and 600 x 256 x 512) sgemm: " + report);
      }
    });
  }

  /**
   * A decode step's attention over keys stored as a KV cache stores them (position-minor, spare
   * capacity after the last position), TinyLlama's heads: the key-major kernel's vectors must stay
   * in registers. Boxed, 20 calls would allocate tens of MB; its methods are split so C1's tier-3
   * compile does not give up on them ("out of virtual registers", a 20x slower decode attention).
   */
  @Test
  void decodeAttentionAllocatesNoHeapPerKey() {
    onOneThread(() -> {
      Random rng = new Random(5);
      int tk = 601;
      Tensor kStore = Tensor.randn(rng, 1, 4, 64, tk + 15).copyTo(Scope.global());
      Tensor k = kStore.transpose(2, 3).narrow(2, 0, tk);
      Tensor v = Tensor.randn(rng, 1, 4, tk + 15, 64).copyTo(Scope.global()).narrow(2, 0, tk);
      Tensor q = Tensor.randn(rng, 1, 32, 1, 64).copyTo(Scope.global());
      long bytes = steadyBytes(() -> {
        for (int i = 0; i < 20; i++) {
          Ops.scaledDotProductAttention(q, k, v, null, true, 0.125f);
        }
      }, () -> Ops.scaledDotProductAttention(q, k, v, null, true, 0.125f));
      assertTrue(bytes < BOUND, "heap bytes per 20 decode attentions (32 heads, 601 keys): " + bytes);
    });
  }

  /** Runs body with the engine on one thread (allocation is measured on the calling thread only), then restores the count. */
  private static void onOneThread(Runnable body) {
    int before = Parallel.threads();
    Parallel.setThreads(1);
    try {
      body.run();
    } finally {
      Parallel.setThreads(before);
    }
  }

  /**
   * Heap bytes of one {@code measured} call in steady state: until C2 has compiled the kernel, the
   * interpreter and C1 box every vector, so the least of up to 60 measured calls, each after 200
   * {@code warm} calls (30 until 2026-12-07: Gemv's eight-row Q8_0 kernel, twice the four-row one,
   * was once still uncompiled after 30 on this 2-core VM, and C1's boxing read as 13 MB a call).
   * The bound is unchanged: a kernel that C2 compiles with boxed vectors fails as before.
   */
  private static long steadyBytes(Runnable measured, Runnable warm) {
    var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long bytes = Long.MAX_VALUE;
    for (int trial = 0; trial < 60 && bytes > 16 * 1024; trial++) {
      for (int w = 0; w < 200; w++) {
        try (Scope s = Scope.open()) {
          warm.run();
        }
      }
      long t0 = bean.getCurrentThreadAllocatedBytes();
      try (Scope s = Scope.open()) {
        measured.run();
      }
      bytes = Math.min(bytes, bean.getCurrentThreadAllocatedBytes() - t0);
    }
    return bytes;
  }
}
