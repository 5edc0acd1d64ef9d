package dev.fovea.methods.avc;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Lockstep;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.llm.llava.ImageSpan;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.methods.contrastive.ContrastiveException;
import dev.fovea.methods.contrastive.ContrastiveSampler;
import dev.fovea.methods.contrastive.StepListener;
import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * AVC on LLaVA-1.5 (spec 2). Per sample:
 *
 * <ol>
 *   <li>the original prompt is prefilled up to its last position with the fused attention, then the
 *       last position with an attention hook on every decoder layer, which keeps only that row's
 *       head mean over the image positions (the image positions come from the prepared prompt's
 *       spans, never a fixed offset);
 *   <li>{@link BlindTokens} picks the layers and the blind tokens, once;
 *   <li>the second branch is the same input embeddings with every non-blind image row replaced
 *       ({@link AvcConfig.Fill}); its prefill fills the other row of the same batched state;
 *   <li>both rows decode together, one forward per step ({@link Lockstep}), each step contrasted by
 *       the {@link ContrastiveSampler}.
 * </ol>
 *
 * With {@code GenerationConfig.batchBranches(false)} the branches are two separate states instead
 * (the references' layout; same numbers within rounding).
 */
public final class Avc {
  /** The vision-language model the branches decode with (LLaVA, or InstructBLIP over its query positions). */
  private final CausalLM model;
  /** Its LLaMA decoder (hooks, prefills). */
  private final LlamaForCausalLM lm;
  /** Set for LLaVA: prepares prompts with image markers ({@link #run(int[], Tensor, Uniforms, GenerationConfig, TextTokenizer, Consumer)}). */
  private final LlavaForConditionalGeneration llava;
  private final AvcConfig config;
  private final StepListener listener;

  public Avc(LlavaForConditionalGeneration model, AvcConfig config) {
    this(model, model.languageModel, model, config, StepListener.NONE);
  }

  /**
   * AVC on InstructBLIP (spec 2, "over the 32 query positions"): the image positions are the
   * prepared prompt's query span; answer with {@link #run(LlavaInputs, Uniforms, GenerationConfig, TextTokenizer, Consumer)}.
   */
  public Avc(InstructBlipForConditionalGeneration model, AvcConfig config) {
    this(model, model.languageModel, null, config, StepListener.NONE);
  }

  private Avc(CausalLM model, LlamaForCausalLM lm, LlavaForConditionalGeneration llava, AvcConfig config, StepListener listener) {
    this.model = model;
    this.lm = lm;
    this.llava = llava;
    this.config = config;
    this.listener = listener;
  }

  /** This method with {@code l} told of every step's logits. */
  public Avc observed(StepListener l) {
    return new Avc(model, lm, llava, config, l);
  }

  public AvcConfig config() {
    return config;
  }

  /**
   * @param blind the blind-token selection of this sample
   * @param prefillNanos image features, both prefills and the selection (the generation's own
   *     prefill time is this too)
   */
  public record Result(Generator.Result generation, BlindTokens blind, long prefillNanos) {}

  /** Answers with draws from the configured seed. */
  public Result run(int[] ids, Tensor pixels, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText) {
    return run(ids, pixels, Uniforms.seeded(config.contrast().seed()), generation, tokenizer, onText);
  }

  /**
   * @param ids the prompt with its {@code <image>} marker(s) ({@link dev.fovea.llm.llava.LlavaPrompt#tokenize})
   * @param pixels preprocessed images [n, 3, S, S]; the image positions of all of them count
   * @param uniforms the draws (a reference's recorded ones in tests)
   */
  public Result run(int[] ids, Tensor pixels, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText) {
    if (pixels == null || pixels.size(0) == 0) {
      throw new ContrastiveException("AVC calibrates the attention to image tokens: the prompt needs an image");
    }
    if (llava == null) {
      throw new ContrastiveException("AVC on this model answers prepared inputs (run(LlavaInputs, ...)); ids with image markers are LLaVA's");
    }
    try (Scope scope = Scope.open()) {
      long t0 = System.nanoTime();
      LlavaInputs in;
      try (var g = GradMode.disable()) {
        in = llava.prepare(ids, pixels);
      }
      return run(in, uniforms, generation, tokenizer, onText, t0);
    }
  }

  /**
   * Answers a prepared prompt (its image spans say which positions are visual: LLaVA's patches, or
   * InstructBLIP's Q query positions). The embeddings must outlive the call.
   */
  public Result run(LlavaInputs in, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText) {
    if (in.imageSpans().isEmpty()) {
      throw new ContrastiveException("AVC calibrates the attention to image tokens: the prompt needs an image");
    }
    try (Scope scope = Scope.open()) {
      return run(in, uniforms, generation, tokenizer, onText, System.nanoTime());
    }
  }

  private Result run(LlavaInputs in, Uniforms uniforms, GenerationConfig generation, TextTokenizer tokenizer, Consumer<String> onText, long t0) {
    {
      int t = in.length();
      int capacity = (int) Math.min(model.maxPositions(), (long) t + generation.maxNewTokens());
      boolean batched = generation.batchBranches();
      DecodeState batch = batched ? lm.newState(2, capacity) : null;
      DecodeState first = batched ? null : lm.newState(1, capacity);
      DecodeState second = null;
      try {
        BlindTokens blind = prefillOriginal(in, batched ? batch.row(0) : first);
        Tensor edited = edit(in.embeddings(), blind);
        if (batched) {
          lm.extend(batch.row(1), Inputs.embeddings(edited));
        } else {
          second = lm.prefill(Inputs.embeddings(edited), capacity);
        }
        long t1 = System.nanoTime();
        ContrastiveSampler sampler = new ContrastiveSampler(config.contrast(), uniforms);
        try (Lockstep lockstep = batched ? Lockstep.batched(model, batch) : Lockstep.sequential(List.of(model, model), List.of(first, second))) {
          batch = null;
          first = null;
          second = null;
          Generator.Result r = Generator.decode(lockstep, listener.observing(sampler.combiner()), generation, sampler.sampler(), tokenizer, onText);
          Generator.Result whole = r.withPrefill(t, t1 - t0);
          return new Result(whole, blind, t1 - t0);
        }
      } finally {
        for (DecodeState s : new DecodeState[] {batch, first, second}) {
          if (s != null) {
            s.close();
          }
        }
      }
    }
  }

  /**
   * Prefills the original prompt into {@code target} (the last position with the hook on every
   * layer) and picks the blind tokens from that row's attention.
   */
  private BlindTokens prefillOriginal(LlavaInputs in, DecodeState target) {
    int t = in.length();
    int[] positions = imagePositions(in);
    Tensor e = in.embeddings();
    if (t > 1) {
      lm.extend(target, Inputs.embeddings(e.narrow(1, 0, t - 1)));
    }
    int layers = lm.config.numHiddenLayers();
    double[][] headMean = new double[layers][];
    try (HookHandle h = lm.addAttentionHook("model.layers", AttentionHook.reading((ctx, p) -> {
      if (ctx.layerIndex() >= 0 && ctx.layerIndex() < layers) {
        headMean[ctx.layerIndex()] = lastRowHeadMean(p.toFloatArray(), ctx.heads(), ctx.keys(), positions);
      }
    }))) {
      lm.extend(target, Inputs.embeddings(e.narrow(1, t - 1, 1)));
    }
    for (int l = 0; l < layers; l++) {
      if (headMean[l] == null) {
        throw new ContrastiveException("AVC: decoder layer " + l + " gave no attention probabilities at the last prompt position");
      }
    }
    return BlindTokens.of(headMean, config.layerP(), config.lambda(), positions);
  }

  /** Every image position of the prepared prompt, in order. */
  static int[] imagePositions(LlavaInputs in) {
    List<ImageSpan> spans = in.imageSpans();
    int n = 0;
    for (ImageSpan s : spans) {
      n += s.end() - s.start();
    }
    int[] positions = new int[n];
    int k = 0;
    for (ImageSpan s : spans) {
      for (int p = s.start(); p < s.end(); p++) {
        positions[k++] = p;
      }
    }
    return positions;
  }

  /** Mean over heads of probabilities [1, H, 1, keys] at the given key positions. */
  static double[] lastRowHeadMean(float[] probs, int heads, int keys, int[] positions) {
    double[] out = new double[positions.length];
    for (int h = 0; h < heads; h++) {
      for (int i = 0; i < positions.length; i++) {
        out[i] += probs[h * keys + positions[i]];
      }
    }
    for (int i = 0; i < out.length; i++) {
      out[i] /= heads;
    }
    return out;
  }

  /** A copy of embeddings [1, T, C] with every non-blind image row replaced by the fill. */
  Tensor edit(Tensor embeddings, BlindTokens blind) {
    int t = embeddings.size(1);
    int c = embeddings.size(2);
    float[] v = embeddings.toFloatArray();
    SplittableRandom noise = new SplittableRandom(config.contrast().seed());
    for (int p : blind.nonBlindPositions()) {
      for (int j = 0; j < c; j++) {
        v[p * c + j] = switch (config.fill()) {
          case ZEROS -> 0f;
          case ONES -> 1f;
          case NOISE -> (float) noise.nextGaussian();
        };
      }
    }
    return Tensor.of(v, 1, t, c);
  }
}
