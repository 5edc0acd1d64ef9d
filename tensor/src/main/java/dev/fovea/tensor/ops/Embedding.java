package dev.fovea.tensor.ops;

import dev.fovea.tensor.Backends;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Node;
import java.util.Arrays;

/** Embedding lookup: rows of a [vocab, dim] table (any dtype, quantized included) picked by integer ids. */
public final class Embedding {
  private Embedding() {}

  /** out[..., :] = weight[ids[...], :]; out has ids' shape plus dim. Backward: rows of g added into a zero table. */
  public static Tensor embedding(Tensor weight, Tensor ids) {
    if (weight.dim() != 2) {
      throw ShapeException.of("embedding", "weight must be [vocab, dim]", weight.shape(), ids.shape());
    }
    if (ids.dtype().isFloatingPoint()) {
      throw ShapeException.of("embedding", "ids must be I32 or I64, got " + ids.dtype(), weight.shape(), ids.shape());
    }
    int dim = weight.size(1);
    int[] idShape = ids.shape();
    int[] outShape = Arrays.copyOf(idShape, idShape.length + 1);
    outShape[idShape.length] = dim;
    int n = (int) ids.numel();
    Tensor flatIds = Transfer.align("embedding", Views.reshape(ids, n), weight);
    Tensor out = Tensor.empty(weight.device(), DType.F32, n, dim);
    Backends.of(weight.device()).embedding(weight, flatIds, out);
    Tensor y = Views.reshape(out, outShape).detach();
    int vocab = weight.size(0);
    return y.recordedBy(new Node("embedding", weight) {
      @Override
      public Tensor[] backward(Tensor g) {
        Tensor g2 = Views.contiguous(Views.reshape(g, n, dim));
        return new Tensor[] {Transfer.toDevice(Joins.scatterRows(g2, flatIds, vocab), g.device())};
      }
    });
  }
}
