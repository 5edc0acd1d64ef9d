package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backend;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.autograd.Node;

/**
 * Copies between devices. Every crossing is explicit: {@link #toDevice} (tensor.to(device)), or
 * {@link #align} where an op meets a small CPU operand beside a device tensor (a scalar, a causal
 * mask, RoPE tables, a norm's weight): that operand is copied to the other's device. Two different
 * non-CPU devices never meet silently.
 *
 * <p>Backward of toDevice: the gradient copied back to the source's device.
 */
public final class Transfer {
  private Transfer() {}

  public static Tensor toDevice(Tensor x, Device device) {
    Device from = x.device();
    if (from.equals(device)) {
      return x;
    }
    Tensor out = copy(x, Scope.current(), device);
    if (!x.dtype().isFloatingPoint()) {
      return out;
    }
    return out.recordedBy(new Node("to_" + device.kind(), x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {toDevice(g, from)};
      }
    });
  }

  /**
   * A contiguous copy of {@code x} on {@code device}, its memory owned by {@code target} (not
   * recorded by autograd): the global scope for weights moved once to a device. Device to device
   * goes through the host.
   */
  public static Tensor copy(Tensor x, Scope target, Device device) {
    Device from = x.device();
    if (!from.equals(Device.CPU) && !device.equals(Device.CPU)) {
      try (Scope tmp = Scope.open()) {
        return copy(copy(x, tmp, Device.CPU), target, device);
      }
    }
    if (from.equals(device)) {
      return x.copyTo(target);
    }
    Tensor src = Views.contiguous(x.detach());
    int[] shape = src.shape();
    Tensor out = new Tensor(target.allocateStorage(device, src.dtype(), src.numel()), shape, Shapes.contiguousStrides(shape), 0);
    Backends.of(from.equals(Device.CPU) ? device : from).transfer(src, out);
    return out;
  }

  /**
   * F32 zeros of {@code shape} on {@code device}: {@link Tensor#zeros} on the CPU; elsewhere device
   * memory filled by a broadcast copy of one zero (no host buffer of the full size is copied over).
   */
  public static Tensor zeros(Device device, int... shape) {
    if (device.equals(Device.CPU)) {
      return Tensor.zeros(shape);
    }
    Tensor out = Tensor.empty(device, dev.fovea.tensor.DType.F32, shape);
    Views.copyInto(Tensor.scalar(0f), out);
    return out;
  }

  /**
   * {@code t} on the device of {@code like}: itself when already there, a copy when t is on the
   * CPU; two different non-CPU devices are an error naming {@code op}.
   */
  public static Tensor align(String op, Tensor t, Tensor like) {
    if (t == null || t.device().equals(like.device())) {
      return t;
    }
    if (t.device().equals(Device.CPU)) {
      return toDevice(t, like.device());
    }
    throw new TensorException(
        op + ": operands on " + t.device() + " and " + like.device() + "; move one explicitly with tensor.to(device)");
  }

  /** Fails unless {@code t} is on the device of {@code like} (for large operands such as weights, never copied implicitly). */
  public static void requireSame(String op, String what, Tensor t, Tensor like) {
    if (!t.device().equals(like.device())) {
      throw new TensorException(
          op + ": " + what + " is on " + t.device() + " but the input is on " + like.device()
              + "; copy it once with tensor.to(" + like.device() + ") (weights: move the model's weights to the device before running it)");
    }
  }
}
