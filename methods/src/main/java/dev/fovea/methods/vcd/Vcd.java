package dev.fovea.methods.vcd;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.methods.contrastive.ContrastiveException;
import dev.fovea.methods.contrastive.ContrastiveSampler;
import dev.fovea.methods.contrastive.ImagePair;
import dev.fovea.methods.contrastive.StepListener;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.function.Consumer;

/**
 * VCD on LLaVA-1.5 (spec 3): the preprocessed images are distorted once per sample ({@link
 * DiffusionNoise}, noise drawn from the seed unless given), both versions go through the vision
 * tower in one batch, and the two prompts (same ids, same length) decode as the two rows of one
 * batched state: one forward per step for both branches ({@link dev.fovea.llm.generate.Lockstep}).
 *
 * <pre>{@code
 * Vcd vcd = new Vcd(model, VcdConfig.DEFAULT);
 * Vcd.Result r = vcd.run(ids, pixels, GenerationConfig.maxNewTokens(64), tokenizer, null);
 * }</pre>
 */
public final class Vcd {
  /** The model both branches decode with. */
  private final CausalLM model;
  /** Set for LLaVA ({@link #run(int[], Tensor, Tensor, Uniforms, GenerationConfig, TextTokenizer, Consumer)}). */
  private final LlavaForConditionalGeneration llava;
  /** Set for InstructBLIP ({@link #run(int[], int[], Tensor, Tensor, Uniforms, GenerationConfig, TextTokenizer, Consumer)}). */
  private final InstructBlipForConditionalGeneration instructBlip;
  private final VcdConfig config;
  private final StepListener listener;

  public Vcd(LlavaForConditionalGeneration model, VcdConfig config) {
    this(model, model, null, config, StepListener.NONE);
  }

  /** VCD on InstructBLIP: the distorted image goes through ViT and Q-Former, its Q projected queries feed the second branch. */
  public Vcd(InstructBlipForConditionalGeneration model, VcdConfig config) {
    this(model, null, model, config, StepListener.NONE);
  }

  private Vcd(CausalLM model, LlavaForConditionalGeneration llava, InstructBlipForConditionalGeneration instructBlip, VcdConfig config,
      StepListener listener) {
    this.model = model;
    this.llava = llava;
    this.instructBlip = instructBlip;
    this.config = config;
    this.listener = listener;
  }

  /** This method with {@code l} told of every step's logits. */
  public Vcd observed(StepListener l) {
    return new Vcd(model, llava, instructBlip, config, l);
  }

  public VcdConfig config() {
    return config;
  }

  /**
   * @param generation the answer's bounds (its {@code batchBranches} picks one batch or two states)
   * @param distortNanos drawing the noise and encoding both images
   */
  public record Result(Generator.Result generation, long distortNanos) {}

  /** Answers with noise and draws from the configured seed. */
  public Result run(int[] ids, Tensor pixels, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText) {
    Tensor noise = DiffusionNoise.gaussian(config.contrast().seed(), pixels.shape());
    return run(ids, pixels, noise, Uniforms.seeded(config.contrast().seed()), generation, tokenizer, onText);
  }

  /**
   * Answers with the given noise (pixels' shape) and draws, e.g. a reference's recorded ones.
   *
   * @param ids the prompt with one {@code <image>} marker per image ({@link dev.fovea.llm.llava.LlavaPrompt#tokenize})
   * @param pixels preprocessed images [n, 3, S, S]
   */
  public Result run(int[] ids, Tensor pixels, Tensor noise, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer,
      Consumer<String> onText) {
    if (pixels == null || pixels.size(0) == 0) {
      throw new ContrastiveException("VCD contrasts the answer with a distorted image: the prompt needs an image");
    }
    if (llava == null) {
      throw new ContrastiveException("VCD on InstructBLIP needs the Q-Former's instruction ids: use run(ids, qformerIds, pixels, ...)");
    }
    try (Scope scope = Scope.open()) {
      long t0 = System.nanoTime();
      ImagePair inputs;
      try (var g = GradMode.disable()) {
        inputs = ImagePair.llava(llava, ids, pixels, DiffusionNoise.distort(pixels, noise, config.noiseStep()));
      }
      return decode(inputs, uniforms, generation, tokenizer, onText, t0);
    }
  }

  /**
   * InstructBLIP: answers with the given noise (pixels' shape [1, 3, S, S]) and draws; both
   * branches read the same prompt ({@code </s>} first) and the same Q-Former instruction.
   */
  public Result run(int[] ids, int[] qformerIds, Tensor pixels, Tensor noise, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer,
      Consumer<String> onText) {
    if (instructBlip == null) {
      throw new ContrastiveException("this VCD was made for LLaVA; Q-Former ids belong to InstructBLIP");
    }
    if (pixels == null || pixels.size(0) != 1) {
      throw new ContrastiveException("VCD on InstructBLIP contrasts one image with its distorted copy: give pixels [1, 3, S, S]");
    }
    try (Scope scope = Scope.open()) {
      long t0 = System.nanoTime();
      ImagePair inputs;
      try (var g = GradMode.disable()) {
        inputs = ImagePair.instructBlip(instructBlip, ids, qformerIds, pixels, DiffusionNoise.distort(pixels, noise, config.noiseStep()));
      }
      return decode(inputs, uniforms, generation, tokenizer, onText, t0);
    }
  }

  private Result decode(ImagePair inputs, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText,
      long t0) {
    long t1 = System.nanoTime();
    ContrastiveSampler sampler = new ContrastiveSampler(config.contrast(), uniforms);
    LogitsCombiner combiner = listener.observing(config.referenceCacheReuse() ? firstStepOnly(sampler) : sampler.combiner());
    Generator.Result r = Generator.generate(inputs.branches(model), combiner, generation, sampler.sampler(), tokenizer, onText);
    return new Result(r, t1 - t0);
  }

  /**
   * The reference's cache reuse ({@link VcdConfig#referenceCacheReuse}): the first step contrasts
   * the two branches; every later step contrasts the first branch with itself, which is what the
   * released code computes from the second token on.
   */
  static LogitsCombiner firstStepOnly(ContrastiveSampler sampler) {
    boolean[] first = {true};
    return l -> {
      float[] z = l.get(0);
      float[] other = first[0] ? l.get(1) : z;
      first[0] = false;
      return sampler.contrast(z, other);
    };
  }
}
