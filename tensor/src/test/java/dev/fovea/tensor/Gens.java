package dev.fovea.tensor;

import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.Random;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Generators for the op properties: random shapes (ranks 1-4, odd sizes common, sizes past the
 * 16-float vector width now and then so vector bodies and scalar tails both run), random values,
 * and random <em>layouts</em> of the same logical values: permuted (transposed) storage, slices with
 * steps, expanded (zero-stride) dimensions and offsets into a larger storage, with every element
 * outside the view set to NaN so a kernel that reads past its view fails loudly.
 *
 * <p>Example counts: {@code -Dfovea.examples=N} (the {@code long} profile sets 2000); the default
 * run is short.
 */
public final class Gens {
  private Gens() {}

  /** Property examples per test: {@code fovea.examples}, default 100, scaled by {@code factor} for costly properties. */
  public static int examples(double factor) {
    return Math.max(5, (int) (Integer.getInteger("fovea.examples", 100) * factor));
  }

  /** QuickTheories with {@link #examples(double)} examples and bounded shrinking (a failing case is reported, not minimized forever). */
  public static org.quicktheories.QuickTheory qt(double factor) {
    return org.quicktheories.QuickTheory.qt().withExamples(examples(factor)).withShrinkCycles(20);
  }

  /** A size: mostly small (often odd), sometimes around and past the vector width of 16. */
  public static Gen<Integer> size() {
    return Generate.frequency(
        Pair.of(5, integers().between(1, 7)),
        Pair.of(3, integers().between(8, 20)),
        Pair.of(2, integers().between(15, 40)));
  }

  /** A small size for leading (batch-like) dimensions. */
  public static Gen<Integer> smallSize() {
    return integers().between(1, 5);
  }

  /** A shape of rank in [minRank, maxRank]: leading dims small, the last dim from {@link #size()}. */
  public static Gen<int[]> shape(int minRank, int maxRank) {
    return integers().between(minRank, maxRank).flatMap(r -> Generate.intArrays(Generate.constant(r - 1), smallSize()).zip(size(), (lead, last) -> {
      int[] s = Arrays.copyOf(lead, r);
      s[r - 1] = last;
      return s;
    }));
  }

  public static Gen<Long> seeds() {
    return longs().all();
  }

  /** Standard normal values. */
  public static double[] normal(Random rng, int n, double scale) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rng.nextGaussian() * scale);
    }
    return v;
  }

  /** Uniform values in [lo, hi), rounded to float. */
  public static double[] uniform(Random rng, int n, double lo, double hi) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
    }
    return v;
  }

  /** A tensor and the logical values it holds (row-major), as the op sees them. */
  public record View(Tensor t, Naive.Arr a, String layout) {
    @Override
    public String toString() {
      return Arrays.toString(a.shape()) + " " + layout;
    }
  }

  /**
   * Values from {@code values} (which may be changed: an expanded dimension repeats one slice) laid
   * out in a random way. {@code allowExpand} permits zero-stride dimensions (only for inputs that are
   * read, never for gradients' leaves).
   */
  public static View view(Random rng, int[] shape, double[] values, boolean allowExpand) {
    int r = shape.length;
    double[] v = values.clone();
    StringBuilder how = new StringBuilder();
    // expanded dimension: the values repeat along it
    int expandDim = -1;
    if (allowExpand && r > 0 && rng.nextInt(4) == 0) {
      expandDim = rng.nextInt(r);
      for (int f = 0; f < v.length; f++) {
        int[] idx = Naive.unflat(shape, f);
        idx[expandDim] = 0;
        v[f] = v[Naive.flat(shape, idx)];
      }
      how.append(" expand(").append(expandDim).append(')');
    }
    int[] base = shape.clone();
    if (expandDim >= 0) {
      base[expandDim] = 1;
    }
    // physical order of dimensions (a permutation), steps and margins
    int[] perm = identity(r);
    if (r > 1 && rng.nextInt(3) == 0) {
      shuffle(perm, rng);
      how.append(" permuted").append(Arrays.toString(perm));
    }
    int[] step = new int[r];
    int[] before = new int[r];
    int[] after = new int[r];
    boolean sliced = rng.nextInt(3) == 0;
    for (int d = 0; d < r; d++) {
      step[d] = sliced ? 1 + rng.nextInt(3) : 1;
      before[d] = sliced ? rng.nextInt(3) : 0;
      after[d] = sliced ? rng.nextInt(3) : 0;
    }
    if (sliced) {
      how.append(" sliced steps").append(Arrays.toString(step));
    }
    int offset = rng.nextInt(3) == 0 ? 1 + rng.nextInt(17) : 0;
    if (offset > 0) {
      how.append(" offset ").append(offset);
    }
    // physical dimension i holds logical dimension perm[i]
    int[] phys = new int[r];
    for (int i = 0; i < r; i++) {
      int d = perm[i];
      phys[i] = before[d] + (Math.max(base[d], 1) - 1) * step[d] + 1 + after[d];
    }
    int physN = Naive.numel(phys);
    float[] store = new float[offset + physN];
    Arrays.fill(store, Float.NaN);
    int baseN = Naive.numel(base);
    for (int f = 0; f < baseN; f++) {
      int[] idx = Naive.unflat(base, f);
      int[] full = idx.clone();
      int[] p = new int[r];
      for (int i = 0; i < r; i++) {
        int d = perm[i];
        p[i] = before[d] + idx[d] * step[d];
      }
      store[offset + Naive.flat(phys, p)] = (float) v[Naive.flat(shape, full)];
    }
    Tensor t = Tensor.of(store, store.length).slice(0, offset, offset + physN, 1).reshape(phys);
    for (int i = 0; i < r; i++) {
      int d = perm[i];
      t = t.slice(i, before[d], before[d] + (base[d] - 1) * step[d] + 1, step[d]);
    }
    int[] inv = new int[r];
    for (int i = 0; i < r; i++) {
      inv[perm[i]] = i;
    }
    t = t.permute(inv);
    if (expandDim >= 0) {
      t = t.expand(shape);
    }
    if (how.isEmpty()) {
      how.append(" contiguous");
    }
    return new View(t, new Naive.Arr(shape.clone(), v), how.toString().trim());
  }

  /** Random normal values in a random layout. */
  public static View view(Random rng, int[] shape, boolean allowExpand) {
    return view(rng, shape, normal(rng, Naive.numel(shape), 1), allowExpand);
  }

  static int[] identity(int r) {
    int[] p = new int[r];
    for (int i = 0; i < r; i++) {
      p[i] = i;
    }
    return p;
  }

  static void shuffle(int[] p, Random rng) {
    for (int i = p.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
  }
}
