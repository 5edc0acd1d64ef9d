package dev.fovea.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link CudaDriver} for host-side tests: "device" memory is host memory (so transfers really
 * copy), kernels are recorded instead of run, and malloc can be told to fail.
 */
final class FakeDriver implements CudaDriver {
  record Launched(String kernel, Launch launch, KernelArgs args) {}

  record Gemm(GemmPlan plan, long w, long a, long c, float beta) {}

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
  public void copyHostToDevice(long host, long device, long bytes) {
    MemorySegment.copy(at(host, bytes), 0, at(device, bytes), 0, bytes);
  }

  @Override
  public void copyDeviceToHost(long device, long host, long bytes) {
    MemorySegment.copy(at(device, bytes), 0, at(host, bytes), 0, bytes);
  }

  @Override
  public void copyDeviceToDevice(long src, long dst, long bytes) {
    MemorySegment.copy(at(src, bytes), 0, at(dst, bytes), 0, bytes);
  }

  @Override
  public void launch(String kernel, Launch launch, KernelArgs args) {
    launches.add(new Launched(kernel, launch, args));
  }

  @Override
  public void sgemm(GemmPlan plan, long w, long a, long c, float beta) {
    gemms.add(new Gemm(plan, w, a, c, beta));
  }

  @Override
  public void synchronize() {}

  @Override
  public void close() {}
}
