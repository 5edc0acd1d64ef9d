package dev.fovea.tensor.ops;

import static dev.fovea.tensor.Gens.qt;

import dev.fovea.tensor.Check;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.GradCheck;
import dev.fovea.tensor.Gens;
import dev.fovea.tensor.Naive;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * concat, stack, split, indexSelect and embedding over random views; pure data movement, so the
 * forward results must be exact. Backward through each (indexSelect and embedding with repeated
 * indices, whose gradients add up).
 */
class JoinsTest {

  @Tag("kernel")
  @Test
  void joinsMatchNaive() {
    qt(1).forAll(Gens.shape(1, 4), Gens.seeds()).checkAssert((shape, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        int d = rng.nextInt(shape.length);
        int parts = 1 + rng.nextInt(3);
        List<Gens.View> vs = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
          int[] si = shape.clone();
          si[d] = 1 + rng.nextInt(5);
          vs.add(Gens.view(rng, si, true));
        }
        Check.close("concat dim " + d + " of " + vs, Ops.concat(vs.stream().map(Gens.View::t).toList(), d),
            Naive.concat(vs.stream().map(Gens.View::a).toList(), d), 0, 0);
        List<Gens.View> same = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
          same.add(Gens.view(rng, shape, true));
        }
        int sd = rng.nextInt(shape.length + 1);
        Check.close("stack dim " + sd + " of " + same, Ops.stack(same.stream().map(Gens.View::t).toList(), sd),
            Naive.stack(same.stream().map(Gens.View::a).toList(), sd), 0, 0);
        Gens.View x = same.get(0);
        int cut = rng.nextInt(shape[d] + 1);
        List<Tensor> halves = Ops.split(x.t(), d, cut, shape[d] - cut);
        Check.close("split first of " + x, halves.get(0), Naive.slice(x.a(), d, 0, cut, 1), 0, 0);
        Check.close("split second of " + x, halves.get(1), Naive.slice(x.a(), d, cut, shape[d], 1), 0, 0);
        long[] index = new long[1 + rng.nextInt(6)];
        for (int i = 0; i < index.length; i++) {
          index[i] = rng.nextInt(shape[d]);
        }
        Tensor ix = rng.nextBoolean() ? Tensor.ofLongs(index, index.length) : Tensor.ofInts(java.util.Arrays.stream(index).mapToInt(l -> (int) l).toArray(), index.length);
        Check.close("indexSelect dim " + d + " of " + x, Ops.indexSelect(x.t(), d, ix), Naive.indexSelect(x.a(), d, index), 0, 0);
      }
    });
  }

  /** Embedding rows of F32 (any view), F16 and BF16 tables: exact copies of the (converted) stored values. */
  @Tag("kernel")
  @Test
  void embeddingMatchesNaive() {
    qt(1).forAll(Gens.size(), Gens.size(), Gens.seeds()).checkAssert((vocab, dim, seed) -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        Gens.View w = Gens.view(rng, new int[] {vocab, dim}, false);
        int[] idShape = rng.nextBoolean() ? new int[] {1 + rng.nextInt(7)} : new int[] {1 + rng.nextInt(3), 1 + rng.nextInt(4)};
        long[] ids = new long[Naive.numel(idShape)];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = rng.nextInt(vocab);
        }
        Tensor idT = Tensor.ofLongs(ids, idShape);
        Check.close("embedding of " + w, Ops.embedding(w.t(), idT), Naive.embedding(w.a(), ids, idShape), 0, 0);
        for (DType dt : new DType[] {DType.F16, DType.BF16}) {
          Tensor wl = w.t().to(dt);
          Check.close("embedding of a " + dt + " table", Ops.embedding(wl, idT), Naive.embedding(Naive.Arr.of(wl), ids, idShape), 0, 0);
        }
      }
    });
  }

  /** All linear maps of their float inputs: eps = 1e-2 exact up to rounding; |err| &lt;= 1e-3 + 1e-3 |numeric|. */
  @Test
  void joinsBackward() {
    qt(0.2).forAll(Gens.seeds()).checkAssert(seed -> {
      try (var s = Scope.open()) {
        Random rng = new Random(seed);
        Tensor a = Tensor.randn(rng, 2, 1 + rng.nextInt(3), 3).requiresGrad(true);
        Tensor b = Tensor.randn(rng, 2, 1 + rng.nextInt(3), 3).requiresGrad(true);
        GradCheck.check("concat dim 1", in -> Ops.concat(List.of(in.get(0), in.get(1)), 1), List.of(a, b), 1e-2, 1e-3, 1e-3);
        GradCheck.check("concat of transposed parts", in -> Ops.concat(List.of(in.get(0).mT(), in.get(1).mT()), 2), List.of(a, b), 1e-2, 1e-3, 1e-3);
        Tensor c = Tensor.randn(rng, 2, 3).requiresGrad(true);
        Tensor e = Tensor.randn(rng, 2, 3).requiresGrad(true);
        GradCheck.check("stack dim 1", in -> Ops.stack(List.of(in.get(0), in.get(1), in.get(0)), 1), List.of(c, e), 1e-2, 1e-3, 1e-3);
        GradCheck.check("split", in -> Ops.split(in.get(0), 1, 1, 2).get(1), List.of(c), 1e-2, 1e-3, 1e-3);
        Tensor index = Tensor.ofLongs(new long[] {2, 0, 2, 2}, 4);
        GradCheck.check("indexSelect with repeats", in -> Ops.indexSelect(in.get(0), 1, index), List.of(c), 1e-2, 1e-3, 1e-3);
        Tensor table = Tensor.randn(rng, 5, 3).requiresGrad(true);
        Tensor ids = Tensor.ofInts(new int[] {4, 1, 4, 0, 4, 1}, 2, 3);
        GradCheck.check("embedding (weight) with repeated ids", in -> Ops.embedding(in.get(0), ids), List.of(table), 1e-2, 1e-3, 1e-3);
      }
    });
  }
}
