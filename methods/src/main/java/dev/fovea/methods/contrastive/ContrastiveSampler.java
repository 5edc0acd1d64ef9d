package dev.fovea.methods.contrastive;

import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.Uniforms;
import java.util.List;

/**
 * The next token of a contrastive step, in the order both reference codes apply it (VCD
 * {@code vcd_sample.py}, AvisC {@code avisc_sample.py}; spec 2.5, 3.2):
 *
 * <ol>
 *   <li>{@code d = (1 + alpha) z - alpha z'} with z the first branch's newest logits and z' the
 *       second's; where z' holds a NaN the whole step uses z instead (AvisC's fallback);
 *   <li>the adaptive plausibility cut on the first branch: {@code d_j = -inf} where {@code z_j <
 *       log(beta) + max z};
 *   <li>the processors and warpers of {@link Sampler} (repetition penalty, temperature, top-k,
 *       top-p), a softmax and one draw (or the argmax when greedy).
 * </ol>
 *
 * Raw logits and log-probabilities give the same result (a constant per branch shifts d by a
 * constant and moves the cut with max z), so either may be passed.
 */
public final class ContrastiveSampler {
  private final ContrastiveConfig config;
  private final LogitsCombiner combiner;
  private final Sampler sampler;

  /** Seeded draws ({@link ContrastiveConfig#seed()}). */
  public ContrastiveSampler(ContrastiveConfig config) {
    this(config, Uniforms.seeded(config.seed()));
  }

  /** Given draws, e.g. a reference's recorded ones. */
  public ContrastiveSampler(ContrastiveConfig config, Uniforms uniforms) {
    this.config = config;
    this.combiner = LogitsCombiner.contrastive(config.alpha(), config.beta());
    this.sampler = new Sampler(config.sampling(), uniforms);
  }

  public ContrastiveConfig config() {
    return config;
  }

  /** Steps 1 and 2: the contrasted logits of two branches ({@code -inf} outside the plausible set). */
  public float[] contrast(float[] z, float[] zPrime) {
    if (z.length != zPrime.length) {
      throw new ContrastiveException("the branches' logits have " + z.length + " and " + zPrime.length + " entries");
    }
    return combiner.combine(List.of(z, zPrime));
  }

  /** The next token given both branches' newest logits and the ids seen so far (for the repetition penalty). */
  public int next(float[] z, float[] zPrime, int[] history) {
    return sampler.sample(contrast(z, zPrime), history);
  }

  /** Steps 1 and 2 as the generator's combiner (two branches). */
  public LogitsCombiner combiner() {
    return combiner;
  }

  /** Step 3 as the generator's sampler. */
  public Sampler sampler() {
    return sampler;
  }
}
