package dev.fovea.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A block of memory holding elements of one dtype on one device. On the CPU the segment is either
 * memory-mapped from a weight file (read-only, never copied) or carved from a {@link Scope}.
 * Tensors are views over a storage.
 */
public final class Storage {
  private final MemorySegment segment;
  private final DType dtype;
  private final Device device;
  private final long numel;

  public Storage(MemorySegment segment, DType dtype, Device device, long numel) {
    if (segment.byteSize() < dtype.byteSize(numel)) {
      throw new TensorException(
          "storage of " + numel + " " + dtype + " elements needs " + dtype.byteSize(numel) + " bytes, segment has " + segment.byteSize());
    }
    this.segment = segment;
    this.dtype = dtype;
    this.device = device;
    this.numel = numel;
  }

  /** Wraps an existing CPU segment (for example a memory-mapped tensor of a weight file). */
  public static Storage wrap(MemorySegment segment, DType dtype, long numel) {
    return new Storage(segment, dtype, Device.CPU, numel);
  }

  public MemorySegment segment() {
    return segment;
  }

  public DType dtype() {
    return dtype;
  }

  public Device device() {
    return device;
  }

  public long numel() {
    return numel;
  }

  public boolean isReadOnly() {
    return segment.isReadOnly();
  }
}
