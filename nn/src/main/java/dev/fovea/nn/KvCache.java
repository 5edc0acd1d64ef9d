package dev.fovea.nn;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.GradMode;
import java.util.Arrays;
import java.util.List;

/**
 * Keys and values of the positions a self-attention layer has already seen, preallocated as
 * keys/values [B, Hkv, capacity, D] (keys stored transposed, see the constructor) in a scope owned
 * by the caller (a decoding state). {@link
 * MultiHeadAttention#forwardCached} appends each call's k and v (after
 * rotary) and attends over a view [B, Hkv, 0:length, D] of the cache: nothing is copied per step
 * except the new positions.
 *
 * <p>The write never goes through autograd. When grad mode is on and the new k/v require grad, the
 * attention sees the in-graph k/v (concatenated after the stored, constant prefix), so gradients
 * flow through a grad-mode prefill exactly as without a cache.
 */
public final class KvCache {
  private final Tensor keys; // [B, Hkv, capacity, D]
  private final Tensor values; // [B, Hkv, capacity, D]
  private int length;

  /**
   * An empty cache for {@code capacity} positions, its memory taken from {@code scope}. Keys are
   * stored position-minor, [B, Hkv, D, capacity] in memory, and seen as the view [B, Hkv,
   * capacity, D] with strides (Hkv D cap, D cap, 1, cap): a decode step's attention then scores L
   * keys per vector fma with no horizontal sum per key (the fused kernel's key-major path), and a
   * prefill's Q K^T reads K^T row-major. Values stay [B, Hkv, capacity, D] (the output sums rows
   * of them).
   */
  public KvCache(Scope scope, int batch, int kvHeads, int capacity, int headDim) {
    this(scope, Device.CPU, batch, kvHeads, capacity, headDim);
  }

  /** As {@link #KvCache(Scope, int, int, int, int)}, its memory on {@code device} (the model's). */
  public KvCache(Scope scope, Device device, int batch, int kvHeads, int capacity, int headDim) {
    int[] shape = {batch, kvHeads, capacity, headDim};
    long n = Shapes.numel(shape);
    long[] keyStrides = {(long) kvHeads * headDim * capacity, (long) headDim * capacity, 1, capacity};
    this.keys = new Tensor(scope.allocateStorage(device, DType.F32, n), shape, keyStrides, 0);
    this.values = new Tensor(scope.allocateStorage(device, DType.F32, n), shape, Shapes.contiguousStrides(shape), 0);
  }

  private KvCache(Tensor keys, Tensor values, int length) {
    this.keys = keys;
    this.values = values;
    this.length = length;
  }

  /** Where the keys and values live. */
  public Device device() {
    return keys.device();
  }

  /** Positions stored so far. */
  public int length() {
    return length;
  }

  /** Positions the cache can hold. */
  public int capacity() {
    return keys.size(2);
  }

  /** Bytes of the key and value buffers. */
  public long bytes() {
    return 2 * keys.numel() * 4;
  }

  /** Keys stored so far, a view [B, Hkv, length, D] (valid until the owner closes the cache's scope). */
  public Tensor keys() {
    return keys.narrow(2, 0, length);
  }

  /** Values stored so far, a view [B, Hkv, length, D]. */
  public Tensor values() {
    return values.narrow(2, 0, length);
  }

  /**
   * Stores k, v [B, Hkv, T, D] at positions length..length+T-1 and returns the keys and values of
   * all positions so far, [B, Hkv, length + T, D].
   */
  public Tensor[] append(Tensor k, Tensor v) {
    int[] want = {keys.size(0), keys.size(1), k.dim() == 4 ? k.size(2) : -1, keys.size(3)};
    if (!Arrays.equals(k.shape(), want) || !Arrays.equals(v.shape(), want)) {
      throw new ShapeException("KvCache: new keys " + Arrays.toString(k.shape()) + " and values " + Arrays.toString(v.shape())
          + " must be [B, Hkv, T, D] = " + Arrays.toString(want));
    }
    int t = k.size(2);
    if (length + t > capacity()) {
      throw new TensorException("KvCache: " + length + " cached positions + " + t + " new ones exceed the cache's capacity of "
          + capacity() + " positions (create the decoding state with a larger maximum length)");
    }
    int past = length;
    Ops.copyInto(k.detach(), keys.narrow(2, past, t));
    Ops.copyInto(v.detach(), values.narrow(2, past, t));
    length = past + t;
    boolean inGraph = GradMode.isEnabled() && (k.requiresGrad() || v.requiresGrad());
    if (!inGraph) {
      return new Tensor[] {keys(), values()};
    }
    if (past == 0) {
      return new Tensor[] {k, v};
    }
    return new Tensor[] {
      Ops.concat(List.of(keys.narrow(2, 0, past), k), 2), Ops.concat(List.of(values.narrow(2, 0, past), v), 2)
    };
  }

  /** Forgets positions from {@code newLength} on (they are overwritten by later appends). */
  public void truncate(int newLength) {
    if (newLength < 0 || newLength > length) {
      throw new TensorException("KvCache: cannot truncate " + length + " positions to " + newLength);
    }
    length = newLength;
  }

  /** Batch rows the cache holds. */
  public int batch() {
    return keys.size(0);
  }

  /**
   * Row {@code b} of this cache as a cache of batch 1 over the same memory, at this cache's length:
   * appends through it fill that row only. Rows of one batch filled one at a time (a branch whose
   * input depends on another branch's prefill) are then marked filled with {@link #assumeFilled}.
   */
  public KvCache row(int b) {
    if (b < 0 || b >= batch()) {
      throw new TensorException("KvCache: row " + b + " is outside the batch of " + batch());
    }
    return new KvCache(keys.narrow(0, b, 1), values.narrow(0, b, 1), length);
  }

  /** Marks positions up to {@code newLength} as stored: every row wrote them through {@link #row} views. */
  public void assumeFilled(int newLength) {
    if (newLength < length || newLength > capacity()) {
      throw new TensorException("KvCache: cannot mark " + newLength + " positions filled (length " + length + ", capacity " + capacity() + ")");
    }
    length = newLength;
  }

  /** A copy of this cache (same capacity, same contents) in {@code scope}: a branch that continues independently. */
  public KvCache copyTo(Scope scope) {
    KvCache c = new KvCache(scope, keys.device(), keys.size(0), keys.size(1), capacity(), keys.size(3));
    Ops.copyInto(keys(), c.keys.narrow(2, 0, length));
    Ops.copyInto(values(), c.values.narrow(2, 0, length));
    return new KvCache(c.keys, c.values, length);
  }

}
