package dev.fovea.nn.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Where a training run's (micro-)batches come from. Batch {@code index} counts micro-batches from
 * the start of the run (step s, micro-batch k of an accumulation of A is index s·A + k), and {@code
 * seed} is the run's seed; a source must give the same batch for the same (index, seed), which is
 * what makes runs repeatable and a resumed run identical to an uninterrupted one.
 */
@FunctionalInterface
public interface BatchSource<B> {
  B batch(long index, long seed);

  /**
   * Batches of {@code batchSize} examples of {@code data} in an order shuffled from the seed: the
   * examples of epoch e in a Fisher-Yates permutation drawn from (seed, e), epochs back to back (a
   * batch may straddle two). Any batch is computed from its index alone.
   */
  static <E> BatchSource<List<E>> shuffled(Dataset<E> data, int batchSize) {
    return new Shuffled<>(data, batchSize, true);
  }

  /** As {@link #shuffled} but in the dataset's own order, epoch after epoch. */
  static <E> BatchSource<List<E>> inOrder(Dataset<E> data, int batchSize) {
    return new Shuffled<>(data, batchSize, false);
  }

  /**
   * Batches read one after another from an iterator (a stream or a generator): batch i is the i-th
   * element of {@code iterators.get()}. A request for an earlier index (a resumed run) starts a new
   * iterator and skips to it, so the iterator must yield the same sequence every time.
   */
  static <B> BatchSource<B> sequential(Supplier<Iterator<B>> iterators) {
    return new BatchSource<>() {
      private Iterator<B> it;
      private long next;

      @Override
      public synchronized B batch(long index, long seed) {
        if (it == null || index < next) {
          it = iterators.get();
          next = 0;
        }
        while (next < index) {
          if (!it.hasNext()) {
            throw new TrainException("the batch iterator ended after " + next + " batches; batch " + index + " was asked for");
          }
          it.next();
          next++;
        }
        if (!it.hasNext()) {
          throw new TrainException("the batch iterator ended after " + next + " batches; batch " + index + " was asked for");
        }
        next++;
        return it.next();
      }
    };
  }

  /** The examples of a training set, by index (a list, files on disk, or scenes rendered from their index). */
  interface Dataset<E> {
    int size();

    E get(int index);

    static <E> Dataset<E> of(List<E> list) {
      return new Dataset<>() {
        @Override
        public int size() {
          return list.size();
        }

        @Override
        public E get(int index) {
          return list.get(index);
        }
      };
    }
  }

  /** {@link #shuffled} and {@link #inOrder}. */
  final class Shuffled<E> implements BatchSource<List<E>> {
    private final Dataset<E> data;
    private final int batchSize;
    private final boolean shuffle;
    private long cachedEpoch = -1;
    private long cachedSeed;
    private int[] order;

    Shuffled(Dataset<E> data, int batchSize, boolean shuffle) {
      if (batchSize < 1) {
        throw new TrainException("batch size must be at least 1, got " + batchSize);
      }
      if (data.size() < 1) {
        throw new TrainException("the dataset is empty");
      }
      this.data = data;
      this.batchSize = batchSize;
      this.shuffle = shuffle;
    }

    @Override
    public synchronized List<E> batch(long index, long seed) {
      int n = data.size();
      List<E> out = new ArrayList<>(batchSize);
      for (int k = 0; k < batchSize; k++) {
        long pos = index * batchSize + k;
        long epoch = pos / n;
        int within = (int) (pos % n);
        out.add(data.get(shuffle ? permutation(epoch, seed)[within] : within));
      }
      return out;
    }

    /** The order of epoch {@code epoch}: a Fisher-Yates shuffle drawn from (seed, epoch). */
    private int[] permutation(long epoch, long seed) {
      if (epoch != cachedEpoch || seed != cachedSeed || order == null) {
        int n = data.size();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
          p[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, 0x5EED_DA7AL, epoch));
        for (int i = n - 1; i > 0; i--) {
          int j = rng.nextInt(i + 1);
          int t = p[i];
          p[i] = p[j];
          p[j] = t;
        }
        order = p;
        cachedEpoch = epoch;
        cachedSeed = seed;
      }
      return order;
    }
  }
}
