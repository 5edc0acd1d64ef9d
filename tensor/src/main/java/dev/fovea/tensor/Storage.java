package dev.fovea.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A block of memory holding elements of one dtype on one device. On the CPU the segment is either
 * memory-mapped from a weight file (read-only, never copied) or carved from a {@link Scope}.
 * Tensors are views over a storage.
 *
 * <p>A storage on another device (see {@link #onDevice}) has no host segment, only the device
 * address its backend handed out: host code that asks for its {@link #segment()} gets a {@link
 * TensorException} naming the device, never a read of device memory through a host pointer (which
 * would crash the JVM).
 */
public final class Storage {
  private final MemorySegment segment;
  private final DType dtype;
  private final Device device;
  private final long numel;
  private final long address;
  /** What keeps a device allocation alive (its backend's block); null on the host. */
  private final Object owner;

  public Storage(MemorySegment segment, DType dtype, Device device, long numel) {
    if (segment.byteSize() < dtype.byteSize(numel)) {
      throw new TensorException(
          "storage of " + numel + " " + dtype + " elements needs " + dtype.byteSize(numel) + " bytes, segment has " + segment.byteSize());
    }
    this.segment = segment;
    this.dtype = dtype;
    this.device = device;
    this.numel = numel;
    this.address = segment.address();
    this.owner = null;
  }

  private Storage(Device device, DType dtype, long numel, long address, Object owner) {
    this.segment = null;
    this.dtype = dtype;
    this.device = device;
    this.numel = numel;
    this.address = address;
    this.owner = owner;
  }

  /** Wraps an existing CPU segment (for example a memory-mapped tensor of a weight file). */
  public static Storage wrap(MemorySegment segment, DType dtype, long numel) {
    return new Storage(segment, dtype, Device.CPU, numel);
  }

  /**
   * Backend use: {@code numel} elements at device address {@code address} of {@code device}
   * (not the CPU), kept alive by {@code owner} (the backend's allocation record).
   */
  public static Storage onDevice(Device device, DType dtype, long numel, long address, Object owner) {
    if (device.equals(Device.CPU)) {
      throw new TensorException("Storage.onDevice is for non-CPU devices; CPU storage wraps a MemorySegment");
    }
    if (address == 0 && numel > 0) {
      throw new TensorException("device storage of " + numel + " " + dtype + " elements on " + device + " has a null address");
    }
    return new Storage(device, dtype, numel, address, owner);
  }

  /** The host memory of this storage; a TensorException for storage on another device. */
  public MemorySegment segment() {
    if (segment == null) {
      throw new TensorException(
          "storage of " + numel + " " + dtype + " elements lives on " + device
              + ": host code cannot read it; copy the tensor first with tensor.to(Device.CPU)");
    }
    return segment;
  }

  /** Start address: the host segment's, or the device pointer for storage on another device. */
  public long address() {
    return address;
  }

  /** The backend's allocation record of a device storage (null on the host). */
  public Object owner() {
    return owner;
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
    return segment != null && segment.isReadOnly();
  }
}
