package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Node;
import java.util.Arrays;

/**
 * Normalizations over the last dimension.
 *
 * <p>LayerNorm: xhat = (x - mean) * rstd, y = xhat * w + b. Saves mean and rstd. Backward, with
 * dxhat = g * w: dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)); dw = sum_rows g * xhat;
 * db = sum_rows g.
 *
 * <p>RMSNorm: xhat = x * rstd, rstd = 1/sqrt(mean(x^2) + eps), y = xhat * w. Saves rstd. Backward:
 * dx = rstd * (dxhat - xhat * mean(dxhat * xhat)); dw = sum_rows g * xhat.
 */
public final class Norms {
  private Norms() {}

  public static Tensor layerNorm(Tensor x0, Tensor weight, Tensor bias, float eps) {
    Tensor x = Elementwise.f32(x0, "layerNorm");
    int n = checkParams("layerNorm", x, weight, bias);
    Tensor w = Transfer.align("layerNorm", weight == null ? null : Elementwise.f32(weight, "layerNorm"), x);
    Tensor b = Transfer.align("layerNorm", bias == null ? null : Elementwise.f32(bias, "layerNorm"), x);
    int rows = (int) (x.numel() / Math.max(1, n));
    Tensor xc = Views.reshape(Views.contiguous(x.detach()), rows, n);
    Tensor out = Tensor.empty(x.device(), DType.F32, rows, n);
    Tensor mean = Tensor.empty(x.device(), DType.F32, rows);
    Tensor rstd = Tensor.empty(x.device(), DType.F32, rows);
    Backends.of(x.device()).layerNorm(xc, w == null ? null : w.detach(), b == null ? null : b.detach(), eps, out, mean, rstd);
    Tensor y = Views.reshape(out, x.shape()).detach();
    int[] shape = x.shape();
    return y.recordedBy(new Node("layerNorm", x, w, b) {
      @Override
      public Tensor[] backward(Tensor g0) {
        Tensor g = Views.reshape(g0, rows, n);
        Tensor r = Views.unsqueeze(rstd, 1);
        Tensor xhat = Ops.mul(Ops.sub(xc, Views.unsqueeze(mean, 1)), r);
        Tensor dxhat = w == null ? g : Ops.mul(g, w);
        Tensor gx = null;
        if (x.requiresGrad()) {
          Tensor m1 = Reductions.mean(dxhat, 1, true);
          Tensor m2 = Reductions.mean(Ops.mul(dxhat, xhat), 1, true);
          gx = Views.reshape(Ops.mul(r, Ops.sub(Ops.sub(dxhat, m1), Ops.mul(xhat, m2))), shape);
        }
        Tensor gw = w != null && w.requiresGrad() ? Reductions.sum(Ops.mul(g, xhat), 0, false) : null;
        Tensor gb = b != null && b.requiresGrad() ? Reductions.sum(g, 0, false) : null;
        return new Tensor[] {gx, gw, gb};
      }
    });
  }

  public static Tensor rmsNorm(Tensor x0, Tensor weight, float eps) {
    Tensor x = Elementwise.f32(x0, "rmsNorm");
    int n = checkParams("rmsNorm", x, weight, null);
    Tensor w = Transfer.align("rmsNorm", weight == null ? null : Elementwise.f32(weight, "rmsNorm"), x);
    int rows = (int) (x.numel() / Math.max(1, n));
    Tensor xc = Views.reshape(Views.contiguous(x.detach()), rows, n);
    Tensor out = Tensor.empty(x.device(), DType.F32, rows, n);
    Tensor rstd = Tensor.empty(x.device(), DType.F32, rows);
    Backends.of(x.device()).rmsNorm(xc, w == null ? null : w.detach(), eps, out, rstd);
    Tensor y = Views.reshape(out, x.shape()).detach();
    int[] shape = x.shape();
    return y.recordedBy(new Node("rmsNorm", x, w) {
      @Override
      public Tensor[] backward(Tensor g0) {
        Tensor g = Views.reshape(g0, rows, n);
        Tensor r = Views.unsqueeze(rstd, 1);
        Tensor xhat = Ops.mul(xc, r);
        Tensor dxhat = w == null ? g : Ops.mul(g, w);
        Tensor gx = null;
        if (x.requiresGrad()) {
          Tensor m2 = Reductions.mean(Ops.mul(dxhat, xhat), 1, true);
          gx = Views.reshape(Ops.mul(r, Ops.sub(dxhat, Ops.mul(xhat, m2))), shape);
        }
        Tensor gw = w != null && w.requiresGrad() ? Reductions.sum(Ops.mul(g, xhat), 0, false) : null;
        return new Tensor[] {gx, gw};
      }
    });
  }

  private static int checkParams(String op, Tensor x, Tensor w, Tensor b) {
    if (x.dim() == 0) {
      throw ShapeException.of(op, "input must have at least one dimension", x.shape());
    }
    int n = x.size(-1);
    for (Tensor p : new Tensor[] {w, b}) {
      if (p != null && (p.dim() != 1 || p.size(0) != n)) {
        throw ShapeException.of(op, "weight and bias must be [" + n + "] (the last dimension), got " + Arrays.toString(p.shape()), x.shape(), p.shape());
      }
    }
    return n;
  }
}
