package dev.fovea.tensor;

import dev.fovea.tensor.autograd.Autograd;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.autograd.Node;
import dev.fovea.tensor.cpu.Elements;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

/**
 * A view over a {@link Storage}: shape, strides and offset in elements, dtype and device. Views
 * (reshape, transpose, permute, slice, expand, select) share storage; {@link #contiguous()} copies
 * only when needed. Tensors are immutable values except for the autograd fields below.
 *
 * <p>Autograd: a tensor that {@link #requiresGrad()} and was produced by an op in grad mode carries
 * its {@link #gradFn()}. {@link #backward()} fills {@link #grad()} of leaves and of tensors that
 * called {@link #retainGrad()}.
 */
public final class Tensor {
  private static final ValueLayout.OfFloat F32_LE = Elements.F32;
  private static final ValueLayout.OfInt I32_LE = Elements.I32;
  private static final ValueLayout.OfLong I64_LE = Elements.I64;

  private final Storage storage;
  private final int[] shape;
  private final long[] strides;
  private final long offset;

  private boolean requiresGrad;
  private Node gradFn;
  private Tensor grad;
  private boolean retainsGrad;

  /** A view of {@code storage}; checks that every addressed element lies inside it. */
  public Tensor(Storage storage, int[] shape, long[] strides, long offset) {
    if (shape.length != strides.length) {
      throw new ShapeException("view: shape " + Arrays.toString(shape) + " and strides " + Arrays.toString(strides) + " differ in rank");
    }
    long lo = offset;
    long hi = offset;
    boolean empty = false;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        throw new ShapeException("view: negative size in shape " + Arrays.toString(shape));
      }
      if (shape[d] == 0) {
        empty = true;
      }
      long span = (shape[d] - 1L) * strides[d];
      if (span < 0) {
        lo += span;
      } else {
        hi += span;
      }
    }
    if (!empty && (lo < 0 || hi >= storage.numel())) {
      throw new ShapeException(
          "view: shape " + Arrays.toString(shape) + ", strides " + Arrays.toString(strides) + ", offset " + offset
              + " addresses elements [" + lo + ", " + hi + "] outside a storage of " + storage.numel());
    }
    if (storage.dtype().isQuantized()) {
      // Block types are addressed by whole blocks: some dimension must run along the blocks
      // (stride 1, size a multiple of the block) and the view must start on a block boundary.
      int bs = storage.dtype().blockSize();
      boolean alongBlocks = false;
      for (int d = 0; d < shape.length; d++) {
        alongBlocks |= strides[d] == 1 && shape[d] % bs == 0;
      }
      if (shape.length > 0 && (!alongBlocks || offset % bs != 0)) {
        throw new ShapeException(
            "view: " + storage.dtype() + " tensors can only be viewed by whole rows of " + bs + "-element blocks; shape "
                + Arrays.toString(shape) + ", strides " + Arrays.toString(strides) + ", offset " + offset);
      }
    }
    this.storage = storage;
    this.shape = shape.clone();
    this.strides = strides.clone();
    this.offset = offset;
  }

  // ---------------------------------------------------------------- factories

  /** Uninitialized contiguous tensor in the current scope. */
  public static Tensor empty(DType dtype, int... shape) {
    long n = Shapes.numel(shape);
    Storage s = Scope.current().allocateStorage(dtype, n);
    return new Tensor(s, shape, Shapes.contiguousStrides(shape), 0);
  }

  /** Uninitialized contiguous tensor on {@code device}, owned by the current scope. */
  public static Tensor empty(Device device, DType dtype, int... shape) {
    long n = Shapes.numel(shape);
    Storage s = Scope.current().allocateStorage(device, dtype, n);
    return new Tensor(s, shape, Shapes.contiguousStrides(shape), 0);
  }

  public static Tensor zeros(int... shape) {
    return full(0f, shape);
  }

  public static Tensor ones(int... shape) {
    return full(1f, shape);
  }

  public static Tensor full(float value, int... shape) {
    Tensor t = empty(DType.F32, shape);
    MemorySegment seg = t.storage.segment();
    long n = t.numel();
    if (value == 0f) {
      seg.asSlice(0, n * 4).fill((byte) 0);
    } else {
      for (long i = 0; i < n; i++) {
        seg.setAtIndex(F32_LE, i, value);
      }
    }
    return t;
  }

  /** An F32 tensor holding a copy of {@code data} (row-major). */
  public static Tensor of(float[] data, int... shape) {
    if (Shapes.numel(shape) != data.length) {
      throw new ShapeException("of: " + data.length + " values do not fill shape " + Arrays.toString(shape));
    }
    Tensor t = empty(DType.F32, shape);
    MemorySegment.copy(data, 0, t.storage.segment(), F32_LE, 0, data.length);
    return t;
  }

  /** An F32 scalar (rank 0). */
  public static Tensor scalar(float value) {
    return of(new float[] {value});
  }

  public static Tensor ofInts(int[] data, int... shape) {
    if (Shapes.numel(shape) != data.length) {
      throw new ShapeException("ofInts: " + data.length + " values do not fill shape " + Arrays.toString(shape));
    }
    Tensor t = empty(DType.I32, shape);
    MemorySegment.copy(data, 0, t.storage.segment(), I32_LE, 0, data.length);
    return t;
  }

  public static Tensor ofLongs(long[] data, int... shape) {
    if (Shapes.numel(shape) != data.length) {
      throw new ShapeException("ofLongs: " + data.length + " values do not fill shape " + Arrays.toString(shape));
    }
    Tensor t = empty(DType.I64, shape);
    MemorySegment.copy(data, 0, t.storage.segment(), I64_LE, 0, data.length);
    return t;
  }

  /** Standard normal samples from {@code rng}. */
  public static Tensor randn(Random rng, int... shape) {
    float[] v = new float[Math.toIntExact(Shapes.numel(shape))];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return of(v, shape);
  }

  /** Uniform samples in {@code [lo, hi)} from {@code rng}. */
  public static Tensor rand(Random rng, float lo, float hi, int... shape) {
    float[] v = new float[Math.toIntExact(Shapes.numel(shape))];
    for (int i = 0; i < v.length; i++) {
      v[i] = lo + (hi - lo) * rng.nextFloat();
    }
    return of(v, shape);
  }

  /** 0, 1, ..., n-1 as F32. */
  public static Tensor arange(int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = i;
    }
    return of(v, n);
  }

  // ---------------------------------------------------------------- metadata

  public int[] shape() {
    return shape.clone();
  }

  /** Size of dimension {@code d}; negative {@code d} counts from the end. */
  public int size(int d) {
    return shape[Shapes.dim(d, shape.length, "size")];
  }

  public int dim() {
    return shape.length;
  }

  public long numel() {
    return Shapes.numel(shape);
  }

  public long[] strides() {
    return strides.clone();
  }

  public long stride(int d) {
    return strides[Shapes.dim(d, shape.length, "stride")];
  }

  public long offset() {
    return offset;
  }

  public DType dtype() {
    return storage.dtype();
  }

  public Device device() {
    return storage.device();
  }

  public Storage storage() {
    return storage;
  }

  /** True when elements are laid out row-major without gaps (size-1 dims may have any stride). */
  public boolean isContiguous() {
    long expected = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      if (shape[d] != 1 && strides[d] != expected) {
        return false;
      }
      expected *= shape[d];
    }
    return true;
  }

  // ---------------------------------------------------------------- element access (tests, small tensors)

  /** Storage element index of the element at {@code idx}. */
  public long elementIndex(int... idx) {
    if (idx.length != shape.length) {
      throw new ShapeException("index " + Arrays.toString(idx) + " has rank " + idx.length + ", tensor has shape " + Arrays.toString(shape));
    }
    long e = offset;
    for (int d = 0; d < idx.length; d++) {
      if (idx[d] < 0 || idx[d] >= shape[d]) {
        throw new ShapeException("index " + Arrays.toString(idx) + " out of bounds for shape " + Arrays.toString(shape));
      }
      e += idx[d] * strides[d];
    }
    return e;
  }

  /** The element at {@code idx} as a float (any float dtype, quantized included, or an integer type). */
  public float get(int... idx) {
    return readFloat(elementIndex(idx));
  }

  /** The element at {@code idx} as a long (integer dtypes). */
  public long getLong(int... idx) {
    return readLong(elementIndex(idx));
  }

  /** The single element of a one-element tensor. */
  public float item() {
    if (numel() != 1) {
      throw new ShapeException("item: tensor of shape " + Arrays.toString(shape) + " has " + numel() + " elements, not 1");
    }
    return readFloat(offset);
  }

  float readFloat(long e) {
    if (!storage.device().equals(Device.CPU)) {
      return onHost(e).readFloat(0);
    }
    return Elements.readFloat(storage.segment(), storage.dtype(), e);
  }

  long readLong(long e) {
    if (!storage.device().equals(Device.CPU)) {
      return onHost(e).readLong(0);
    }
    return Elements.readLong(storage.segment(), storage.dtype(), e);
  }

  /** A host copy of the one element at storage index {@code e} of a device tensor (tests, small reads). */
  private Tensor onHost(long e) {
    if (storage.dtype().isQuantized()) {
      throw new TensorException("reading one " + storage.dtype() + " element from " + storage.device() + ": copy the tensor with to(Device.CPU) first");
    }
    return new Tensor(storage, new int[] {1}, new long[] {1}, e).to(Device.CPU);
  }

  /** All elements in row-major order as floats (a copy). */
  public float[] toFloatArray() {
    if (!storage.device().equals(Device.CPU)) {
      return detach().to(Device.CPU).toFloatArray(); // one bulk copy to the host
    }
    float[] out = new float[Math.toIntExact(numel())];
    if (storage.dtype() == DType.F32 && storage.device() == Device.CPU && isContiguous()) {
      // one bulk copy (the element loop below costs an index computation per element)
      java.lang.foreign.MemorySegment.copy(storage.segment(), dev.fovea.tensor.cpu.Elements.F32, offset * 4, out, 0, out.length);
      return out;
    }
    int[] idx = new int[shape.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = readFloat(Shapes.elementAt(idx, shape, strides, offset, i));
    }
    return out;
  }

  /** All elements in row-major order as longs (integer dtypes). */
  public long[] toLongArray() {
    if (!storage.device().equals(Device.CPU)) {
      return detach().to(Device.CPU).toLongArray();
    }
    long[] out = new long[Math.toIntExact(numel())];
    int[] idx = new int[shape.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = readLong(Shapes.elementAt(idx, shape, strides, offset, i));
    }
    return out;
  }

  // ---------------------------------------------------------------- views and conversions (recorded by autograd)

  public Tensor reshape(int... newShape) {
    return Ops.reshape(this, newShape);
  }

  public Tensor transpose(int d0, int d1) {
    return Ops.transpose(this, d0, d1);
  }

  /** Transpose of the last two dimensions. */
  public Tensor mT() {
    return Ops.transpose(this, -2, -1);
  }

  public Tensor permute(int... dims) {
    return Ops.permute(this, dims);
  }

  /** Elements {@code start, start+step, ...} below {@code end} along {@code dim}. */
  public Tensor slice(int dim, int start, int end, int step) {
    return Ops.slice(this, dim, start, end, step);
  }

  public Tensor slice(int dim, int start, int end) {
    return Ops.slice(this, dim, start, end, 1);
  }

  public Tensor narrow(int dim, int start, int length) {
    return Ops.slice(this, dim, start, start + length, 1);
  }

  /** Index {@code index} of {@code dim}, removing that dimension. */
  public Tensor select(int dim, int index) {
    return Ops.select(this, dim, index);
  }

  public Tensor unsqueeze(int dim) {
    return Ops.unsqueeze(this, dim);
  }

  public Tensor squeeze(int dim) {
    return Ops.squeeze(this, dim);
  }

  public Tensor expand(int... newShape) {
    return Ops.expand(this, newShape);
  }

  public Tensor contiguous() {
    return Ops.contiguous(this);
  }

  public Tensor to(DType dtype) {
    return Ops.to(this, dtype);
  }

  /** This tensor on {@code device}: itself when already there, else a contiguous copy (recorded by autograd). */
  public Tensor to(Device device) {
    return Ops.toDevice(this, device);
  }

  /** A contiguous copy of this tensor in {@code scope} (for results that must outlive the current scope). */
  public Tensor copyTo(Scope target) {
    Storage s = target.allocateStorage(device(), dtype(), numel());
    Tensor out = new Tensor(s, shape, Shapes.contiguousStrides(shape), 0);
    Ops.copyInto(this, out);
    return out;
  }

  /**
   * A contiguous copy of this tensor on {@code device} in {@code target} (not recorded by autograd):
   * weights and tables copied once to a device, kept in the global scope.
   */
  public Tensor copyTo(Scope target, Device device) {
    return dev.fovea.tensor.ops.Transfer.copy(this, target, device);
  }

  // ---------------------------------------------------------------- autograd

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** Marks a leaf as needing its gradient. */
  public Tensor requiresGrad(boolean on) {
    if (gradFn != null) {
      throw new TensorException("requiresGrad: only leaves can be marked; this tensor was produced by " + gradFn.name());
    }
    if (on && !dtype().isFloatingPoint()) {
      throw new TensorException("requiresGrad: " + dtype() + " tensors cannot require grad");
    }
    requiresGrad = on;
    return this;
  }

  public Node gradFn() {
    return gradFn;
  }

  /** The accumulated gradient, or null. */
  public Tensor grad() {
    return grad;
  }

  /** Clears the accumulated gradient. */
  public void zeroGrad() {
    grad = null;
  }

  /** Keeps the gradient of this intermediate after backward (leaves always keep theirs). */
  public Tensor retainGrad() {
    if (!requiresGrad) {
      throw new TensorException("retainGrad: this tensor does not require grad (is grad mode on and does an input require grad?)");
    }
    retainsGrad = true;
    return this;
  }

  public boolean retainsGrad() {
    return retainsGrad;
  }

  /** Engine use: adds {@code g} to the stored gradient. */
  public void accumulateGrad(Tensor g) {
    grad = grad == null ? g : Ops.add(grad, g);
  }

  /** Back-propagates from this one-element tensor. */
  public void backward() {
    Autograd.backward(this, null);
  }

  /** Back-propagates with an explicit seed of this tensor's shape. */
  public void backward(Tensor seed) {
    Autograd.backward(this, seed);
  }

  /** The same view without graph history. */
  public Tensor detach() {
    return new Tensor(storage, shape, strides, offset);
  }

  /**
   * Op use: records {@code node} as this output's origin when grad mode is on and an input of the
   * node requires grad; otherwise does nothing. Returns this.
   */
  public Tensor recordedBy(Node node) {
    if (!GradMode.isEnabled()) {
      return this;
    }
    for (Tensor in : node.inputs()) {
      if (in != null && in.requiresGrad) {
        gradFn = node;
        requiresGrad = true;
        return this;
      }
    }
    return this;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor").append(Arrays.toString(shape)).append(' ').append(dtype().name().toLowerCase());
    if (gradFn != null) {
      sb.append(" grad_fn=").append(gradFn.name());
    } else if (requiresGrad) {
      sb.append(" requires_grad");
    }
    long n = numel();
    if (n <= 16 && device().equals(Device.CPU)) {
      sb.append(' ').append(Arrays.toString(toFloatArray()));
    }
    return sb.toString();
  }
}
