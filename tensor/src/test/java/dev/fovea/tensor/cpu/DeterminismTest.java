package dev.fovea.tensor.cpu;

import dev.fovea.tensor.Check;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Large ops give bit-identical results with 1 and 2 threads (Parallel's fixed chunking; DESIGN "bit-identical ... thread count to thread count"). */
@Tag("kernel")
class DeterminismTest {

  @Test
  void oneAndTwoThreadsAgreeBitForBit() {
    Random rng = new Random(7);
    int before = Parallel.threads();
    try (var s = Scope.open()) {
      Tensor a = Tensor.randn(rng, 67, 129);
      Tensor b = Tensor.randn(rng, 129, 45);
      Tensor x = Tensor.randn(rng, 300, 513);
      Tensor w = Tensor.randn(rng, 513);
      Tensor q = Tensor.randn(rng, 2, 4, 37, 24);
      Tensor k = Tensor.randn(rng, 2, 2, 53, 24);
      Tensor v = Tensor.randn(rng, 2, 2, 53, 24);
      List<Supplier<Tensor>> ops = List.of(
          () -> Ops.matmul(a, b),
          () -> Ops.softmax(x, -1),
          () -> Ops.layerNorm(x, w, w, 1e-5f),
          () -> Ops.rmsNorm(x, w, 1e-6f),
          () -> Ops.sum(x, 0, false),
          () -> Ops.gelu(x.mT()),
          () -> Ops.add(x, w),
          () -> Ops.scaledDotProductAttention(q, k, v, null, true, 0.2f));
      for (int i = 0; i < ops.size(); i++) {
        Parallel.setThreads(1);
        Tensor one = ops.get(i).get();
        Parallel.setThreads(2);
        Tensor two = ops.get(i).get();
        Check.identical("op " + i + " with 1 vs 2 threads", one, two);
      }
    } finally {
      Parallel.setThreads(before);
    }
  }
}
