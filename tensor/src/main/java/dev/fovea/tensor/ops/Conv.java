package dev.fovea.tensor.ops;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Node;

/**
 * 2-d convolution (cross-correlation, as torch.nn.functional.conv2d), composed from views and
 * matmuls so autograd needs no formula of its own.
 *
 * <p>Patch embedding (stride = kernel, no padding) is one GEMM: the image viewed as
 * [B, h, w, C*p*p] patches times the flattened weight. The general case sums, over the kh*kw kernel
 * offsets, a strided slice of the padded input times that offset's [O, C] weight slice.
 */
public final class Conv {
  private Conv() {}

  /** x [B, C, H, W], weight [O, C, kh, kw], bias [O] or null; returns [B, O, oh, ow]. */
  public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
    if (x.dim() != 4 || weight.dim() != 4 || x.size(1) != weight.size(1)) {
      throw ShapeException.of("conv2d", "x [B, C, H, W] and weight [O, C, kh, kw] must agree on C", x.shape(), weight.shape());
    }
    if (bias != null && (bias.dim() != 1 || bias.size(0) != weight.size(0))) {
      throw ShapeException.of("conv2d", "bias must be [O] = [" + weight.size(0) + "]", bias.shape(), weight.shape());
    }
    if (stride < 1 || padding < 0) {
      throw ShapeException.of("conv2d", "stride must be >= 1 and padding >= 0 (got " + stride + ", " + padding + ")", x.shape());
    }
    int kh = weight.size(2);
    int kw = weight.size(3);
    int hp = x.size(2) + 2 * padding;
    int wp = x.size(3) + 2 * padding;
    if (hp < kh || wp < kw) {
      throw ShapeException.of("conv2d", "kernel larger than the padded input", x.shape(), weight.shape());
    }
    int oh = (hp - kh) / stride + 1;
    int ow = (wp - kw) / stride + 1;
    int b = x.size(0);
    int c = x.size(1);
    int o = weight.size(0);
    Tensor y;
    if (stride == kh && stride == kw && padding == 0) {
      // [B, C, oh*p, ow*p] -> [B, C, oh, p, ow, p] -> [B, oh, ow, C, p, p] -> [B*oh*ow, C*p*p]
      Tensor xc = Views.slice(Views.slice(x, 2, 0, oh * kh, 1), 3, 0, ow * kw, 1);
      Tensor patches = Views.reshape(
          Views.permute(Views.reshape(xc, b, c, oh, kh, ow, kw), 0, 2, 4, 1, 3, 5), b * oh * ow, c * kh * kw);
      Tensor w2 = Views.reshape(weight, o, c * kh * kw);
      Tensor cols = Matmul.linear(patches, w2, bias); // [B*oh*ow, O]
      return Views.permute(Views.reshape(cols, b, oh, ow, o), 0, 3, 1, 2);
    }
    Tensor xp = padding == 0 ? x : pad2d(x, padding);
    y = null;
    for (int i = 0; i < kh; i++) {
      for (int j = 0; j < kw; j++) {
        // [B, C, oh, ow] -> [B, oh, ow, C] @ [C, O]
        Tensor xs = Views.slice(Views.slice(xp, 2, i, i + stride * (oh - 1) + 1, stride), 3, j, j + stride * (ow - 1) + 1, stride);
        Tensor wij = Views.select(Views.select(weight, 3, j), 2, i); // [O, C]
        Tensor part = Matmul.matmul(Views.permute(xs, 0, 2, 3, 1), Views.transpose(wij, 0, 1));
        y = y == null ? part : Ops.add(y, part);
      }
    }
    if (bias != null) {
      y = Ops.add(y, bias);
    }
    return Views.permute(y, 0, 3, 1, 2);
  }

  /** Zero padding of the last two dimensions by {@code p} on every side. Backward: the inner slice of g. */
  public static Tensor pad2d(Tensor x, int p) {
    int[] s = x.shape();
    int r = s.length;
    int[] ps = s.clone();
    ps[r - 2] += 2 * p;
    ps[r - 1] += 2 * p;
    Tensor out = Transfer.toDevice(Tensor.zeros(ps), x.device());
    Tensor inner = Views.slice(Views.slice(out, r - 2, p, p + s[r - 2], 1), r - 1, p, p + s[r - 1], 1);
    Ops.copyInto(x.detach(), inner);
    return out.recordedBy(new Node("pad2d", x) {
      @Override
      public Tensor[] backward(Tensor g) {
        return new Tensor[] {Views.slice(Views.slice(g, r - 2, p, p + s[r - 2], 1), r - 1, p, p + s[r - 1], 1)};
      }
    });
  }
}
