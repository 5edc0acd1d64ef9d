package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.autograd.Node;
import java.util.Arrays;

/**
 * Matrix products. {@code matmul} follows torch.matmul (batch dimensions broadcast; 1-d operands
 * promoted); {@code linear} is x W^T + b with W stored [out, in] as checkpoints do, read in its own
 * dtype (F16/BF16/Q8_0/Q4_0 weights are converted inside the kernel, never copied).
 *
 * <p>Backward of C = A B: dA = g B^T, dB = A^T g (then summed over broadcast batch dimensions).
 */
public final class Matmul {
  private Matmul() {}

  public static Tensor matmul(Tensor a0, Tensor b0) {
    Tensor af = Elementwise.f32(a0, "matmul");
    // A CPU activation meets device weights (an image's patches, say): it goes to the device. The
    // other way round is an error: weights are never copied implicitly, once per call.
    Tensor a = af.device().equals(dev.fovea.tensor.Device.CPU) ? Transfer.align("matmul", af, b0) : af;
    Tensor b = b0;
    if (!b.dtype().isFloatingPoint()) {
      throw ShapeException.of("matmul", "right operand must be floating point, got " + b.dtype(), b.shape());
    }
    if (a.dim() == 0 || b.dim() == 0) {
      throw ShapeException.of("matmul", "operands must have at least one dimension", a.shape(), b.shape());
    }
    if (a.dim() == 1) {
      return Views.squeeze(matmul(Views.unsqueeze(a, 0), b), -2);
    }
    if (b.dim() == 1) {
      return Views.squeeze(matmul(a, Views.unsqueeze(b, -1)), -1);
    }
    int[] as = a.shape();
    int[] bs = b.shape();
    int m = as[as.length - 2];
    int k = as[as.length - 1];
    int n = bs[bs.length - 1];
    if (bs[bs.length - 2] != k) {
      throw ShapeException.of("matmul", "inner dimensions differ (" + k + " vs " + bs[bs.length - 2] + ")", as, bs);
    }
    int[] batch;
    try {
      batch = Shapes.broadcast("matmul", Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
    } catch (ShapeException e) {
      throw ShapeException.of("matmul", "batch dimensions do not broadcast", as, bs);
    }
    int[] outShape = Arrays.copyOf(batch, batch.length + 2);
    outShape[batch.length] = m;
    outShape[batch.length + 1] = n;
    int nb = (int) Shapes.numel(batch);
    Transfer.requireSame("matmul", "the right operand (weight)", b, a);
    Tensor out = Tensor.empty(a.device(), DType.F32, nb, m, n);
    Tensor a3;
    Tensor b3;
    if (b.dim() == 2 && nb > 0) {
      // Fold a's batch into its rows: one GEMM against the 2-d right operand (the Linear case).
      a3 = Views.reshape(a.detach(), 1, nb * m, k);
      b3 = Views.unsqueeze(b.detach(), 0);
      Tensor o3 = Views.reshape(out, 1, nb * m, n);
      Backends.of(a.device()).matmul(a3, b3, o3, false);
    } else {
      a3 = Views.reshape(Views.expand(a.detach(), withTail(batch, m, k)), nb, m, k);
      b3 = Views.reshape(Views.expand(b.detach(), withTail(batch, k, n)), nb, k, n);
      Backends.of(a.device()).matmul(a3, b3, out, false);
    }
    Tensor y = Views.reshape(out, outShape).detach();
    return y.recordedBy(new Node("matmul", a, b) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor ga = a.requiresGrad() ? Reductions.sumToShape(matmul(g, Views.transpose(b.dtype() == DType.F32 ? b : Views.to(b, DType.F32), -1, -2)), a.shape()) : null;
        Tensor gb = b.requiresGrad() ? Reductions.sumToShape(matmul(Views.transpose(a, -1, -2), g), b.shape()) : null;
        return new Tensor[] {ga, gb};
      }
    });
  }

  private static int[] withTail(int[] batch, int r, int c) {
    int[] s = Arrays.copyOf(batch, batch.length + 2);
    s[batch.length] = r;
    s[batch.length + 1] = c;
    return s;
  }

  /** y = x W^T (+ b): x [..., in], weight [out, in], bias [out] or null. */
  public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    if (weight.dim() != 2) {
      throw ShapeException.of("linear", "weight must be [out, in]", weight.shape());
    }
    if (x.dim() == 0 || x.size(-1) != weight.size(1)) {
      throw ShapeException.of("linear", "input features must equal the weight's in-features (" + weight.size(1) + ")", x.shape(), weight.shape());
    }
    if (bias != null && (bias.dim() != 1 || bias.size(0) != weight.size(0))) {
      throw ShapeException.of("linear", "bias must be [out] = [" + weight.size(0) + "]", bias.shape(), weight.shape());
    }
    Tensor y = matmul(x, Views.transpose(weight, 0, 1));
    return bias == null ? y : Ops.add(y, bias);
  }

  /**
   * x W_i^T for several weights [n_i, in] sharing the input x [..., in] (no biases): the same
   * values as one {@link #linear} per weight. Without autograd, on one device and with weights of
   * one dtype, the backend runs them together (on the CPU one GEMV pass for up to four rows: a
   * layer's q/k/v or gate/up at a decode step, or at the step of a batch of contrastive branches);
   * otherwise it is one linear per weight.
   */
  public static Tensor[] linearShared(Tensor x, Tensor... weights) {
    for (Tensor w : weights) {
      if (w.dim() != 2 || x.dim() == 0 || x.size(-1) != w.size(1)) {
        throw ShapeException.of("linear", "input features must equal each weight's in-features (weight [out, in])", x.shape(), w.shape());
      }
    }
    boolean together = weights.length > 1 && !(GradMode.isEnabled() && x.requiresGrad());
    for (Tensor w : weights) {
      together &= w.dtype() == weights[0].dtype() && w.device().equals(x.device()) && !(GradMode.isEnabled() && w.requiresGrad());
    }
    Tensor[] out = new Tensor[weights.length];
    if (!together) {
      for (int i = 0; i < weights.length; i++) {
        out[i] = linear(x, weights[i], null);
      }
      return out;
    }
    int k = x.size(-1);
    int rows = (int) (x.numel() / Math.max(1, k));
    Tensor a = Views.reshape(Elementwise.f32(x, "linear"), rows, k);
    Tensor[] flat = new Tensor[weights.length];
    for (int i = 0; i < weights.length; i++) {
      flat[i] = Tensor.empty(x.device(), DType.F32, rows, weights[i].size(0));
    }
    Backends.of(x.device()).linearShared(a, weights, flat);
    for (int i = 0; i < weights.length; i++) {
      int[] shape = x.shape();
      shape[shape.length - 1] = weights[i].size(0);
      out[i] = Views.reshape(flat[i], shape);
    }
    return out;
  }
}
