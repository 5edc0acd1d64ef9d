package dev.fovea.gpu;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.ExecutionContext;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ReduceOp;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.UnaryOp;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.ops.Rope;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * The GPU machine's check (bench/gpu-check.sh runs it): every op and the tiny model blocks on the
 * CPU and on a CUDA device, the largest difference of each, then throughput at TinyLlama's and
 * ViT-L/14-336's shapes. Exit status 0 when every case is within its bound, 1 when one is not, 2
 * when no CUDA device could be opened.
 *
 * <pre>
 * java ... dev.fovea.gpu.GpuCheck [--dry-run] [--no-bench] [--device cuda:0] [--steps 32]
 * </pre>
 *
 * {@code --dry-run} runs every case on the CPU alone (twice, so the harness itself is checked where
 * there is no GPU). Differences are relative: max |gpu - cpu| / max |cpu|.
 */
public final class GpuCheck {
  /**
   * F32 bound (the target). BF16/F16/Q8_0/Q4_0 weights are decoded exactly to F32 on both
   * sides, so the same bound holds, except for the half-precision GEMM (BF16/F16 weights, more rows
   * than the GEMV takes), which rounds the activations: {@link #halfGemmBound}.
   */
  static final double F32_TOL = 1e-4;
  /** Whole model blocks: two layers of F32 arithmetic in different summation orders. */
  static final double MODEL_TOL = 5e-4;

  /** One op or model case: builds its inputs from a seed on the CPU, moves them to {@code device}, computes there. */
  public record Case(String name, double tolerance, Function<Device, Tensor> run) {}

  /** Result of one case: the largest relative difference and whether it is within the bound. */
  public record Outcome(String name, double relDiff, double tolerance, String error) {
    public boolean ok() {
      return error == null && relDiff <= tolerance;
    }

    @Override
    public String toString() {
      if (error != null) {
        return String.format("FAIL  %-40s error: %s", name, error);
      }
      return String.format("%s  %-40s max rel diff %.3e (bound %.1e)", ok() ? "ok  " : "FAIL", name, relDiff, tolerance);
    }
  }

  private GpuCheck() {}

  public static void main(String[] args) {
    boolean dryRun = has(args, "--dry-run");
    boolean bench = !has(args, "--no-bench");
    Device cuda = Device.parse(option(args, "--device", "cuda:0"));
    int steps = Integer.parseInt(option(args, "--steps", "32"));
    Device target = cuda;
    if (dryRun) {
      System.out.println("gpu-check: dry run: every case on the CPU twice (no device)");
      target = Device.CPU;
    } else {
      try {
        Backend b = Backends.of(cuda);
        System.out.println("gpu-check: " + (b instanceof CudaBackend cb ? cb.describe() : b.device()));
      } catch (TensorException e) {
        System.out.println("gpu-check: " + e.getMessage());
        System.exit(2);
      }
    }
    int passed = 0;
    int failed = 0;
    for (Case c : cases()) {
      Outcome o = compare(c, target);
      System.out.println(o);
      if (o.ok()) {
        passed++;
      } else {
        failed++;
      }
    }
    System.out.println("gpu-check: cases: " + passed + " passed, " + failed + " failed");
    if (bench && !dryRun) {
      Bench.run(cuda, steps);
    }
    System.out.println("gpu-check: " + passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }

  private static boolean has(String[] args, String flag) {
    for (String a : args) {
      if (a.equals(flag)) {
        return true;
      }
    }
    return false;
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }

  /** Runs {@code c} on the CPU and on {@code device} and compares. */
  public static Outcome compare(Case c, Device device) {
    try {
      float[] ref = runOn(c, Device.CPU);
      float[] got = runOn(c, device);
      if (ref.length != got.length) {
        return new Outcome(c.name(), Double.NaN, c.tolerance(), "sizes differ: cpu " + ref.length + ", device " + got.length);
      }
      return new Outcome(c.name(), relDiff(ref, got), c.tolerance(), null);
    } catch (RuntimeException e) {
      return new Outcome(c.name(), Double.NaN, c.tolerance(), e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static float[] runOn(Case c, Device d) {
    try (Scope s = Scope.open()) {
      return c.run().apply(d).toFloatArray();
    }
  }

  /** max |a - b| / max |a|; NaN or infinity where exactly one side has it counts as infinite difference. */
  static double relDiff(float[] ref, float[] got) {
    double maxDiff = 0;
    double maxRef = 0;
    for (int i = 0; i < ref.length; i++) {
      float r = ref[i];
      float g = got[i];
      if (Float.isNaN(r) || Float.isNaN(g) || Float.isInfinite(r) || Float.isInfinite(g)) {
        if (Float.compare(r, g) != 0) {
          return Double.POSITIVE_INFINITY;
        }
        continue;
      }
      maxDiff = Math.max(maxDiff, Math.abs((double) r - g));
      maxRef = Math.max(maxRef, Math.abs(r));
    }
    return maxRef == 0 ? maxDiff : maxDiff / maxRef;
  }

  // ------------------------------------------------------------------ the cases

  static Tensor randn(long seed, int... shape) {
    return Tensor.randn(new Random(seed), shape);
  }

  static Tensor on(Device d, Tensor t) {
    return t.to(d);
  }

  /** Every op of the Backend contract and the tiny model blocks. */
  public static List<Case> cases() {
    List<Case> cs = new ArrayList<>();
    // copy / convert, contiguous and strided
    cs.add(new Case("copy contiguous", F32_TOL, d -> on(d, randn(1, 7, 33)).contiguous()));
    cs.add(new Case("copy strided (transpose)", F32_TOL, d -> on(d, randn(2, 7, 33)).transpose(0, 1).contiguous()));
    cs.add(new Case("copy strided (slice step 3)", F32_TOL, d -> on(d, randn(3, 4, 5, 40)).slice(2, 1, 38, 3).contiguous()));
    for (DType t : new DType[] {DType.BF16, DType.F16}) {
      cs.add(new Case("convert f32->" + t + "->f32", 0, d -> on(d, randn(4, 9, 31)).to(t).to(DType.F32)));
      cs.add(new Case("convert " + t + " (cpu-made) -> f32", 0, d -> on(d, randn(5, 9, 31).to(t)).transpose(0, 1).to(DType.F32)));
    }
    for (DType q : new DType[] {DType.Q8_0, DType.Q4_0}) {
      cs.add(new Case("dequantize " + q, 0, d -> on(d, randn(6, 5, 64).to(q)).to(DType.F32)));
    }
    cs.add(new Case("ids i64 -> i32 -> f32", 0, d -> on(d, Tensor.ofLongs(new long[] {3, -1, 1L << 40, 7}, 4)).to(DType.I32).to(DType.F32)));
    // unary
    for (UnaryOp op : UnaryOp.values()) {
      boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT;
      cs.add(new Case("unary " + op, F32_TOL, d -> {
        Tensor x = randn(10 + op.ordinal(), 6, 67);
        x = positive ? Ops.addScalar(Ops.abs(x), 0.05f) : Ops.mulScalar(x, 3f);
        return Ops.unary(op, on(d, x).transpose(0, 1));
      }));
    }
    // binary with broadcasting
    for (BinaryOp op : BinaryOp.values()) {
      cs.add(new Case("binary " + op + " (broadcast)", F32_TOL, d -> {
        Tensor a = randn(40 + op.ordinal(), 4, 1, 33);
        Tensor b = randn(60 + op.ordinal(), 5, 33);
        if (op == BinaryOp.POW) {
          a = Ops.addScalar(Ops.abs(a), 0.1f);
        }
        if (op == BinaryOp.DIV) {
          b = Ops.addScalar(Ops.abs(b), 0.5f);
        }
        if (op == BinaryOp.EQ) {
          b = Ops.maximum(b, Ops.scalar(0f));
          a = Ops.maximum(a, Ops.scalar(0f));
        }
        return Ops.binary(op, on(d, a), on(d, b));
      }));
    }
    // reductions
    for (ReduceOp op : ReduceOp.values()) {
      cs.add(new Case("reduce " + op + " last dim", F32_TOL, d -> op == ReduceOp.SUM ? Ops.sum(on(d, randn(80, 13, 1500)), -1, false)
          : Ops.max(on(d, randn(81, 13, 1500)), -1, false)));
      cs.add(new Case("reduce " + op + " dim 0 (strided)", F32_TOL, d -> op == ReduceOp.SUM ? Ops.sum(on(d, randn(82, 37, 9)), 0, false)
          : Ops.max(on(d, randn(83, 37, 9)), 0, false)));
    }
    // row kernels
    cs.add(new Case("softmax", F32_TOL, d -> Ops.softmax(Ops.mulScalar(on(d, randn(90, 11, 1037)), 4f), -1)));
    cs.add(new Case("log-softmax", F32_TOL, d -> Ops.logSoftmax(Ops.mulScalar(on(d, randn(91, 11, 77)), 4f), -1)));
    cs.add(new Case("softmax dim 0", F32_TOL, d -> Ops.softmax(on(d, randn(92, 19, 5)), 0)));
    cs.add(new Case("softmax all -inf row", F32_TOL, d -> Ops.softmax(on(d, Tensor.full(Float.NEGATIVE_INFINITY, 2, 9)), -1)));
    cs.add(new Case("layer norm", F32_TOL, d -> Ops.layerNorm(on(d, randn(93, 6, 1024)), on(d, randn(94, 1024)), on(d, randn(95, 1024)), 1e-5f)));
    cs.add(new Case("layer norm no affine", F32_TOL, d -> Ops.layerNorm(on(d, randn(96, 5, 50)), null, null, 1e-5f)));
    cs.add(new Case("rms norm", F32_TOL, d -> Ops.rmsNorm(on(d, randn(97, 6, 2048)), on(d, randn(98, 2048)), 1e-5f)));
    // embedding
    for (DType t : new DType[] {DType.F32, DType.BF16, DType.Q8_0, DType.Q4_0}) {
      cs.add(new Case("embedding " + t, F32_TOL, d -> Ops.embedding(on(d, randn(100, 50, 64).to(t)), on(d, Tensor.ofInts(new int[] {3, 0, 49, 3, 17}, 5)))));
    }
    // matmul
    cs.add(new Case("matmul f32 [3,37,65]x[65,29]", F32_TOL, d -> Ops.matmul(on(d, randn(110, 3, 37, 65)), on(d, randn(111, 65, 29)))));
    cs.add(new Case("matmul f32 batched broadcast", F32_TOL, d -> Ops.matmul(on(d, randn(112, 2, 1, 9, 16)), on(d, randn(113, 3, 16, 7)))));
    cs.add(new Case("matmul f32 transposed a", F32_TOL, d -> Ops.matmul(on(d, randn(114, 40, 17)).transpose(0, 1), on(d, randn(115, 40, 8)))));
    cs.add(new Case("matmul f32 strided a (needs copy)", F32_TOL, d -> Ops.matmul(on(d, randn(116, 9, 40)).slice(1, 0, 40, 2), on(d, randn(117, 20, 8)))));
    cs.add(new Case("matmul accumulate-free 1 row", F32_TOL, d -> Ops.matmul(on(d, randn(118, 1, 300)), on(d, randn(119, 300, 5)))));
    for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0}) {
      for (int rows : new int[] {1, 3, 40}) {
        boolean halfGemm = rows > CudaBackend.GEMV_MAX_ROWS && (t == DType.BF16 || t == DType.F16);
        String name = "linear " + t + " weight, " + rows + " rows" + (halfGemm ? " (half GEMM)" : "");
        Function<Device, Tensor> run = d -> Ops.linear(on(d, randn(120 + rows, rows, 256)), on(d, randn(121, 96, 256).to(t)), on(d, randn(122, 96)));
        cs.add(new Case(name, halfGemm ? halfGemmBound(t, rows) : F32_TOL, run));
        if (halfGemm) {
          // The same product against the CPU on activations rounded to the weight's type as the
          // backend rounds them: the products of two half values are exact in F32, so only the
          // summation order differs and the F32 bound holds.
          cs.add(new Case(name + " vs rounded activations", F32_TOL, d -> {
            Tensor x = randn(120 + rows, rows, 256);
            return Ops.linear(on(d, d.equals(Device.CPU) ? x.to(t).to(DType.F32) : x), on(d, randn(121, 96, 256).to(t)), on(d, randn(122, 96)));
          }));
        }
      }
    }
    cs.add(new Case("linearShared q/k/v", F32_TOL, d -> {
      Tensor[] o = Ops.linearShared(on(d, randn(130, 2, 64)), on(d, randn(131, 64, 64)), on(d, randn(132, 16, 64)));
      return Ops.concat(List.of(o[0], o[1]), -1);
    }));
    // attention (fused path)
    cs.add(new Case("attention causal GQA 8/2 heads", F32_TOL, d -> Ops.scaledDotProductAttention(
        on(d, randn(140, 2, 8, 13, 64)), on(d, randn(141, 2, 2, 13, 64)), on(d, randn(142, 2, 2, 13, 64)), null, true, 0.125f)));
    cs.add(new Case("attention decode (1 query, 300 keys)", F32_TOL, d -> Ops.scaledDotProductAttention(
        on(d, randn(143, 1, 4, 1, 64)), on(d, randn(144, 1, 4, 300, 64)), on(d, randn(145, 1, 4, 300, 64)), null, true, 0.125f)));
    cs.add(new Case("attention bias, not causal", F32_TOL, d -> Ops.scaledDotProductAttention(
        on(d, randn(146, 1, 3, 17, 32)), on(d, randn(147, 1, 3, 21, 32)), on(d, randn(148, 1, 3, 21, 32)),
        on(d, randn(149, 1, 1, 17, 21)), false, 0.17f)));
    cs.add(new Case("attention strided k/v (cache view)", F32_TOL, d -> Ops.scaledDotProductAttention(
        on(d, randn(150, 1, 4, 3, 64)), on(d, randn(151, 1, 2, 40, 64)).slice(2, 0, 25), on(d, randn(152, 1, 2, 40, 64)).slice(2, 0, 25), null, true, 0.125f)));
    // composed ops
    cs.add(new Case("rope (half rotation)", F32_TOL, d -> {
      Tensor[] t = Rope.tables(5, 7, 64, 10000);
      return Ops.rope(on(d, randn(160, 1, 4, 7, 64)), t[0], t[1], false);
    }));
    cs.add(new Case("conv2d patch embed 14x14", F32_TOL, d -> Ops.conv2d(on(d, randn(161, 1, 3, 28, 42)), on(d, randn(162, 32, 3, 14, 14)), null, 14, 0)));
    cs.add(new Case("concat / index_select", F32_TOL, d -> Ops.indexSelect(Ops.concat(List.of(on(d, randn(163, 3, 5)), on(d, randn(164, 2, 5))), 0), 0,
        Tensor.ofLongs(new long[] {4, 0, 2}, 3))));
    // autograd backward on the device: d/dx and d/dW of sum(softmax(x W) * y)
    cs.add(new Case("backward softmax(xW)*y: dx, dW", F32_TOL, GpuCheck::backward));
    // two execution contexts (on CUDA: two streams) stepped in turn, each step's scratch in a scope
    // whose slab the other stream takes next: the numbers of one stream (no context on the CPU)
    cs.add(new Case("two streams in turn (slabs reused across them)", F32_TOL, GpuCheck::twoStreams));
    // tiny model blocks
    cs.add(new Case("tiny LLaMA (2 layers, GQA, rope)", MODEL_TOL, d -> TinyModels.llama(d, TinyModels.LlamaShape.TINY, 11, 777)));
    cs.add(new Case("tiny CLIP ViT (2 layers, patch conv)", MODEL_TOL, d -> TinyModels.vit(d, TinyModels.VitShape.TINY, 12)));
    return cs;
  }

  /** Two chains x <- tanh(x W) / ||.|| ... advanced in turn, each in its own context; both results concatenated. */
  static Tensor twoStreams(Device d) {
    Backend b = Backends.of(d);
    Scope outer = Scope.current();
    ExecutionContext ca = b.openContext(); // null on the CPU
    ExecutionContext cb = b.openContext();
    try {
      Tensor w = on(d, Ops.mulScalar(randn(170, 96, 96), 0.2f));
      Tensor xa = on(d, randn(171, 8, 96));
      Tensor xb = on(d, randn(172, 8, 96));
      for (int i = 0; i < 6; i++) {
        xa = stepIn(ca, outer, w, xa);
        xb = stepIn(cb, outer, w, xb);
      }
      return Ops.concat(List.of(xa, xb), 0);
    } finally {
      if (ca != null) {
        ca.close();
      }
      if (cb != null) {
        cb.close();
      }
    }
  }

  private static Tensor stepIn(ExecutionContext c, Scope outer, Tensor w, Tensor x) {
    ExecutionContext.Entered on = c == null ? null : c.enter();
    try (Scope step = Scope.open()) {
      Tensor h = Ops.tanh(Ops.matmul(x, w));
      Tensor big = Ops.softmax(Ops.matmul(h.transpose(0, 1), h), -1); // scratch [96, 96]
      return Ops.add(h, Ops.matmul(h, big)).copyTo(outer);
    } finally {
      if (on != null) {
        on.close();
      }
    }
  }

  /**
   * The stated bound of a half-precision GEMM (BF16/F16 weight, many rows) against the CPU's F32
   * activations, relative to max |cpu| as every case: the backend rounds each activation to the
   * weight's type (relative error at most u, the unit roundoff: 2^-8 for BF16, 2^-11 for F16), so
   * each output element moves by at most u * sum_l |x_l w_l|; F32 summation adds F32_TOL. This
   * is u * max_ij sum_l |x_il w_lj| / max |cpu| + F32_TOL for the case's own data (computed here,
   * on the CPU). For unit Gaussians and k = 256 it comes to about 1e-2 (BF16) and 1.3e-3 (F16);
   * the expected error is smaller, about u / sqrt(3) * sqrt(k) / max |cpu|.
   */
  static double halfGemmBound(DType t, int rows) {
    try (Scope s = Scope.open()) {
      float[] x = randn(120 + rows, rows, 256).toFloatArray();
      Tensor w = randn(121, 96, 256).to(t);
      float[] ws = w.to(DType.F32).toFloatArray();
      float[] ref = Ops.linear(randn(120 + rows, rows, 256), w, randn(122, 96)).toFloatArray();
      double maxAbs = 0;
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < 96; j++) {
          double a = 0;
          for (int l = 0; l < 256; l++) {
            a += Math.abs((double) x[i * 256 + l] * ws[j * 256 + l]);
          }
          maxAbs = Math.max(maxAbs, a);
        }
      }
      double maxRef = 0;
      for (float r : ref) {
        maxRef = Math.max(maxRef, Math.abs(r));
      }
      double u = t == DType.BF16 ? 0x1p-8 : 0x1p-11;
      return u * maxAbs / maxRef + F32_TOL;
    }
  }

  private static Tensor backward(Device d) {
    try (GradMode.Guard g = GradMode.enable()) {
      Tensor x = on(d, randn(170, 5, 24)).detach().requiresGrad(true);
      Tensor w = on(d, randn(171, 24, 10)).detach().requiresGrad(true);
      Tensor y = on(d, randn(172, 5, 10));
      Tensor loss = Ops.sumAll(Ops.mul(Ops.softmax(Ops.layerNorm(Ops.matmul(x, w), null, null, 1e-5f), -1), y));
      loss.backward();
      return Ops.concat(List.of(x.grad().reshape(-1), w.grad().reshape(-1)), 0);
    }
  }
}
