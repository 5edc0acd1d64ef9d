package dev.fovea.nn.train;

/**
 * A learning-rate multiplier by step, as the lambda of PyTorch's {@code LambdaLR}: optimizer step
 * {@code s} (0-based: the s+1-th update) runs at {@code base_lr * factor(s)}. With a warm-up the
 * first update therefore runs at lr 0, as in the Hugging Face Trainer.
 */
@FunctionalInterface
public interface LrSchedule {
  /** The multiplier of the base learning rate at step {@code step} (0-based). */
  double factor(long step);

  /** A short description for logs and checkpoints. */
  default String describe() {
    return "custom";
  }

  /** Always 1. */
  static LrSchedule constant() {
    return new LrSchedule() {
      @Override
      public double factor(long step) {
        return 1.0;
      }

      @Override
      public String describe() {
        return "constant";
      }
    };
  }

  /** transformers' {@code get_cosine_schedule_with_warmup} (half a cosine from 1 to 0). */
  static LrSchedule cosineWithWarmup(long warmupSteps, long totalSteps) {
    return cosineWithWarmup(warmupSteps, totalSteps, 0.0);
  }

  /**
   * transformers' {@code get_cosine_with_min_lr_schedule_with_warmup} (optimization.py), with
   * {@code minLrRate} = min_lr / lr (0 gives {@link #cosineWithWarmup(long, long)}):
   *
   * <pre>
   * s &lt; warmup:  s / max(1, warmup)
   * otherwise:    p = (s - warmup) / max(1, total - warmup)
   *               f = 0.5 (1 + cos(pi p)) (1 - minLrRate) + minLrRate, at least 0
   * </pre>
   *
   * The one difference: past {@code totalSteps} the factor stays at the floor (transformers' cosine
   * would climb back up).
   */
  static LrSchedule cosineWithWarmup(long warmupSteps, long totalSteps, double minLrRate) {
    if (warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps) {
      throw new TrainException("cosine schedule: need 0 <= warmup (" + warmupSteps + ") <= total steps (" + totalSteps + "), total >= 1");
    }
    if (!(minLrRate >= 0 && minLrRate <= 1)) {
      throw new TrainException("cosine schedule: the min-lr rate must be within [0, 1], got " + minLrRate);
    }
    return new LrSchedule() {
      @Override
      public double factor(long step) {
        if (step < warmupSteps) {
          return (double) step / (double) Math.max(1, warmupSteps);
        }
        double progress = (double) (Math.min(step, totalSteps) - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps);
        double f = 0.5 * (1.0 + StrictMath.cos(Math.PI * 0.5 * 2.0 * progress));
        f = f * (1 - minLrRate) + minLrRate;
        return Math.max(0.0, f);
      }

      @Override
      public String describe() {
        return "cosine(warmup=" + warmupSteps + ", total=" + totalSteps + ", min_lr_rate=" + minLrRate + ")";
      }
    };
  }
}
