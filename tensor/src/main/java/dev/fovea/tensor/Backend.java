package dev.fovea.tensor;

/**
 * The contract every device implements (STYLE point 7). Ops validate shapes, allocate outputs and
 * record autograd; a backend only computes. Inputs may be any strided view unless a method says
 * otherwise; outputs are freshly allocated contiguous tensors of the shape named.
 *
 * <p>The CPU backend ({@code dev.fovea.tensor.cpu.CpuBackend}) is always present. Other backends
 * are found through {@link java.util.ServiceLoader} by {@link Backends}.
 */
public interface Backend {
  Device device();

  /**
   * Storage for {@code numel} elements of {@code dtype} on this backend's device, owned by {@code
   * scope} (freed when it closes). The CPU's storage comes from {@link Scope} itself; other
   * backends implement this.
   */
  default Storage allocate(Scope scope, DType dtype, long numel) {
    if (device().equals(Device.CPU)) {
      return scope.allocateStorage(dtype, numel);
    }
    throw new TensorException(device() + ": this backend does not allocate memory");
  }

  /**
   * Copies between the host and this backend's device: src and dst contiguous, of the same dtype
   * and element count, one on the CPU and the other on this device (raw bytes, no conversion).
   */
  default void transfer(Tensor src, Tensor dst) {
    throw new TensorException(device() + ": this backend does not copy between devices (" + src.device() + " -> " + dst.device() + ")");
  }

  /**
   * A new ordered queue of work on this device for one owner (a decoding state), or null when the
   * device has only one (the CPU: the caller then does nothing but a null check). See {@link
   * ExecutionContext}.
   */
  default ExecutionContext openContext() {
    return null;
  }

  /** dst = src converted to dst's dtype; same shape, any strides on both sides. */
  void copy(Tensor src, Tensor dst);

  /** out = op(x), F32; x has out's shape. */
  void unary(UnaryOp op, Tensor x, Tensor out);

  /** out = op(a, b), F32; a and b are already expanded to out's shape (zero strides where broadcast). */
  void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

  /** out[r] = sum or max over the last dimension of x (rank 2 [rows, n], any strides); out is [rows]. */
  void reduceLast(ReduceOp op, Tensor x, Tensor out);

  /**
   * out[b] = a[b] @ w[b] (+ out when accumulate) for 3-d tensors: a [B, m, k] F32, w [B, k, n]
   * of any float dtype (quantized types only as the transposed view of a [n, k] weight), out [B, m, n] contiguous.
   */
  void matmul(Tensor a, Tensor w, Tensor out, boolean accumulate);

  /**
   * outs[i] = x W_i^T for x [rows, k] F32 and weights W_i [n_i, k] of one dtype sharing that x (a
   * layer's q/k/v or gate/up projections); outs[i] [rows, n_i] contiguous. The default runs one
   * matmul per weight; a backend may run them as one pass (results must equal the separate products).
   */
  default void linearShared(Tensor x, Tensor[] weights, Tensor[] outs) {
    for (int i = 0; i < weights.length; i++) {
      matmul(x.unsqueeze(0), weights[i].transpose(0, 1).unsqueeze(0), outs[i].unsqueeze(0), false);
    }
  }

  /** out = softmax (or log-softmax) of x over the last dimension; x contiguous [rows, n]. */
  void softmax(Tensor x, Tensor out, boolean log);

  /**
   * Layer norm over the last dimension of contiguous x [rows, n]; weight/bias [n] or null. Writes
   * out and, when not null, the per-row mean and reciprocal std [rows] that backward needs.
   */
  void layerNorm(Tensor x, Tensor weight, Tensor bias, float eps, Tensor out, Tensor mean, Tensor rstd);

  /** RMS norm over the last dimension of contiguous x [rows, n]; weight [n] or null; rstd [rows] or null. */
  void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor rstd);

  /** out[i] = weight[ids[i]] for ids I32/I64 [rows] and weight [vocab, dim] of any dtype; out [rows, dim]. */
  void embedding(Tensor weight, Tensor ids, Tensor out);

  /**
   * Fused attention without materializing probabilities: q [B, H, Tq, D], k/v [B, Hkv, Tk, D] with
   * H a multiple of Hkv (grouped-query: query head h reads kv head h / (H / Hkv), no copy), bias broadcastable to [B, H, Tq, Tk] or null, causal masking of keys after the
   * query's position (offset Tk - Tq). out [B, H, Tq, D].
   */
  void attention(Tensor q, Tensor k, Tensor v, Tensor bias, float scale, boolean causal, Tensor out);
}
