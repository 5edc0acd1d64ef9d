package dev.fovea.tensor.testing;

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
import dev.fovea.tensor.cpu.CpuBackend;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A device for tests on machines without a GPU: kind {@code "test"} ({@code test:0}, {@code
 * test:1}, ...), found through ServiceLoader ({@link TestDeviceProvider}, registered in this
 * test-jar's META-INF/services) by every module whose tests depend on tensor's test-jar.
 *
 * <p>Its storage is {@link Storage#onDevice}: host code cannot read it through {@code segment()}
 * (that throws), so any path that reads a device tensor as if it were on the host, or hands a
 * host tensor to a device op, fails here exactly as it would be wrong on CUDA. Behind that, the
 * memory is host memory this backend takes from the owning scope (freed when it closes; global
 * allocations when unreachable), and every op runs the CPU kernels ({@link CpuBackend}) on host
 * views of it: results are those of the CPU path bit for bit, so a model on {@code test:0} must
 * give exactly the CPU's numbers, and any difference is a device-placement bug, not arithmetic.
 *
 * <p>Counters (allocations and bytes per scope kind, transfer bytes each way) let tests check that
 * weights are copied once and that decoding reads only the logits back.
 *
 * <p>Execution contexts ({@link #openContext()}): ops still run at once, in host order, but each op
 * is counted under the context current when it ran ({@link #opsIn}), and opening, entering,
 * leaving, ordering ({@code after}) and closing are logged ({@link #contextLog()}), so tests see
 * that a decoding state's work ran in its own context and that a fork is ordered after its copy.
 */
public final class TestBackend implements Backend {
  public static final String KIND = "test";
  /** The first test device. */
  public static final Device DEVICE = new Device(KIND, 0);

  private final Device device;
  private final AtomicLong allocations = new AtomicLong();
  private final AtomicLong allocatedBytes = new AtomicLong();
  private final AtomicLong globalAllocations = new AtomicLong();
  private final AtomicLong globalBytes = new AtomicLong();
  private final AtomicLong uploadedBytes = new AtomicLong();
  private final AtomicLong downloadedBytes = new AtomicLong();
  private final AtomicLong downloads = new AtomicLong();

  public TestBackend(Device device) {
    if (!device.kind().equals(KIND)) {
      throw new TensorException("TestBackend: device kind must be '" + KIND + "', got " + device);
    }
    this.device = device;
  }

  @Override
  public Device device() {
    return device;
  }

  // ------------------------------------------------------------------ contexts

  private final AtomicInteger contextIds = new AtomicInteger();
  private final List<String> contextLog = Collections.synchronizedList(new ArrayList<>());
  private final ConcurrentHashMap<Integer, AtomicLong> opsByContext = new ConcurrentHashMap<>();

  /** A context that records (see the class comment); ids from 1. */
  public final class Context extends ExecutionContext {
    public final int id = contextIds.incrementAndGet();
    private boolean closed;

    Context() {
      contextLog.add("open " + id);
    }

    @Override
    public Device device() {
      return device;
    }

    @Override
    public void after(ExecutionContext other) {
      contextLog.add("after " + id + " " + (other instanceof Context c ? c.id : 0));
    }

    @Override
    protected void entered() {
      if (closed) {
        throw new TensorException("test device: entering a closed context " + id);
      }
      contextLog.add("enter " + id);
    }

    @Override
    protected void left() {
      contextLog.add("leave " + id);
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        contextLog.add("close " + id);
      }
    }

    public boolean closed() {
      return closed;
    }
  }

  @Override
  public ExecutionContext openContext() {
    return new Context();
  }

  /** Opening, entering, leaving, ordering and closing of contexts, in order ("enter 3", "after 4 3"...). */
  public List<String> contextLog() {
    synchronized (contextLog) {
      return List.copyOf(contextLog);
    }
  }

  /** Ops run while context {@code id} was current on their thread (0: none). */
  public long opsIn(int id) {
    AtomicLong n = opsByContext.get(id);
    return n == null ? 0 : n.get();
  }

  private void note(String op) {
    int id = ExecutionContext.current() instanceof Context c && c.device().equals(device) ? c.id : 0;
    opsByContext.computeIfAbsent(id, k -> new AtomicLong()).incrementAndGet();
  }

  // ------------------------------------------------------------------ counters

  /** Allocations made in any scope so far. */
  public long allocations() {
    return allocations.get();
  }

  public long allocatedBytes() {
    return allocatedBytes.get();
  }

  /** Allocations made in the global scope (weights moved to the device live there). */
  public long globalAllocations() {
    return globalAllocations.get();
  }

  public long globalBytes() {
    return globalBytes.get();
  }

  /** Bytes copied host to device. */
  public long uploadedBytes() {
    return uploadedBytes.get();
  }

  /** Bytes copied device to host. */
  public long downloadedBytes() {
    return downloadedBytes.get();
  }

  /** Copies device to host. */
  public long downloads() {
    return downloads.get();
  }

  // ------------------------------------------------------------------ memory

  @Override
  public Storage allocate(Scope scope, DType dtype, long numel) {
    long bytes = dtype.byteSize(numel);
    MemorySegment host = scope.allocate(bytes);
    allocations.incrementAndGet();
    allocatedBytes.addAndGet(bytes);
    if (scope == Scope.global()) {
      globalAllocations.incrementAndGet();
      globalBytes.addAndGet(bytes);
    }
    // the owner is the host segment: it keeps a global allocation reachable, and a scope's
    // segment fails (IllegalStateException) once that scope closed, as device memory would
    return Storage.onDevice(device, dtype, numel, host.address(), host);
  }

  @Override
  public void transfer(Tensor src, Tensor dst) {
    if (src.dtype() != dst.dtype() || src.numel() != dst.numel() || !src.isContiguous() || !dst.isContiguous()) {
      throw new TensorException("test transfer: needs contiguous tensors of one dtype and size, got " + describe(src) + " -> " + describe(dst));
    }
    long bytes = src.dtype().byteSize(src.numel());
    boolean up = src.device().equals(Device.CPU) && dst.device().equals(device);
    boolean down = dst.device().equals(Device.CPU) && src.device().equals(device);
    if (!up && !down) {
      throw new TensorException("test transfer: " + src.device() + " -> " + dst.device() + " does not involve the host and " + device);
    }
    MemorySegment from = up ? src.storage().segment() : memory(src);
    MemorySegment to = up ? memory(dst) : dst.storage().segment();
    MemorySegment.copy(from, src.dtype().byteOffset(src.offset()), to, dst.dtype().byteOffset(dst.offset()), bytes);
    if (up) {
      uploadedBytes.addAndGet(bytes);
    } else {
      downloadedBytes.addAndGet(bytes);
      downloads.incrementAndGet();
    }
  }

  private MemorySegment memory(Tensor t) {
    if (!t.device().equals(device)) {
      throw new TensorException("test device: expected a tensor on " + device + ", got " + describe(t));
    }
    return (MemorySegment) t.storage().owner();
  }

  /**
   * The same view over the host memory behind a tensor of this device, for the CPU kernels; null
   * stays null. A tensor on any other device (the CPU included) is an error naming the op: ops
   * must align their operands before they reach a backend.
   */
  private Tensor host(String op, Tensor t) {
    if (t == null) {
      return null;
    }
    if (!t.device().equals(device)) {
      throw new TensorException("test device, " + op + ": operand " + describe(t) + " is not on " + device
          + " (an op passed a tensor of another device to this backend)");
    }
    Storage s = t.storage();
    Storage view = Storage.wrap((MemorySegment) s.owner(), s.dtype(), s.numel());
    return new Tensor(view, t.shape(), t.strides(), t.offset());
  }

  private Tensor[] host(String op, Tensor[] ts) {
    Tensor[] out = new Tensor[ts.length];
    for (int i = 0; i < ts.length; i++) {
      out[i] = host(op, ts[i]);
    }
    return out;
  }

  private static String describe(Tensor t) {
    return t.dtype() + Arrays.toString(t.shape()) + " on " + t.device();
  }

  // ------------------------------------------------------------------ ops: the CPU kernels on host views

  private static final CpuBackend CPU = CpuBackend.INSTANCE;

  @Override
  public void copy(Tensor src, Tensor dst) {
    note("copy");
    CPU.copy(host("copy", src), host("copy", dst));
  }

  @Override
  public void unary(UnaryOp op, Tensor x, Tensor out) {
    note("unary");
    CPU.unary(op, host("unary", x), host("unary", out));
  }

  @Override
  public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    note("binary");
    CPU.binary(op, host("binary", a), host("binary", b), host("binary", out));
  }

  @Override
  public void reduceLast(ReduceOp op, Tensor x, Tensor out) {
    note("reduceLast");
    CPU.reduceLast(op, host("reduceLast", x), host("reduceLast", out));
  }

  @Override
  public void matmul(Tensor a, Tensor w, Tensor out, boolean accumulate) {
    note("matmul");
    CPU.matmul(host("matmul", a), host("matmul", w), host("matmul", out), accumulate);
  }

  @Override
  public void linearShared(Tensor x, Tensor[] weights, Tensor[] outs) {
    note("linearShared");
    CPU.linearShared(host("linearShared", x), host("linearShared", weights), host("linearShared", outs));
  }

  @Override
  public void softmax(Tensor x, Tensor out, boolean log) {
    note("softmax");
    CPU.softmax(host("softmax", x), host("softmax", out), log);
  }

  @Override
  public void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out, Tensor mean, Tensor rstd) {
    note("layerNorm");
    CPU.layerNorm(host("layerNorm", x), host("layerNorm", weight), host("layerNorm", bias), eps, host("layerNorm", out),
        host("layerNorm", mean), host("layerNorm", rstd));
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd) {
    note("rmsNorm");
    CPU.rmsNorm(host("rmsNorm", x), host("rmsNorm", weight), eps, host("rmsNorm", out), host("rmsNorm", rstd));
  }

  @Override
  public void embedding(Tensor weight, Tensor ids, Tensor out) {
    note("embedding");
    CPU.embedding(host("embedding", weight), host("embedding", ids), host("embedding", out));
  }

  @Override
  public void attention(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out) {
    note("attention");
    CPU.attention(host("attention", q), host("attention", k), host("attention", v), host("attention", bias), scale, causal,
        host("attention", out));
  }
}
