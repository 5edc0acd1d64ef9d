package dev.fovea.gpu;

/**
 * The few device operations the backend needs, in plain Java types (addresses are longs). {@link
 * JavacppDriver} implements them with JavaCPP's CUDA bindings and is the only class that touches
 * them; tests implement them on host memory to check the backend's host-side logic (allocation,
 * launch configuration, argument packing) without a GPU.
 *
 * <p>Work goes to a stream: {@link #DEFAULT_STREAM} (the driver's own) or one of {@link
 * #createStream()}; each stream runs its work in order, streams are ordered only through events
 * ({@link #recordEvent}, {@link #waitEvent}). Copies to the host return once the data is there.
 */
interface CudaDriver extends AutoCloseable {
  DeviceInfo info();

  /** Device memory of {@code bytes} bytes (uninitialized); {@link CudaOutOfMemoryException} when the device has none left. */
  long malloc(long bytes);

  void free(long address);

  /** The driver's own stream (the backend's default queue). */
  long DEFAULT_STREAM = 0;

  void copyHostToDevice(long stream, long host, long device, long bytes);

  /** Returns once the data is on the host (synchronizes {@code stream}). */
  void copyDeviceToHost(long stream, long device, long host, long bytes);

  void copyDeviceToDevice(long stream, long src, long dst, long bytes);

  /** Launches {@code kernel} (an extern "C" name in kernels.cu) on {@code stream}. */
  void launch(long stream, String kernel, Launch launch, KernelArgs args);

  /**
   * One strided-batched GEMM as planned (column-major cuBLAS call, cublasGemmStridedBatchedEx):
   * both inputs of type {@code inputs} (F32, BF16 or F16), F32 output, F32 compute
   * (CUBLAS_COMPUTE_32F, no TF32), alpha 1 and the given beta.
   */
  void gemm(long stream, GemmPlan plan, dev.fovea.tensor.DType inputs, long w, long a, long c, float beta);

  /** Waits for the stream's work (and reports an asynchronous kernel error, naming the last kernel). */
  void synchronize(long stream);

  /** A new non-blocking stream (never {@link #DEFAULT_STREAM}). */
  long createStream();

  /** Destroys a stream of {@link #createStream()} (after its queued work, which the caller has waited for). */
  void destroyStream(long stream);

  /** An event recorded on {@code stream} now: it completes when the work queued there so far has. */
  long recordEvent(long stream);

  /** Work queued on {@code stream} from now on starts after {@code event} completes (the host does not wait). */
  void waitEvent(long stream, long event);

  void destroyEvent(long event);

  @Override
  void close();

  /** What the backend reads off the device. */
  record DeviceInfo(String name, int major, int minor, int multiprocessors, long totalMemory, String driverVersion, String kernelSource) {
    @Override
    public String toString() {
      return name + " (compute " + major + "." + minor + ", " + multiprocessors + " SMs, " + (totalMemory >> 20) + " MiB, driver "
          + driverVersion + ", kernels from " + kernelSource + ")";
    }
  }
}
