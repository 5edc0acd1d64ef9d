package dev.fovea.gpu;

import dev.fovea.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link CudaDriver} for host-side tests: "device" memory is host memory (so transfers really
 * copy), kernels are recorded instead of run (except fv_to_half, which is run, with the rounding
 * of the CPU's converters), GEMMs are recorded and run by a column-major emulator of
 * cublasGemmStridedBatchedEx (typed inputs read from "device" memory, double accumulation, F32
 * output), and malloc can be told to fail.
 *
 * <p>Streams are modelled as ordered queues with vector clocks: every operation on a stream ticks
 * that stream's own component, an event records the stream's clock, a wait merges the event's clock
 * into the waiting stream's. Work is still done at once in host order (the numbers are those of
 * one stream); {@link #orderedAfter} says whether a stream's future work is ordered after a given
 * operation of another stream, which is what a device guarantees, whatever the interleaving.
 * Events waited on after their destruction, unknown streams or events fail.
 */
final class FakeDriver implements CudaDriver {
  record Launched(String kernel, Launch launch, KernelArgs args, long stream) {}

  record Gemm(GemmPlan plan, DType inputs, long w, long a, long c, float beta, long stream) {}

  /** One operation as queued: its stream, what it was, and its tick on that stream. */
  record Op(long stream, String what, long tick) {}

  final List<Op> log = new ArrayList<>();
  final Map<Long, Map<Long, Long>> clocks = new HashMap<>(Map.of(DEFAULT_STREAM, new HashMap<>()));
  final Map<Long, Map<Long, Long>> events = new HashMap<>(); // live events -> recorded clock
  long nextHandle = 1000;
  int streamsCreated;
  int eventsRecorded;
  int waits;

  private Map<Long, Long> clock(long stream) {
    Map<Long, Long> c = clocks.get(stream);
    if (c == null) {
      throw new IllegalStateException("stream " + stream + " does not exist");
    }
    return c;
  }

  private Op queue(long stream, String what) {
    Map<Long, Long> c = clock(stream);
    long tick = c.merge(stream, 1L, Long::sum);
    Op op = new Op(stream, what, tick);
    log.add(op);
    return op;
  }

  /** Whether work queued on {@code stream} from now on runs after {@code op}. */
  boolean orderedAfter(long stream, Op op) {
    return clock(stream).getOrDefault(op.stream(), 0L) >= op.tick();
  }

  /** The last operation (not an event record or wait) queued on {@code stream}, or null. */
  Op last(long stream) {
    for (int i = log.size() - 1; i >= 0; i--) {
      Op op = log.get(i);
      if (op.stream() == stream && !op.what().equals("record") && !op.what().startsWith("wait ")) {
        return log.get(i);
      }
    }
    return null;
  }

  @Override
  public long createStream() {
    long h = nextHandle++;
    clocks.put(h, new HashMap<>());
    streamsCreated++;
    return h;
  }

  @Override
  public void destroyStream(long stream) {
    clock(stream);
    if (stream == DEFAULT_STREAM) {
      throw new IllegalStateException("the default stream is not destroyed");
    }
    clocks.remove(stream);
  }

  @Override
  public long recordEvent(long stream) {
    queue(stream, "record");
    long e = nextHandle++;
    events.put(e, new HashMap<>(clock(stream)));
    eventsRecorded++;
    return e;
  }

  @Override
  public void waitEvent(long stream, long event) {
    Map<Long, Long> ev = events.get(event);
    if (ev == null) {
      throw new IllegalStateException("wait on an event that does not exist (destroyed?): " + event);
    }
    Map<Long, Long> c = clock(stream);
    ev.forEach((k, v) -> c.merge(k, v, Math::max));
    waits++;
    queue(stream, "wait " + event);
  }

  @Override
  public void destroyEvent(long event) {
    if (events.remove(event) == null) {
      throw new IllegalStateException("destroy of an event that does not exist: " + event);
    }
  }

  final Arena arena = Arena.ofShared();
  final Map<Long, MemorySegment> live = new HashMap<>();
  final List<Launched> launches = new ArrayList<>();
  final List<Gemm> gemms = new ArrayList<>();
  int mallocs;
  int frees;
  long capacity = Long.MAX_VALUE;
  long used;

  @Override
  public DeviceInfo info() {
    return new DeviceInfo("fake", 9, 0, 132, 80L << 30, "13.0", "none");
  }

  @Override
  public long malloc(long bytes) {
    if (used + bytes > capacity) {
      throw new CudaOutOfMemoryException("fake device out of memory");
    }
    MemorySegment s = arena.allocate(bytes, 256);
    live.put(s.address(), s);
    used += bytes;
    mallocs++;
    return s.address();
  }

  @Override
  public void free(long address) {
    MemorySegment s = live.remove(address);
    if (s == null) {
      throw new IllegalStateException("free of an address that is not allocated: " + address);
    }
    used -= s.byteSize();
    frees++;
  }

  private static MemorySegment at(long address, long bytes) {
    return MemorySegment.ofAddress(address).reinterpret(bytes);
  }

  @Override
  public void copyHostToDevice(long stream, long host, long device, long bytes) {
    queue(stream, "copy to device");
    MemorySegment.copy(at(host, bytes), 0, at(device, bytes), 0, bytes);
  }

  @Override
  public void copyDeviceToHost(long stream, long device, long host, long bytes) {
    queue(stream, "copy to host");
    MemorySegment.copy(at(device, bytes), 0, at(host, bytes), 0, bytes);
  }

  @Override
  public void copyDeviceToDevice(long stream, long src, long dst, long bytes) {
    queue(stream, "copy on device");
    MemorySegment.copy(at(src, bytes), 0, at(dst, bytes), 0, bytes);
  }

  @Override
  public void launch(long stream, String kernel, Launch launch, KernelArgs args) {
    queue(stream, kernel);
    launches.add(new Launched(kernel, launch, args, stream));
    if (kernel.equals("fv_to_half")) {
      long src = le(args.value(0)).getLong();
      long dst = le(args.value(1)).getLong();
      DType to = DType.values()[le(args.value(2)).getInt()];
      long n = le(args.value(3)).getLong();
      MemorySegment in = at(src, n * 4);
      MemorySegment out = at(dst, n * 2);
      for (long i = 0; i < n; i++) {
        float v = in.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        short h = to == DType.F16 ? Float.floatToFloat16(v) : bf16(v);
        out.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, h);
      }
    }
  }

  private static ByteBuffer le(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Round to nearest even (kernels.cu f32_to_bf16; finite inputs). */
  static short bf16(float f) {
    int u = Float.floatToRawIntBits(f);
    u += 0x7fff + ((u >>> 16) & 1);
    return (short) (u >>> 16);
  }

  /** Element i of a typed array at a "device" address. */
  static float load(long address, DType t, long i) {
    MemorySegment s = MemorySegment.ofAddress(address).reinterpret(Long.MAX_VALUE);
    return switch (t) {
      case F32 -> s.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
      case F16 -> Float.float16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
      case BF16 -> Float.intBitsToFloat((s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i) & 0xffff) << 16);
      default -> throw new IllegalArgumentException("cuBLAS takes no " + t + " inputs");
    };
  }

  /**
   * cublasGemmStridedBatchedEx(opW, opA, n, m, k, 1, W, ldw, sW, A, lda, sA, beta, C, ldc, sC, batch)
   * by its definition: C = op(W) op(A) column-major, element (i, j) of a column-major matrix at i + j * ld.
   */
  @Override
  public void gemm(long stream, GemmPlan g, DType inputs, long w, long a, long c, float beta) {
    queue(stream, "gemm");
    gemms.add(new Gemm(g, inputs, w, a, c, beta, stream));
    MemorySegment cs = MemorySegment.ofAddress(c).reinterpret(Long.MAX_VALUE);
    for (int p = 0; p < g.batch(); p++) {
      for (int i = 0; i < g.n(); i++) {
        for (int j = 0; j < g.m(); j++) {
          double sum = 0;
          for (int l = 0; l < g.k(); l++) {
            float wv = load(w, inputs, p * g.strideW() + (g.transW() ? l + i * g.ldw() : i + l * g.ldw()));
            float av = load(a, inputs, p * g.strideA() + (g.transA() ? j + l * g.lda() : l + j * g.lda()));
            sum += (double) wv * av;
          }
          long ci = p * g.strideC() + i + j * g.ldc();
          float old = beta == 0 ? 0 : cs.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, ci);
          cs.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, ci, (float) (sum + beta * old));
        }
      }
    }
  }

  @Override
  public void synchronize(long stream) {
    clock(stream);
  }

  @Override
  public void close() {}
}
