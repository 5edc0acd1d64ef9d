package dev.fovea.nn.train;

import java.nio.file.Path;

/** Called by {@link Trainer} after every step and checkpoint (on the training thread). */
public interface TrainingListener {
  /** One optimizer step is done. */
  void onStep(StepReport report);

  /** A checkpoint folder was written (and renamed into place). */
  default void onCheckpoint(long step, Path folder) {}

  /**
   * What one step did.
   *
   * @param step steps done so far (1 after the first update)
   * @param totalSteps the run's length
   * @param loss the step's loss: the mean of its micro-batches' losses (before the update)
   * @param lr the learning rate of the first parameter group at this step
   * @param gradNorm the global L2 norm of the accumulated gradient, before clipping
   * @param clipped whether clipping scaled the gradient down
   * @param examples examples in the step (all micro-batches)
   * @param tokens tokens in the step (0 when the run does not count them)
   * @param seconds wall time of the step (forward, backward, clipping and update; not the checkpoint)
   * @param elapsed wall time since the run (or the resumed run) started
   * @param scopeBytes bytes the step's scopes allocated (constant from step to step when nothing leaks)
   */
  record StepReport(long step, long totalSteps, double loss, double lr, double gradNorm, boolean clipped, long examples, long tokens,
      double seconds, double elapsed, long scopeBytes) {
    public double examplesPerSecond() {
      return seconds > 0 ? examples / seconds : 0;
    }

    public double tokensPerSecond() {
      return seconds > 0 ? tokens / seconds : 0;
    }
  }
}
