package dev.fovea.tensor;

import dev.fovea.tensor.ops.Attention;
import dev.fovea.tensor.ops.Conv;
import dev.fovea.tensor.ops.Elementwise;
import dev.fovea.tensor.ops.Embedding;
import dev.fovea.tensor.ops.Interpolate;
import dev.fovea.tensor.ops.Joins;
import dev.fovea.tensor.ops.Losses;
import dev.fovea.tensor.ops.Matmul;
import dev.fovea.tensor.ops.Norms;
import dev.fovea.tensor.ops.Reductions;
import dev.fovea.tensor.ops.Rope;
import dev.fovea.tensor.ops.Softmax;
import dev.fovea.tensor.ops.Transfer;
import dev.fovea.tensor.ops.Views;
import java.util.List;

/**
 * The functional API, named as torch.nn.functional names things. Every op validates its shapes
 * (errors name the op and the shapes), allocates its output in the current {@link Scope}, and
 * records its backward when grad mode is on. The implementations live in {@code ops}, one file per
 * family with forward and backward side by side.
 */
public final class Ops {
  private Ops() {}

  // ---------------------------------------------------------------- creation
  public static Tensor scalar(float v) {
    return Tensor.scalar(v);
  }

  public static Tensor onesLike(Tensor x) {
    return Transfer.toDevice(Tensor.ones(x.shape()), x.device());
  }

  public static Tensor zerosLike(Tensor x) {
    return Transfer.toDevice(Tensor.zeros(x.shape()), x.device());
  }

  /** x on {@code device}: x itself when already there, else a contiguous copy; the gradient goes back to x's device. */
  public static Tensor toDevice(Tensor x, Device device) {
    return Transfer.toDevice(x, device);
  }

  // ---------------------------------------------------------------- views
  public static Tensor reshape(Tensor x, int... shape) {
    return Views.reshape(x, shape);
  }

  public static Tensor transpose(Tensor x, int d0, int d1) {
    return Views.transpose(x, d0, d1);
  }

  public static Tensor permute(Tensor x, int... dims) {
    return Views.permute(x, dims);
  }

  public static Tensor slice(Tensor x, int dim, int start, int end, int step) {
    return Views.slice(x, dim, start, end, step);
  }

  public static Tensor select(Tensor x, int dim, int index) {
    return Views.select(x, dim, index);
  }

  public static Tensor unsqueeze(Tensor x, int dim) {
    return Views.unsqueeze(x, dim);
  }

  public static Tensor squeeze(Tensor x, int dim) {
    return Views.squeeze(x, dim);
  }

  public static Tensor expand(Tensor x, int... shape) {
    return Views.expand(x, shape);
  }

  public static Tensor contiguous(Tensor x) {
    return Views.contiguous(x);
  }

  public static Tensor to(Tensor x, DType dtype) {
    return Views.to(x, dtype);
  }

  /** Copies src (broadcast to dst's shape) into the view dst; not recorded by autograd. */
  public static void copyInto(Tensor src, Tensor dst) {
    Views.copyInto(src, dst);
  }

  // ---------------------------------------------------------------- elementwise
  public static Tensor unary(UnaryOp op, Tensor x) {
    return Elementwise.unary(op, x);
  }

  public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
    return Elementwise.binary(op, a, b);
  }

  public static Tensor add(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.ADD, a, b);
  }

  public static Tensor sub(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.SUB, a, b);
  }

  public static Tensor mul(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.MUL, a, b);
  }

  public static Tensor div(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.DIV, a, b);
  }

  public static Tensor maximum(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.MAX, a, b);
  }

  public static Tensor minimum(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.MIN, a, b);
  }

  public static Tensor pow(Tensor a, Tensor b) {
    return Elementwise.binary(BinaryOp.POW, a, b);
  }

  public static Tensor addScalar(Tensor a, float s) {
    return add(a, scalar(s));
  }

  public static Tensor mulScalar(Tensor a, float s) {
    return mul(a, scalar(s));
  }

  public static Tensor neg(Tensor x) {
    return unary(UnaryOp.NEG, x);
  }

  public static Tensor exp(Tensor x) {
    return unary(UnaryOp.EXP, x);
  }

  public static Tensor log(Tensor x) {
    return unary(UnaryOp.LOG, x);
  }

  public static Tensor tanh(Tensor x) {
    return unary(UnaryOp.TANH, x);
  }

  public static Tensor erf(Tensor x) {
    return unary(UnaryOp.ERF, x);
  }

  public static Tensor gelu(Tensor x) {
    return unary(UnaryOp.GELU, x);
  }

  public static Tensor geluTanh(Tensor x) {
    return unary(UnaryOp.GELU_TANH, x);
  }

  public static Tensor quickGelu(Tensor x) {
    return unary(UnaryOp.QUICK_GELU, x);
  }

  public static Tensor silu(Tensor x) {
    return unary(UnaryOp.SILU, x);
  }

  public static Tensor relu(Tensor x) {
    return unary(UnaryOp.RELU, x);
  }

  public static Tensor sigmoid(Tensor x) {
    return unary(UnaryOp.SIGMOID, x);
  }

  public static Tensor sqrt(Tensor x) {
    return unary(UnaryOp.SQRT, x);
  }

  public static Tensor rsqrt(Tensor x) {
    return unary(UnaryOp.RSQRT, x);
  }

  public static Tensor abs(Tensor x) {
    return unary(UnaryOp.ABS, x);
  }

  public static Tensor square(Tensor x) {
    return unary(UnaryOp.SQUARE, x);
  }

  public static Tensor reciprocal(Tensor x) {
    return unary(UnaryOp.RECIPROCAL, x);
  }

  public static Tensor sin(Tensor x) {
    return unary(UnaryOp.SIN, x);
  }

  public static Tensor cos(Tensor x) {
    return unary(UnaryOp.COS, x);
  }

  // ---------------------------------------------------------------- reductions
  public static Tensor sum(Tensor x, int dim, boolean keepdim) {
    return Reductions.sum(x, dim, keepdim);
  }

  public static Tensor sumAll(Tensor x) {
    return Reductions.sumAll(x);
  }

  public static Tensor mean(Tensor x, int dim, boolean keepdim) {
    return Reductions.mean(x, dim, keepdim);
  }

  public static Tensor max(Tensor x, int dim, boolean keepdim) {
    return Reductions.max(x, dim, keepdim);
  }

  public static Tensor argmax(Tensor x, int dim, boolean keepdim) {
    return Reductions.argmax(x, dim, keepdim);
  }

  public static Reductions.TopK topk(Tensor x, int k, int dim, boolean largest) {
    return Reductions.topk(x, k, dim, largest);
  }

  // ---------------------------------------------------------------- linear algebra and nn functions
  public static Tensor matmul(Tensor a, Tensor b) {
    return Matmul.matmul(a, b);
  }

  public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    return Matmul.linear(x, weight, bias);
  }

  /** x W_i^T for several weights sharing x, computed together where the backend can (see {@link Matmul#linearShared}). */
  public static Tensor[] linearShared(Tensor x, Tensor... weights) {
    return Matmul.linearShared(x, weights);
  }

  public static Tensor softmax(Tensor x, int dim) {
    return Softmax.softmax(x, dim);
  }

  public static Tensor logSoftmax(Tensor x, int dim) {
    return Softmax.logSoftmax(x, dim);
  }

  public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, float eps) {
    return Norms.layerNorm(x, weight, bias, eps);
  }

  public static Tensor rmsNorm(Tensor x, Tensor weight, float eps) {
    return Norms.rmsNorm(x, weight, eps);
  }

  public static Tensor embedding(Tensor weight, Tensor ids) {
    return Embedding.embedding(weight, ids);
  }

  public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor bias, boolean causal, float scale) {
    return Attention.sdpa(q, k, v, bias, causal, scale);
  }

  public static Tensor rope(Tensor x, Tensor cos, Tensor sin, boolean interleaved) {
    return Rope.rope(x, cos, sin, interleaved);
  }

  public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
    return Conv.conv2d(x, weight, bias, stride, padding);
  }

  public static Tensor interpolate(Tensor x, int outH, int outW, Interpolate.Mode mode, boolean alignCorners) {
    return Interpolate.interpolate(x, outH, outW, mode, alignCorners);
  }

  // ---------------------------------------------------------------- losses
  /**
   * Mean cross-entropy of logits [..., V] against integer targets [...], rows whose target is
   * {@link Losses#IGNORE_INDEX} (-100, Hugging Face's label for untrained positions) left out.
   */
  public static Tensor crossEntropy(Tensor logits, Tensor targets) {
    return Losses.crossEntropy(logits, targets, Losses.IGNORE_INDEX, Losses.Reduction.MEAN);
  }

  /** Cross-entropy with another ignore index or reduction (torch.nn.functional.cross_entropy). */
  public static Tensor crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Losses.Reduction reduction) {
    return Losses.crossEntropy(logits, targets, ignoreIndex, reduction);
  }

  // ---------------------------------------------------------------- joining and indexing
  public static Tensor concat(List<Tensor> parts, int dim) {
    return Joins.concat(parts, dim);
  }

  public static Tensor stack(List<Tensor> parts, int dim) {
    return Joins.stack(parts, dim);
  }

  public static List<Tensor> split(Tensor x, int dim, int... sizes) {
    return Joins.split(x, dim, sizes);
  }

  public static Tensor indexSelect(Tensor x, int dim, Tensor index) {
    return Joins.indexSelect(x, dim, index);
  }
}
