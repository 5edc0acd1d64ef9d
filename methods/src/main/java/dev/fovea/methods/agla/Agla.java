package dev.fovea.methods.agla;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.methods.contrastive.ImagePair;
import dev.fovea.methods.contrastive.StepListener;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.function.Consumer;

/**
 * AGLA's decoding on LLaVA-1.5 (spec methods-abs-agla.md B.7, B.8): the original and the augmented
 * (masked) image go through the vision tower in one batch, and the two prompts (same ids) decode as
 * the two rows of one batched state, or as two states ({@link GenerationConfig#batchBranches}), each
 * with its own KV cache; every step draws from {@link Assembly}. The mask itself comes from {@link
 * ImagePromptMatching}; here both images arrive preprocessed by the LLaVA's processor.
 *
 * <pre>{@code
 * Agla agla = new Agla(llava, AglaConfig.DEFAULT);
 * Agla.Result r = agla.run(ids, pixels, augmentedPixels, GenerationConfig.maxNewTokens(64), tokenizer, null);
 * }</pre>
 */
public final class Agla {
  private final CausalLM model;
  private final LlavaForConditionalGeneration llava;
  private final InstructBlipForConditionalGeneration instructBlip;
  private final AglaConfig config;
  private final StepListener listener;

  public Agla(LlavaForConditionalGeneration model, AglaConfig config) {
    this(model, model, null, config, StepListener.NONE);
  }

  /** AGLA on InstructBLIP: the masked image goes through ViT and Q-Former (same instruction) for the second branch. */
  public Agla(InstructBlipForConditionalGeneration model, AglaConfig config) {
    this(model, null, model, config, StepListener.NONE);
  }

  private Agla(CausalLM model, LlavaForConditionalGeneration llava, InstructBlipForConditionalGeneration instructBlip, AglaConfig config,
      StepListener listener) {
    this.model = model;
    this.llava = llava;
    this.instructBlip = instructBlip;
    this.config = config;
    this.listener = listener;
  }

  /** This method with {@code l} told of every step's branch logits and assembled logits. */
  public Agla observed(StepListener l) {
    return new Agla(model, llava, instructBlip, config, l);
  }

  public AglaConfig config() {
    return config;
  }

  /**
   * @param generation the answer
   * @param encodeNanos encoding both images
   */
  public record Result(Generator.Result generation, long encodeNanos) {}

  /** Draws from the configured seed. */
  public Result run(int[] ids, Tensor pixels, Tensor augmented, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText) {
    return run(ids, pixels, augmented, Uniforms.seeded(config.seed()), generation, tokenizer, onText);
  }

  /**
   * @param ids the prompt with one {@code <image>} marker per image
   * @param pixels the original images, preprocessed [n, 3, S, S]
   * @param augmented the masked images through the same processor, [n, 3, S, S]
   * @param uniforms the draws (a reference's recorded ones in tests)
   */
  public Result run(int[] ids, Tensor pixels, Tensor augmented, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer,
      Consumer<String> onText) {
    if (pixels == null || pixels.size(0) == 0) {
      throw new AglaException("AGLA assembles the answer on the original and a masked image: the prompt needs an image");
    }
    if (augmented == null || !java.util.Arrays.equals(pixels.shape(), augmented.shape())) {
      throw new AglaException("AGLA: the augmented images " + (augmented == null ? "are missing" : java.util.Arrays.toString(augmented.shape()))
          + "; they must have the originals' shape " + java.util.Arrays.toString(pixels.shape()));
    }
    if (llava == null) {
      throw new AglaException("AGLA on InstructBLIP needs the Q-Former's instruction ids: use run(ids, qformerIds, pixels, augmented, ...)");
    }
    try (Scope scope = Scope.open()) {
      long t0 = System.nanoTime();
      return decode(ImagePair.llava(llava, ids, pixels, augmented), uniforms, generation, tokenizer, onText, t0);
    }
  }

  /**
   * InstructBLIP: one image [1, 3, S, S] and its masked copy through BlipImageProcessor; both
   * branches read the same prompt and the same Q-Former instruction.
   */
  public Result run(int[] ids, int[] qformerIds, Tensor pixels, Tensor augmented, Uniforms uniforms, GenerationConfig generation,
      TextTokenizer tokenizer, Consumer<String> onText) {
    if (instructBlip == null) {
      throw new AglaException("this AGLA was made for LLaVA; Q-Former ids belong to InstructBLIP");
    }
    if (pixels == null || pixels.size(0) != 1 || augmented == null || !java.util.Arrays.equals(pixels.shape(), augmented.shape())) {
      throw new AglaException("AGLA on InstructBLIP assembles one image [1, 3, S, S] with its masked copy of the same shape");
    }
    try (Scope scope = Scope.open()) {
      long t0 = System.nanoTime();
      return decode(ImagePair.instructBlip(instructBlip, ids, qformerIds, pixels, augmented), uniforms, generation, tokenizer, onText, t0);
    }
  }

  private Result decode(ImagePair inputs, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText,
      long t0) {
    long t1 = System.nanoTime();
    LogitsCombiner combiner = listener.observing(Assembly.of(config));
    Generator.Result r = Generator.generate(inputs.branches(model), combiner, generation, new Sampler(config.sampling(), uniforms), tokenizer,
        onText);
    return new Result(r, t1 - t0);
  }
}
