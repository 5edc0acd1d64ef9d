package dev.fovea.gpu;

import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasDestroy_v2;
import static org.bytedeco.cuda.global.cublas.cublasGemmStridedBatchedEx;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusString;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16BF;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16F;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;
import static org.bytedeco.cuda.global.cudart.cuGetErrorString;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.cudart.cudaDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cudaErrorMemoryAllocation;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamWaitEvent;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCompileProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCreateProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcDestroyProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetErrorString;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetPTX;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetPTXSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLog;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLogSize;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@link CudaDriver} over JavaCPP's CUDA presets (org.bytedeco:cuda, Linux x86-64 natives): the
 * runtime API for memory and the stream, the driver API for loading PTX and launching kernels,
 * cuBLAS for GEMM and NVRTC for compiling kernels.cu when no PTX was shipped. The only class of
 * fovea that references org.bytedeco; it is loaded only when a CUDA backend is asked for.
 *
 * <p>The JNI libraries link against the system's libcuda.so.1 (the driver) and the CUDA 13
 * libraries libcudart.so.13, libcublas.so.13 and libnvrtc.so.13, found on LD_LIBRARY_PATH (we do
 * not ship the -redist jars). {@link #open} turns every way that can fail into {@link
 * CudaUnavailableException}.
 */
final class JavacppDriver implements CudaDriver {
  /** Debugging: {@code -Dfovea.cuda.sync=true} waits after every launch, so a kernel's error names that kernel. */
  private static final boolean SYNC = Boolean.getBoolean("fovea.cuda.sync");

  private final int index;
  private final CUstream_st stream;
  private final cublasContext blas;
  private long blasStream = DEFAULT_STREAM; // the stream the handle is bound to (guarded by this)
  private final CUmod_st module;
  private final DeviceInfo info;
  private final Map<String, CUfunc_st> functions = new HashMap<>();
  private final ThreadLocal<Boolean> bound = ThreadLocal.withInitial(() -> false);
  private final FloatPointer one = new FloatPointer(1f);
  private final FloatPointer betaValue = new FloatPointer(1);
  private String lastKernel = "(none)";

  /** A raw address as a JavaCPP pointer (device memory or a host segment). */
  private static final class Address extends Pointer {
    Address(long address) {
      this.address = address;
    }
  }

  private JavacppDriver(int index, CUstream_st stream, cublasContext blas, CUmod_st module, DeviceInfo info) {
    this.index = index;
    this.stream = stream;
    this.blas = blas;
    this.module = module;
    this.info = info;
    bound.set(true);
  }

  static JavacppDriver open(int index) {
    try {
      Loader.load(org.bytedeco.cuda.global.cudart.class);
    } catch (Throwable t) {
      throw new CudaUnavailableException(
          "no CUDA device: the CUDA runtime could not be loaded (" + t.getClass().getSimpleName() + ": " + t.getMessage() + "). "
              + "The CUDA backend needs an NVIDIA driver (libcuda.so.1) and the CUDA 13 libraries libcudart.so.13, libcublas.so.13 and "
              + "libnvrtc.so.13 on LD_LIBRARY_PATH; use --device cpu on a machine without them", t);
    }
    int[] count = new int[1];
    int rc = cudaGetDeviceCount(count);
    if (rc != 0) {
      throw new CudaUnavailableException("no CUDA device: cudaGetDeviceCount failed: " + runtimeError(rc)
          + " (is the NVIDIA driver installed and new enough for CUDA 13?)", null);
    }
    if (count[0] == 0) {
      throw new CudaUnavailableException("no CUDA device: the driver reports no GPU", null);
    }
    if (index >= count[0]) {
      throw new CudaUnavailableException("no CUDA device cuda:" + index + ": this machine has " + count[0] + " (cuda:0.." + (count[0] - 1) + ")", null);
    }
    check("cudaSetDevice", cudaSetDevice(index));
    check("cudaFree(0) (context creation)", cudaFree(null));
    cudaDeviceProp p = new cudaDeviceProp();
    check("cudaGetDeviceProperties", cudaGetDeviceProperties(p, index));
    int[] driver = new int[1];
    check("cudaDriverGetVersion", cudaDriverGetVersion(driver));
    String name = p.name().getString();
    int major = p.major();
    int minor = p.minor();
    CUstream_st stream = new CUstream_st();
    check("cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking));
    cublasContext blas = new cublasContext();
    try {
      Loader.load(org.bytedeco.cuda.global.cublas.class);
      checkBlas("cublasCreate", cublasCreate_v2(blas));
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new CudaUnavailableException("no CUDA device: cuBLAS could not be loaded (" + e.getMessage() + "); put libcublas.so.13 on LD_LIBRARY_PATH", e);
    }
    checkBlas("cublasSetStream", cublasSetStream_v2(blas, stream));
    checkBlas("cublasSetMathMode", cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH)); // F32 GEMMs stay F32 (no TF32)
    StringBuilder why = new StringBuilder();
    for (KernelSource.Kind kind : KernelSource.order(KernelSource.mode(), KernelSource.ptxShipped())) {
      try {
        String ptx = kind == KernelSource.Kind.PTX ? KernelSource.read(KernelSource.PTX) : nvrtc(KernelSource.read(KernelSource.SOURCE), major, minor);
        CUmod_st module = new CUmod_st();
        BytePointer image = new BytePointer(ptx);
        int lr = cuModuleLoadData(module, image);
        if (lr != 0) {
          why.append(kind).append(": cuModuleLoadData: ").append(driverError(lr)).append("; ");
          continue;
        }
        String version = driver[0] / 1000 + "." + driver[0] % 1000 / 10;
        DeviceInfo info = new DeviceInfo(name, major, minor, p.multiProcessorCount(), p.totalGlobalMem(), version, kind.name().toLowerCase());
        return new JavacppDriver(index, stream, blas, module, info);
      } catch (CudaException | UnsatisfiedLinkError | NoClassDefFoundError e) {
        why.append(kind).append(": ").append(e.getMessage()).append("; ");
      }
    }
    throw new CudaUnavailableException("no CUDA kernels could be loaded on " + name + ": " + why, null);
  }

  /** Compiles kernels.cu to PTX for compute capability major.minor with NVRTC. */
  private static String nvrtc(String source, int major, int minor) {
    Loader.load(org.bytedeco.cuda.global.nvrtc.class);
    _nvrtcProgram prog = new _nvrtcProgram();
    checkNvrtc("nvrtcCreateProgram", nvrtcCreateProgram(prog, new BytePointer(source), new BytePointer("kernels.cu"), 0, (PointerPointer) null, (PointerPointer) null));
    try {
      List<String> opts = KernelSource.nvrtcOptions(major, minor);
      int rc = nvrtcCompileProgram(prog, opts.size(), new PointerPointer(opts.toArray(new String[0])));
      if (rc != 0) {
        SizeTPointer size = new SizeTPointer(1);
        nvrtcGetProgramLogSize(prog, size);
        BytePointer log = new BytePointer(Math.max(1, size.get()));
        nvrtcGetProgramLog(prog, log);
        throw new CudaException("NVRTC could not compile kernels.cu (" + nvrtcGetErrorString(rc).getString() + "):\n" + log.getString());
      }
      SizeTPointer size = new SizeTPointer(1);
      checkNvrtc("nvrtcGetPTXSize", nvrtcGetPTXSize(prog, size));
      BytePointer ptx = new BytePointer(size.get());
      checkNvrtc("nvrtcGetPTX", nvrtcGetPTX(prog, ptx));
      return ptx.getString();
    } finally {
      nvrtcDestroyProgram(prog);
    }
  }

  private void bind() {
    if (!bound.get()) {
      check("cudaSetDevice", cudaSetDevice(index)); // makes the device's primary context current on this thread
      bound.set(true);
    }
  }

  @Override
  public DeviceInfo info() {
    return info;
  }

  @Override
  public long malloc(long bytes) {
    bind();
    PointerPointer<Pointer> out = new PointerPointer<>(1);
    int rc = cudaMalloc(out, bytes);
    if (rc == cudaErrorMemoryAllocation) {
      throw new CudaOutOfMemoryException("cuda:" + index + " is out of memory: cudaMalloc of " + (bytes >> 20) + " MiB failed");
    }
    check("cudaMalloc(" + bytes + " bytes)", rc);
    return out.get(0).address();
  }

  @Override
  public void free(long address) {
    bind();
    check("cudaFree", cudaFree(new Address(address)));
  }

  /** The stream of a handle: {@link #DEFAULT_STREAM} is the driver's own. */
  private CUstream_st stream(long handle) {
    return handle == DEFAULT_STREAM ? stream : new CUstream_st(new Address(handle));
  }

  @Override
  public void copyHostToDevice(long s, long host, long device, long bytes) {
    bind();
    // From pageable host memory the call returns once the source has been read (staged).
    check("cudaMemcpyAsync(host to device)", cudaMemcpyAsync(new Address(device), new Address(host), bytes, cudaMemcpyHostToDevice, stream(s)));
  }

  @Override
  public void copyDeviceToHost(long s, long device, long host, long bytes) {
    bind();
    check("cudaMemcpyAsync(device to host)", cudaMemcpyAsync(new Address(host), new Address(device), bytes, cudaMemcpyDeviceToHost, stream(s)));
    synchronize(s);
  }

  @Override
  public void copyDeviceToDevice(long s, long src, long dst, long bytes) {
    bind();
    check("cudaMemcpyAsync(device to device)", cudaMemcpyAsync(new Address(dst), new Address(src), bytes, cudaMemcpyDeviceToDevice, stream(s)));
  }

  @Override
  public long createStream() {
    bind();
    CUstream_st s = new CUstream_st();
    check("cudaStreamCreateWithFlags", cudaStreamCreateWithFlags(s, cudaStreamNonBlocking));
    return s.address();
  }

  @Override
  public void destroyStream(long s) {
    bind();
    check("cudaStreamDestroy", cudaStreamDestroy(stream(s)));
  }

  @Override
  public long recordEvent(long s) {
    bind();
    CUevent_st e = new CUevent_st();
    check("cudaEventCreateWithFlags", cudaEventCreateWithFlags(e, cudaEventDisableTiming));
    check("cudaEventRecord", cudaEventRecord(e, stream(s)));
    return e.address();
  }

  @Override
  public void waitEvent(long s, long event) {
    bind();
    check("cudaStreamWaitEvent", cudaStreamWaitEvent(stream(s), new CUevent_st(new Address(event)), 0));
  }

  @Override
  public void destroyEvent(long event) {
    bind();
    check("cudaEventDestroy", cudaEventDestroy(new CUevent_st(new Address(event))));
  }

  private synchronized CUfunc_st function(String name) {
    CUfunc_st f = functions.get(name);
    if (f == null) {
      f = new CUfunc_st();
      int rc = cuModuleGetFunction(f, module, name);
      if (rc != 0) {
        throw new CudaException("kernel " + name + " is not in the loaded module: " + driverError(rc));
      }
      functions.put(name, f);
    }
    return f;
  }

  @Override
  public void launch(long s, String kernel, Launch l, KernelArgs args) {
    bind();
    CUfunc_st f = function(kernel);
    byte[] packed = args.pack();
    long[] slots = args.slots();
    try (BytePointer values = new BytePointer(Math.max(8, packed.length)); PointerPointer<Pointer> params = new PointerPointer<>(slots.length)) {
      values.put(packed);
      for (int i = 0; i < slots.length; i++) {
        params.put(i, new Address(values.address() + slots[i]));
      }
      int rc = cuLaunchKernel(f, l.gridX(), l.gridY(), l.gridZ(), l.blockX(), 1, 1, l.sharedBytes(), stream(s), params, (PointerPointer) null);
      if (rc != 0) {
        throw new CudaException("cuLaunchKernel(" + kernel + ", grid " + l.gridX() + "x" + l.gridY() + "x" + l.gridZ() + ", block " + l.blockX() + "): " + driverError(rc));
      }
    }
    lastKernel = kernel;
    if (SYNC) {
      synchronize(s);
    }
  }

  @Override
  public synchronized void gemm(long s, GemmPlan g, dev.fovea.tensor.DType inputs, long w, long a, long c, float beta) {
    bind();
    if (s != blasStream) { // the one handle follows the caller's stream, call by call (under this lock)
      checkBlas("cublasSetStream", cublasSetStream_v2(blas, stream(s)));
      blasStream = s;
    }
    int type = switch (inputs) {
      case F32 -> CUDA_R_32F;
      case BF16 -> CUDA_R_16BF;
      case F16 -> CUDA_R_16F;
      default -> throw new CudaException("cuBLAS GEMM: no " + inputs + " inputs (F32, BF16, F16)");
    };
    betaValue.put(0, beta);
    int rc = cublasGemmStridedBatchedEx(blas,
        g.transW() ? CUBLAS_OP_T : CUBLAS_OP_N, g.transA() ? CUBLAS_OP_T : CUBLAS_OP_N,
        g.n(), g.m(), g.k(),
        one,
        new Address(w), type, Math.toIntExact(g.ldw()), g.strideW(),
        new Address(a), type, Math.toIntExact(g.lda()), g.strideA(),
        betaValue,
        new Address(c), CUDA_R_32F, Math.toIntExact(g.ldc()), g.strideC(),
        g.batch(), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    checkBlas("cublasGemmStridedBatchedEx(" + inputs + " inputs, " + g + ")", rc);
    lastKernel = "cublasGemmStridedBatchedEx";
  }

  @Override
  public void synchronize(long s) {
    bind();
    int rc = cudaStreamSynchronize(stream(s));
    if (rc != 0) {
      throw new CudaException("cuda:" + index + ": the stream failed (" + runtimeError(rc) + "); the last launch was " + lastKernel
          + " (run with -Dfovea.cuda.sync=true to find the failing kernel)");
    }
  }

  @Override
  public void close() {
    bind();
    cudaStreamSynchronize(stream);
    cublasDestroy_v2(blas);
    cudaStreamDestroy(stream);
  }

  private static void check(String call, int rc) {
    if (rc != 0) {
      throw new CudaException(call + " failed: " + runtimeError(rc));
    }
  }

  private static void checkBlas(String call, int rc) {
    if (rc != 0) {
      throw new CudaException(call + " failed: " + cublasGetStatusString(rc).getString() + " (status " + rc + ")");
    }
  }

  private static void checkNvrtc(String call, int rc) {
    if (rc != 0) {
      throw new CudaException(call + " failed: " + nvrtcGetErrorString(rc).getString());
    }
  }

  private static String runtimeError(int rc) {
    return cudaGetErrorString(rc).getString() + " (error " + rc + ")";
  }

  private static String driverError(int rc) {
    PointerPointer<Pointer> s = new PointerPointer<>(1);
    return (cuGetErrorString(rc, s) == 0 && s.get(0) != null ? s.getString(0) : "CUresult") + " (" + rc + ")";
  }
}
