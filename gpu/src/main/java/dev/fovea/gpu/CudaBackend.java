package dev.fovea.gpu;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.BinaryOp;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.ExecutionContext;
import dev.fovea.tensor.ReduceOp;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.UnaryOp;
import java.util.Arrays;

/**
 * The CUDA backend: cuBLAS for matmul, kernels.cu for every other op, device memory owned by
 * scopes ({@link DeviceMemory}), explicit copies between host and device ({@link #transfer}).
 * The CPU backend (tensor/.../cpu/CpuBackend.java) is the reference every kernel follows.
 *
 * <p>Matmul: F32 weights go straight to cuBLAS's strided-batched GEMM (cublasGemmStridedBatchedEx,
 * F32 inputs, F32 compute, no TF32). F16, BF16, Q8_0 and Q4_0 weights: up to {@link
 * #GEMV_MAX_ROWS} rows (decode steps) read them in place with the fv_gemv kernel (F32
 * accumulation, F32 activations). More rows (prefill, encoders): BF16 and F16 weights are used in
 * place by a half-precision cublasGemmStridedBatchedEx, whose two inputs must share a type (cuBLAS
 * has no BF16 x F32 GEMM), so the activations are rounded to the weight's type (fv_to_half, round to
 * nearest even, into scratch of the current scope); the products are exact in F32 and accumulated
 * in F32 (CUBLAS_COMPUTE_32F), the output is F32. Against the CPU, which multiplies the unrounded F32
 * activations, each output element differs by at most u * sum_l |a_l w_l| plus F32 summation error
 * (u the unit roundoff of the weight's type: 2^-8 for BF16, 2^-11 for F16; an F16 activation
 * beyond 65504 becomes infinite, as in PyTorch's F16 inference). {@code -Dfovea.cuda.gemm=f32}
 * widens such weights to F32 in scratch instead (the CPU's numbers within F32 rounding). Q8_0/Q4_0
 * weights with many rows are always widened to F32 in scratch.
 *
 * <p>Streams: work goes to the default stream, or to the stream of the {@link ExecutionContext}
 * current on the calling thread when it is one of this backend's ({@link #openContext()}: a
 * decoding state's). Entering a context orders its stream after the default stream's work; leaving
 * it makes the default stream's next work wait for the context's; {@link DeviceMemory} fences
 * memory reused across streams. See the README's "One stream per decoding state".
 */
public final class CudaBackend implements Backend {
  /** Rows up to which non-F32 weights take the GEMV kernel (kernels.cu FV_GEMV_MAX_ROWS). */
  static final int GEMV_MAX_ROWS = 8;
  /** Head size up to which the fused attention kernel runs (kernels.cu FV_ATTN_MAX_D). */
  static final int ATTENTION_MAX_D = 256;

  private final Device device;
  private final CudaDriver driver;
  private final DeviceMemory memory;
  private final int multiprocessors;
  /** BF16/F16 weights with many rows: a half-precision GEMM (true) or widened to F32 first ({@code -Dfovea.cuda.gemm=f32}). */
  private final boolean halfGemm;

  CudaBackend(Device device, CudaDriver driver) {
    this.device = device;
    this.driver = driver;
    String gemm = System.getProperty("fovea.cuda.gemm", "half");
    if (!gemm.equals("half") && !gemm.equals("f32")) {
      throw new TensorException("-Dfovea.cuda.gemm must be half or f32, got '" + gemm + "'");
    }
    this.halfGemm = gemm.equals("half");
    this.memory = new DeviceMemory(driver, Long.getLong("fovea.cuda.pool", 4L << 30));
    this.multiprocessors = driver.info().multiprocessors();
  }

  /** Opens device {@code device.index()}; {@link CudaUnavailableException} when this machine cannot. */
  static CudaBackend open(Device device) {
    return new CudaBackend(device, JavacppDriver.open(device.index()));
  }

  @Override
  public Device device() {
    return device;
  }

  /** The device's name, capability, memory and where the kernels came from. */
  public String describe() {
    return device + ": " + driver.info();
  }

  DeviceMemory memory() {
    return memory;
  }

  /** Waits for all queued work (timings; errors of asynchronous kernels surface here). */
  public void synchronize() {
    driver.synchronize(stream());
  }

  // ------------------------------------------------------------------ streams

  /** Whether {@link #openContext()} makes streams ({@code -Dfovea.cuda.streams=false}: every state on the default stream). */
  private static final boolean STREAMS = Boolean.parseBoolean(System.getProperty("fovea.cuda.streams", "true"));
  /** Events recorded when a context was left; the default stream waits on them before its next work. */
  private final java.util.List<Long> joins = new java.util.ArrayList<>();
  private volatile boolean joinsPending;

  /**
   * The stream this thread's work goes to: its current context's when that is one of this
   * backend's, else the default stream (first ordered after the contexts left since its last work).
   */
  long stream() {
    if (ExecutionContext.current() instanceof Stream s && s.backend() == this) {
      return s.handle;
    }
    if (joinsPending) {
      joinPending();
    }
    return CudaDriver.DEFAULT_STREAM;
  }

  private synchronized void joinPending() {
    for (long e : joins) {
      driver.waitEvent(CudaDriver.DEFAULT_STREAM, e);
      driver.destroyEvent(e);
    }
    joins.clear();
    joinsPending = false;
  }

  /** A stream of its own (a decoding state's); null with {@code -Dfovea.cuda.streams=false}. */
  @Override
  public ExecutionContext openContext() {
    if (!STREAMS) {
      return null;
    }
    long h = driver.createStream();
    memory.streamOpened(h);
    return new Stream(h);
  }

  /** Makes {@code later}'s next work wait for the work queued on {@code earlier} so far (event, host does not wait). */
  private void order(long earlier, long later) {
    if (earlier == later) {
      return;
    }
    long e = driver.recordEvent(earlier);
    driver.waitEvent(later, e);
    driver.destroyEvent(e); // released once it completes; the wait is already queued
  }

  /** One stream of this backend as an {@link ExecutionContext}. */
  final class Stream extends ExecutionContext {
    final long handle;
    private boolean closed;

    Stream(long handle) {
      this.handle = handle;
    }

    CudaBackend backend() {
      return CudaBackend.this;
    }

    @Override
    public Device device() {
      return device;
    }

    @Override
    public void after(ExecutionContext other) {
      if (other instanceof Stream o && o.backend() == CudaBackend.this) {
        order(o.handle, handle);
      } else if (other == null) {
        order(CudaDriver.DEFAULT_STREAM, handle);
      } else {
        throw new TensorException("cuda: cannot order " + device + "'s stream after a context of " + other.device());
      }
    }

    @Override
    protected void entered() {
      if (closed) {
        throw new TensorException("cuda: the stream of a closed context");
      }
      // after the default stream's work so far (weights, inputs made outside), not after other
      // contexts' (their exits are joined into the default stream only when it next gets work)
      order(CudaDriver.DEFAULT_STREAM, handle);
    }

    @Override
    protected void left() {
      long e = driver.recordEvent(handle);
      synchronized (CudaBackend.this) {
        joins.add(e);
        joinsPending = true;
      }
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      driver.synchronize(handle); // its queued work done, so freed memory needs no fence for it
      memory.streamClosed(handle);
      driver.destroyStream(handle);
    }
  }

  // ------------------------------------------------------------------ memory

  @Override
  public Storage allocate(Scope scope, DType dtype, long numel) {
    long bytes = dtype.byteSize(numel);
    if (scope == Scope.global()) {
      DeviceMemory.Block b = memory.take(bytes, stream());
      Storage s = Storage.onDevice(device, dtype, numel, b.address(), b);
      memory.releaseWhenUnreachable(s, b);
      return s;
    }
    DeviceMemory.ScopePool pool = scope.resource(memory, memory::openPool);
    return Storage.onDevice(device, dtype, numel, pool.allocate(bytes, stream()), pool);
  }

  @Override
  public void transfer(Tensor src, Tensor dst) {
    if (src.dtype() != dst.dtype() || src.numel() != dst.numel() || !src.isContiguous() || !dst.isContiguous()) {
      throw new TensorException("cuda transfer: needs contiguous tensors of one dtype and size, got " + describe(src) + " -> " + describe(dst));
    }
    long bytes = src.dtype().byteSize(src.numel());
    if (bytes == 0) {
      return;
    }
    boolean up = src.device().equals(Device.CPU) && dst.device().equals(device);
    boolean down = dst.device().equals(Device.CPU) && src.device().equals(device);
    if (up) {
      driver.copyHostToDevice(stream(), src.storage().segment().address() + src.dtype().byteOffset(src.offset()), ptr(dst), bytes);
    } else if (down) {
      driver.copyDeviceToHost(stream(), ptr(src), dst.storage().segment().address() + dst.dtype().byteOffset(dst.offset()), bytes);
    } else {
      throw new TensorException("cuda transfer: " + src.device() + " -> " + dst.device() + " does not involve the host and " + device);
    }
  }

  /** Device address of a tensor's first element (offsets of block types are whole blocks). */
  long ptr(Tensor t) {
    if (!t.device().equals(device)) {
      throw new TensorException("cuda: expected a tensor on " + device + ", got one on " + t.device() + " (" + describe(t) + ")");
    }
    return t.storage().address() + t.dtype().byteOffset(t.offset());
  }

  private static String describe(Tensor t) {
    return t.dtype() + Arrays.toString(t.shape()) + " strides " + Arrays.toString(t.strides()) + " on " + t.device();
  }

  // ------------------------------------------------------------------ copy / elementwise

  @Override
  public void copy(Tensor src, Tensor dst) {
    if (src.numel() == 0) {
      return;
    }
    if (src.dtype() == dst.dtype() && src.isContiguous() && dst.isContiguous()) {
      driver.copyDeviceToDevice(stream(), ptr(src), ptr(dst), src.dtype().byteSize(src.numel()));
      return;
    }
    if (dst.dtype().isQuantized()) {
      throw new TensorException("cuda copy: converting to " + dst.dtype() + " is not implemented on the GPU; quantize on the CPU and copy the result over");
    }
    // Element offsets of block types are taken from the storage start (base pointer of the block at offset 0).
    CudaLayout lay = CudaLayout.of(dst, src);
    driver.launch(stream(), "fv_copy", Launch.elementwise(lay.numel(), multiprocessors), new KernelArgs()
        .struct(lay.pack())
        .ptr(src.storage().address()).i32(src.dtype().ordinal())
        .ptr(dst.storage().address()).i32(dst.dtype().ordinal())
        .i64(lay.numel()));
  }

  @Override
  public void unary(UnaryOp op, Tensor x, Tensor out) {
    requireF32("unary " + op, x, out);
    if (out.numel() == 0) {
      return;
    }
    CudaLayout lay = CudaLayout.of(out, x);
    driver.launch(stream(), "fv_unary", Launch.elementwise(lay.numel(), multiprocessors), new KernelArgs()
        .struct(lay.pack()).i32(op.ordinal()).ptr(x.storage().address()).ptr(out.storage().address()).i64(lay.numel()));
  }

  @Override
  public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    requireF32("binary " + op, a, b, out);
    if (out.numel() == 0) {
      return;
    }
    CudaLayout lay = CudaLayout.of(out, a, b);
    driver.launch(stream(), "fv_binary", Launch.elementwise(lay.numel(), multiprocessors), new KernelArgs()
        .struct(lay.pack()).i32(op.ordinal()).ptr(a.storage().address()).ptr(b.storage().address()).ptr(out.storage().address())
        .i64(lay.numel()));
  }

  private void requireF32(String op, Tensor... ts) {
    for (Tensor t : ts) {
      if (t.dtype() != DType.F32) {
        throw new TensorException("cuda " + op + ": expects F32 tensors, got " + describe(t));
      }
      ptr(t); // on this device
    }
  }

  // ------------------------------------------------------------------ reductions and rows

  @Override
  public void reduceLast(ReduceOp op, Tensor x, Tensor out) {
    int rows = x.size(0);
    int n = x.size(1);
    if (rows == 0) {
      return;
    }
    driver.launch(stream(), "fv_reduce_last", Launch.rows(rows, n), new KernelArgs()
        .i32(op.ordinal()).ptr(ptr(x)).i64(rows).i64(n).i64(x.stride(0)).i64(x.stride(1)).ptr(ptr(out)).i64(out.stride(0)));
  }

  @Override
  public void softmax(Tensor x, Tensor out, boolean log) {
    requireContiguousRows("softmax", x, out);
    driver.launch(stream(), "fv_softmax", Launch.rows(x.size(0), x.size(1)), new KernelArgs()
        .ptr(ptr(x)).ptr(ptr(out)).i64(x.size(0)).i64(x.size(1)).i32(log ? 1 : 0));
  }

  @Override
  public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out, Tensor mean, Tensor rstd) {
    requireContiguousRows("layerNorm", x, out);
    driver.launch(stream(), "fv_layer_norm", Launch.rows(x.size(0), x.size(1)), new KernelArgs()
        .ptr(ptr(x)).ptr(vector(weight)).ptr(vector(bias)).f32(eps).ptr(ptr(out))
        .ptr(mean == null ? 0 : ptr(mean)).ptr(rstd == null ? 0 : ptr(rstd)).i64(x.size(0)).i64(x.size(1)));
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
    requireContiguousRows("rmsNorm", x, out);
    driver.launch(stream(), "fv_rms_norm", Launch.rows(x.size(0), x.size(1)), new KernelArgs()
        .ptr(ptr(x)).ptr(vector(weight)).f32(eps).ptr(ptr(out)).ptr(rstd == null ? 0 : ptr(rstd)).i64(x.size(0)).i64(x.size(1)));
  }

  /** A norm's weight or bias as a contiguous F32 vector on this device (0 for none). */
  private long vector(Tensor v) {
    if (v == null) {
      return 0;
    }
    Tensor c = v.dtype() == DType.F32 && v.isContiguous() ? v : v.to(DType.F32).contiguous();
    return ptr(c);
  }

  private void requireContiguousRows(String op, Tensor x, Tensor out) {
    if (!x.isContiguous() || !out.isContiguous() || x.dim() != 2 || !Arrays.equals(x.shape(), out.shape())) {
      throw new TensorException("cuda " + op + ": expects contiguous [rows, n] input and output, got " + describe(x) + " -> " + describe(out));
    }
    requireF32(op, x, out);
  }

  // ------------------------------------------------------------------ embedding

  @Override
  public void embedding(Tensor weight, Tensor ids, Tensor out) {
    int rows = ids.size(0);
    int dim = weight.size(1);
    int vocab = weight.size(0);
    if (rows == 0 || dim == 0) {
      return;
    }
    long[] idx = ids.toLongArray(); // a few ids: checked on the host as the CPU backend does
    for (int r = 0; r < rows; r++) {
      if (idx[r] < 0 || idx[r] >= vocab) {
        throw new TensorException("embedding: id " + idx[r] + " at position " + r + " is outside the vocabulary [0, " + vocab + ")");
      }
    }
    long n = (long) rows * dim;
    driver.launch(stream(), "fv_embedding", Launch.elementwise(n, multiprocessors), new KernelArgs()
        .ptr(ptr(weight)).i32(weight.dtype().ordinal()).i64(weight.stride(0)).i64(weight.stride(1))
        .ptr(ptr(ids)).i32(ids.dtype().ordinal()).i64(ids.stride(0))
        .ptr(ptr(out)).i64(rows).i64(dim));
  }

  // ------------------------------------------------------------------ matmul

  @Override
  public void matmul(Tensor a, Tensor w, Tensor out, boolean accumulate) {
    int batch = a.size(0);
    int m = a.size(1);
    int k = a.size(2);
    int n = w.size(2);
    if (batch == 0 || m == 0 || n == 0) {
      return;
    }
    if (a.dtype() != DType.F32 || out.dtype() != DType.F32) {
      throw new TensorException("cuda matmul: a and out must be F32, got " + describe(a) + " -> " + describe(out));
    }
    DType inputs = DType.F32;
    if (w.dtype() != DType.F32) {
      if (m <= GEMV_MAX_ROWS && w.stride(1) == 1 && a.stride(2) == 1 && (n == 1 || out.stride(2) == 1)) {
        for (int b = 0; b < batch; b++) {
          gemv(a.select(0, b), w.select(0, b), out.select(0, b), accumulate);
        }
        return;
      }
      if (halfGemm && (w.dtype() == DType.BF16 || w.dtype() == DType.F16)) {
        inputs = w.dtype();
        a = toHalf(a, inputs); // cuBLAS multiplies two inputs of one type
      } else {
        // The weight once as F32 (scratch in the current scope), then the F32 GEMM.
        w = w.to(DType.F32);
      }
    }
    GemmPlan plan = GemmPlan.plan(batch, m, n, k, a.strides(), w.strides(), out.strides());
    if (plan == null) {
      Tensor ac = GemmPlan.side(m, k, a.stride(1), a.stride(2)) == null ? a.contiguous() : a;
      Tensor wc = GemmPlan.side(k, n, w.stride(1), w.stride(2)) == null ? w.contiguous() : w;
      plan = GemmPlan.plan(batch, m, n, k, ac.strides(), wc.strides(), out.strides());
      a = ac;
      w = wc;
    }
    driver.gemm(stream(), plan, inputs, ptr(w), ptr(a), ptr(out), accumulate ? 1f : 0f);
  }

  /** {@code a} (F32) rounded to {@code type} (BF16 or F16), contiguous, in the current scope. */
  private Tensor toHalf(Tensor a, DType type) {
    Tensor src = a.isContiguous() ? a : a.contiguous();
    Tensor dst = Tensor.empty(device, type, a.shape());
    long n = a.numel();
    driver.launch(stream(), "fv_to_half", Launch.elementwise(n, multiprocessors), new KernelArgs()
        .ptr(ptr(src)).ptr(ptr(dst)).i32(type.ordinal()).i64(n));
    return dst;
  }

  /** out [m, n] (+)= a [m, k] W^T for the transposed view w [k, n] of a row-major [n, k] weight (w.stride(0) == 1). */
  private void gemv(Tensor a, Tensor w, Tensor out, boolean accumulate) {
    int m = a.size(0);
    int k = a.size(1);
    int n = w.size(1);
    driver.launch(stream(), "fv_gemv", Launch.gemv(n, multiprocessors), new KernelArgs()
        .ptr(ptr(a)).i64(a.stride(0)).i32(m)
        .ptr(ptr(w)).i32(w.dtype().ordinal()).i64(w.stride(1)).i64(n).i64(k)
        .ptr(ptr(out)).i64(out.stride(0)).i32(accumulate ? 1 : 0));
  }

  // ------------------------------------------------------------------ attention

  @Override
  public void attention(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
    int b = q.size(0);
    int h = q.size(1);
    int tq = q.size(2);
    int d = q.size(3);
    int hkv = k.size(1);
    int tk = k.size(2);
    if (d > ATTENTION_MAX_D) {
      throw new TensorException("cuda attention: head size " + d + " exceeds the fused kernel's " + ATTENTION_MAX_D);
    }
    if (!out.isContiguous()) {
      throw new TensorException("cuda attention: the output must be contiguous, got " + describe(out));
    }
    if (b == 0 || h == 0 || tq == 0 || d == 0) {
      return;
    }
    java.nio.ByteBuffer st = java.nio.ByteBuffer.allocate(128).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (Tensor t : new Tensor[] {q, k, v, bias}) {
      for (int i = 0; i < 4; i++) {
        st.putLong(t == null ? 0 : t.stride(i));
      }
    }
    driver.launch(stream(), "fv_attention", Launch.attention(tq, h, b), new KernelArgs()
        .ptr(ptr(q)).ptr(ptr(k)).ptr(ptr(v)).ptr(bias == null ? 0 : ptr(bias)).struct(st.array())
        .i32(h).i32(hkv).i32(tq).i32(tk).i32(d).f32(scale).i32(causal ? 1 : 0).ptr(ptr(out)));
  }
}
