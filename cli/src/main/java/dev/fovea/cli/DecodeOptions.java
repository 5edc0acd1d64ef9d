package dev.fovea.cli;

import dev.fovea.llm.instructblip.InstructBlipException;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.methods.agla.Agla;
import dev.fovea.methods.agla.AglaConfig;
import dev.fovea.methods.agla.ImagePromptMatching;
import dev.fovea.methods.avc.Avc;
import dev.fovea.methods.avc.AvcConfig;
import dev.fovea.methods.avc.BlindTokens;
import dev.fovea.methods.contrastive.ContrastiveConfig;
import dev.fovea.methods.vcd.DiffusionNoise;
import dev.fovea.methods.vcd.Vcd;
import dev.fovea.methods.vcd.VcdConfig;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.blip.BlipConfig;
import dev.fovea.vit.blip.BlipForImageTextRetrieval;
import dev.fovea.vit.blip.BlipText;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --decode none|vcd|avc|agla} and the two-branch methods' parameters, shared by {@code ask}
 * and {@code eval pope|mme}: one place turns them into a VCD, AVC or AGLA run over a prepared LLaVA
 * prompt. AGLA's BLIP model is opened on first use and closed by {@link #close}.
 */
final class DecodeOptions implements AutoCloseable {
  enum Decode {
    NONE,
    VCD,
    AVC,
    AGLA
  }

  /** The environment variable naming AGLA's BLIP folder when {@code --blip} is not given. */
  static final String BLIP_ENV = "FOVEA_BLIP";

  @Option(names = "--decode", paramLabel = "METHOD", converter = DecodeConverter.class,
      description = "LLaVA decoding: none (plain), vcd (visual contrastive decoding, a diffusion-noised image as second branch), avc (attentional vision calibration, blind image tokens only as second branch) or agla (assembly with the image masked where BLIP finds it irrelevant to the question; needs --blip); vcd, avc and agla sample at temperature 1 unless --temperature is given (default: none)")
  Decode decode = Decode.NONE;

  @Option(names = "--alpha", paramLabel = "A", description = "vcd/avc: contrast weight in (1+A) z - A z' (default: 1); agla: weight of the masked branch in z + A z' (default: 2); 0 to " + ContrastiveConfig.MAX_ALPHA)
  Float alpha;

  @Option(names = "--beta", paramLabel = "B", description = "vcd/avc/agla: plausibility cut, tokens below B times the top probability of the first branch are never drawn, in (0, 1] (default: 0.1; agla 0.5)")
  Float beta;

  @Option(names = "--blip", paramLabel = "DIR", description = "agla: BLIP image-text-matching folder (config.json, weights under HF or LAVIS names, vocab.txt), e.g. Salesforce/blip-itm-large-coco (default: $" + BLIP_ENV + ")")
  Path blip;

  @Option(names = "--blip-layer", paramLabel = "L", description = "agla: the BLIP text layer whose cross-attention the GradCAM reads, 0 to its layers - 1 (default: 6)")
  Integer blipLayer;

  @Option(names = "--blip-cls", description = "agla: keep [CLS] at the start of the ITM text as Hugging Face's BlipForImageTextRetrieval does (default: [ENC], as the original BLIP and AGLA)")
  boolean blipCls;

  @Option(names = "--agla-reference-cache", description = "agla: reproduce the released AGLA code's cache sharing (only the first token sees the masked image); for comparing with its numbers")
  boolean aglaReferenceCache;

  @Option(names = "--noise-step", paramLabel = "T", description = "vcd: diffusion step of the distorted image, 0 to 999 (default: 500)")
  Integer noiseStep;

  @Option(names = "--lambda", paramLabel = "L", description = "avc: blind tokens have attention >= mean + L std, -" + AvcConfig.MAX_LAMBDA + " to " + AvcConfig.MAX_LAMBDA + " (default: 1)")
  Float lambda;

  @Option(names = "--layer-p", paramLabel = "P", description = "avc: the fewest layers holding share P of the image attention, in (0, 1] (default: 0.5)")
  Float layerP;

  @Option(names = "--fill", paramLabel = "F", description = "avc: what replaces the non-blind image embeddings: zeros, ones or noise (default: zeros)")
  String fill;

  @Option(names = "--vcd-reference-cache", description = "vcd: reproduce the released VCD code's cache reuse (only the first token is contrasted); for comparing with its numbers")
  boolean referenceCache;

  @Option(names = "--sequential-branches", description = "vcd/avc: run the two branches one after the other, as the reference codes do, instead of as one batch")
  boolean sequential;

  static final class DecodeConverter implements CommandLine.ITypeConverter<Decode> {
    @Override
    public Decode convert(String value) {
      for (Decode d : Decode.values()) {
        if (d.name().equalsIgnoreCase(value)) {
          return d;
        }
      }
      throw new CommandLine.TypeConversionException("--decode must be none, vcd, avc or agla, got \"" + value + "\"");
    }
  }

  boolean contrastive() {
    return decode != Decode.NONE;
  }

  /** The method's name as the command line gives it. */
  String name() {
    return decode.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The method's parameters as a results file's settings (a resume with other values is refused):
   * every parameter the method reads, defaults included.
   */
  Map<String, String> settings() {
    Map<String, String> m = new LinkedHashMap<>();
    if (decode == Decode.NONE) {
      return m;
    }
    if (decode == Decode.AGLA) {
      AglaConfig a = aglaConfig(ContrastiveConfig.REFERENCE_SAMPLING, 0);
      m.put("alpha", Float.toString(a.alpha()));
      m.put("beta", Float.toString(a.beta()));
      m.put("blip", blipFolder().toAbsolutePath().normalize().toString());
      m.put("blip_layer", Integer.toString(a.layer()));
      m.put("itm_first_token", a.convention() == BlipText.Convention.ORIGINAL ? "[ENC]" : "[CLS]");
      m.put("reference_cache_reuse", Boolean.toString(a.referenceCacheReuse()));
      return m;
    }
    // the sampling and the seed are settings of their own; the method's parameters come from the config it runs with
    ContrastiveConfig c = contrast(ContrastiveConfig.REFERENCE_SAMPLING, 0);
    m.put("alpha", Float.toString(c.alpha()));
    m.put("beta", Float.toString(c.beta()));
    if (decode == Decode.VCD) {
      VcdConfig v = vcdConfig(c);
      m.put("noise_step", Integer.toString(v.noiseStep()));
      m.put("reference_cache_reuse", Boolean.toString(v.referenceCacheReuse()));
    } else {
      AvcConfig v = avcConfig(c);
      m.put("lambda", Float.toString(v.lambda()));
      m.put("layer_p", Float.toString(v.layerP()));
      m.put("fill", v.fill().name().toLowerCase(Locale.ROOT));
    }
    return m;
  }


  /** Ranges, and parameters given without the method that reads them. */
  void check(CommandSpec spec) {
    if (alpha != null) {
      OptionRange.check(spec, "--alpha", alpha, 0f, false, ContrastiveConfig.MAX_ALPHA);
    }
    if (beta != null) {
      OptionRange.check(spec, "--beta", beta, 0f, true, 1f);
    }
    if (noiseStep != null) {
      OptionRange.check(spec, "--noise-step", noiseStep, 0, DiffusionNoise.STEPS - 1);
    }
    if (lambda != null) {
      OptionRange.check(spec, "--lambda", lambda, -AvcConfig.MAX_LAMBDA, false, AvcConfig.MAX_LAMBDA);
    }
    if (layerP != null) {
      OptionRange.check(spec, "--layer-p", layerP, 0f, true, 1f);
    }
    if (fill != null) {
      try {
        AvcConfig.Fill.named(fill);
      } catch (RuntimeException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--fill must be zeros, ones or noise, got \"" + fill + "\"");
      }
    }
    requireMethod(spec, alpha != null, "--alpha", decode != Decode.NONE, "vcd, avc or agla");
    requireMethod(spec, beta != null, "--beta", decode != Decode.NONE, "vcd, avc or agla");
    requireMethod(spec, sequential, "--sequential-branches", decode != Decode.NONE, "vcd, avc or agla");
    requireMethod(spec, blip != null, "--blip", decode == Decode.AGLA, "agla");
    requireMethod(spec, blipLayer != null, "--blip-layer", decode == Decode.AGLA, "agla");
    requireMethod(spec, blipCls, "--blip-cls", decode == Decode.AGLA, "agla");
    requireMethod(spec, aglaReferenceCache, "--agla-reference-cache", decode == Decode.AGLA, "agla");
    if (blipLayer != null) {
      OptionRange.check(spec, "--blip-layer", blipLayer, 0, BlipConfig.MAX_LAYERS - 1);
    }
    if (decode == Decode.AGLA) {
      Path folder = blipFolder();
      if (folder == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--decode agla needs --blip DIR (a BLIP image-text-matching folder such as"
            + " Salesforce/blip-itm-large-coco) or the environment variable " + BLIP_ENV);
      }
      EvalResultsOptions.requireFolder(spec, blip != null ? "--blip" : "$" + BLIP_ENV, folder);
    }
    this.spec = spec;
    requireMethod(spec, noiseStep != null, "--noise-step", decode == Decode.VCD, "vcd");
    requireMethod(spec, referenceCache, "--vcd-reference-cache", decode == Decode.VCD, "vcd");
    requireMethod(spec, lambda != null, "--lambda", decode == Decode.AVC, "avc");
    requireMethod(spec, layerP != null, "--layer-p", decode == Decode.AVC, "avc");
    requireMethod(spec, fill != null, "--fill", decode == Decode.AVC, "avc");
  }

  private CommandSpec spec;
  private BlipForImageTextRetrieval.Loaded blipModel;
  private BlipText blipText;
  private List<RgbImage> lastMasked = List.of();

  /** --blip, else $FOVEA_BLIP, else null. */
  Path blipFolder() {
    if (blip != null) {
      return blip;
    }
    String env = System.getenv(BLIP_ENV);
    return env == null || env.isBlank() ? null : Path.of(env);
  }

  /** AGLA's configuration: the defaults with the options given. */
  AglaConfig aglaConfig(SamplingConfig sampling, long seed) {
    AglaConfig c = AglaConfig.DEFAULT.withSampling(sampling).withSeed(seed).withReferenceCacheReuse(aglaReferenceCache)
        .withConvention(blipCls ? BlipText.Convention.HF : BlipText.Convention.ORIGINAL);
    if (alpha != null) {
      c = c.withAlpha(alpha);
    }
    if (beta != null) {
      c = c.withBeta(beta);
    }
    if (blipLayer != null) {
      c = c.withLayer(blipLayer);
    }
    return c;
  }

  /** The BLIP model, opened on first use; --blip-layer checked against its text layers. */
  private BlipForImageTextRetrieval openBlip(AglaConfig config) {
    if (blipModel == null) {
      blipModel = BlipForImageTextRetrieval.open(blipFolder());
      blipText = BlipText.load(blipFolder());
      if (spec != null) {
        OptionRange.check(spec, "--blip-layer", config.layer(), 0, blipModel.model().config.text().numHiddenLayers() - 1, "the BLIP text layers");
      }
    }
    return blipModel.model();
  }

  /**
   * AGLA's BLIP on {@code device}, the answering model's: moved there once (its weights copied
   * once, {@code Module.to}), so the scorer runs beside a LLaVA or InstructBLIP on a GPU.
   */
  private BlipForImageTextRetrieval blipOn(AglaConfig config, dev.fovea.tensor.Device device) {
    BlipForImageTextRetrieval b = openBlip(config);
    if (!b.device().equals(device)) {
      b.to(device);
    }
    return b;
  }

  /**
   * Opens what the method needs beside the LLaVA (AGLA's BLIP) and checks the ranges it sets
   * ({@code --blip-layer}), so that a refused setting stops a run before it writes anything.
   */
  void load() {
    if (decode == Decode.AGLA) {
      openBlip(aglaConfig(ContrastiveConfig.REFERENCE_SAMPLING, 0));
    }
  }

  /** The masked images of the last AGLA answer (for {@code ask --mask-out}). */
  List<RgbImage> lastMasked() {
    return lastMasked;
  }

  @Override
  public void close() {
    if (blipModel != null) {
      blipModel.close();
      blipModel = null;
    }
  }

  private void requireMethod(CommandSpec spec, boolean given, String option, boolean ok, String methods) {
    if (given && !ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " needs --decode " + methods + " (got --decode "
          + decode.name().toLowerCase(Locale.ROOT) + ")");
    }
  }

  /**
   * The sampling of a contrastive run: the user's when a temperature was given, else the
   * references' direct sampling at temperature 1 (with the user's top-k, top-p, penalty).
   */
  static SamplingConfig contrastiveSampling(Float temperature, SamplingConfig user) {
    return temperature != null ? user : new SamplingConfig(1f, user.topK(), user.topP(), user.repetitionPenalty());
  }

  ContrastiveConfig contrast(SamplingConfig sampling, long seed) {
    ContrastiveConfig c = ContrastiveConfig.DEFAULT.withSampling(sampling).withSeed(seed);
    if (alpha != null) {
      c = c.withAlpha(alpha);
    }
    if (beta != null) {
      c = c.withBeta(beta);
    }
    return c;
  }

  /** VCD's configuration: the defaults with the options given. */
  VcdConfig vcdConfig(ContrastiveConfig contrast) {
    return new VcdConfig(contrast, noiseStep == null ? VcdConfig.DEFAULT.noiseStep() : noiseStep, referenceCache);
  }

  /** AVC's configuration: the defaults with the options given. */
  AvcConfig avcConfig(ContrastiveConfig contrast) {
    AvcConfig config = AvcConfig.DEFAULT.withContrast(contrast);
    if (lambda != null) {
      config = config.withLambda(lambda);
    }
    if (layerP != null) {
      config = config.withLayerP(layerP);
    }
    if (fill != null) {
      config = config.withFill(AvcConfig.Fill.named(fill));
    }
    return config;
  }

  /**
   * InstructBLIP: answers one image ({@code pixels} [1, 3, S, S]) with plain decoding, VCD (the
   * noised image through ViT + Q-Former as second branch), AVC (over the query positions) or AGLA
   * ({@code agla}: the raw image, BLIP's question and the InstructBLIP pipeline for the masked copy).
   */
  Answer answerInstructBlip(InstructBlipForConditionalGeneration lm, int[] ids, int[] qformerIds, Tensor pixels, AglaInput agla,
      GenerationConfig generation, SamplingConfig sampling, long seed, TextTokenizer tokenizer, Consumer<String> onText) {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("decode", name());
    GenerationConfig g = generation.withBatchBranches(!sequential);
    switch (decode) {
      case NONE -> {
        Inputs prepared = lm.prepare(ids, qformerIds, pixels).toInputs();
        return new Answer(Generator.generate(lm, prepared, generation, Sampler.seeded(sampling, seed), tokenizer, onText), report);
      }
      case VCD -> {
        VcdConfig config = vcdConfig(contrast(sampling, seed));
        Tensor noise = dev.fovea.methods.vcd.DiffusionNoise.gaussian(config.contrast().seed(), pixels.shape());
        Vcd.Result r = new Vcd(lm, config).run(ids, qformerIds, pixels, noise, dev.fovea.llm.generate.Uniforms.seeded(config.contrast().seed()), g,
            tokenizer, onText);
        putVcd(report, config, r.distortNanos());
        return new Answer(r.generation(), report);
      }
      case AVC -> {
        AvcConfig config = avcConfig(contrast(sampling, seed));
        var in = lm.prepare(ids, qformerIds, pixels);
        Avc.Result r = new Avc(lm, config).run(in, dev.fovea.llm.generate.Uniforms.seeded(config.contrast().seed()), g, tokenizer, onText);
        putAvc(report, config, r.blind());
        return new Answer(r.generation(), report);
      }
      case AGLA -> {
        if (agla == null || agla.images().size() != 1) {
          throw new InstructBlipException("--decode agla on InstructBLIP: the caller passed no raw image");
        }
        AglaConfig config = aglaConfig(sampling, seed);
        ImagePromptMatching ipm = new ImagePromptMatching(blipOn(config, lm.device()), blipText, config);
        ImagePromptMatching.Result m = ipm.match(agla.images().get(0), agla.question());
        lastMasked = List.of(m.augmented());
        Tensor augmented = new ImageProcessor(agla.preprocessing()).process(m.augmented()).unsqueeze(0);
        Agla.Result r = new Agla(lm, config).run(ids, qformerIds, pixels, augmented, dev.fovea.llm.generate.Uniforms.seeded(config.seed()), g,
            tokenizer, onText);
        report.put("alpha", config.alpha());
        report.put("beta", config.beta());
        report.put("temperature", config.sampling().temperature());
        report.put("seed", config.seed());
        report.put("blip_layer", config.layer());
        report.put("itm_first_token", config.convention() == BlipText.Convention.ORIGINAL ? "[ENC]" : "[CLS]");
        report.put("itc", List.of(m.itc()));
        report.put("kept_share", List.of(Math.round(1e4 * m.kept() / (double) m.keep().length) / 1e4));
        report.put("ipm_ms", VicropCommand.millis(m.nanos()));
        report.put("encode_ms", VicropCommand.millis(r.encodeNanos()));
        return new Answer(r.generation(), report);
      }
      default -> throw new IllegalStateException("unreachable");
    }
  }

  /** An answer and what the method reports beside it (parameters, blind tokens, per-step times). */
  record Answer(Generator.Result generation, Map<String, Object> report) {}

  /**
   * Answers a prompt ({@code ids} with the image markers, {@code pixels} [n, 3, S, S], or null for a
   * text-only prompt with plain decoding) with the chosen decoding. Allocates in the current scope.
   */
  Answer answer(LlavaForConditionalGeneration lm, int[] ids, Tensor pixels, GenerationConfig generation, SamplingConfig sampling, long seed,
      TextTokenizer tokenizer, Consumer<String> onText) {
    return answer(lm, ids, pixels, null, generation, sampling, seed, tokenizer, onText);
  }

  /**
   * What AGLA reads beyond the pixels: the raw images, the question BLIP scores them against (the
   * benchmark's question without the answer-format suffix, spec B.2), and the LLaVA pipeline that
   * made the pixels (the masked images go through it too).
   */
  record AglaInput(List<RgbImage> images, String question, PreprocessorConfig preprocessing) {}

  /** As {@link #answer(LlavaForConditionalGeneration, int[], Tensor, GenerationConfig, SamplingConfig, long, TextTokenizer, Consumer)}; {@code agla} is required by {@code --decode agla}. */
  Answer answer(LlavaForConditionalGeneration lm, int[] ids, Tensor pixels, AglaInput agla, GenerationConfig generation, SamplingConfig sampling,
      long seed, TextTokenizer tokenizer, Consumer<String> onText) {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("decode", name());
    GenerationConfig g = generation.withBatchBranches(!sequential);
    switch (decode) {
      case NONE -> {
        Inputs prepared = lm.prepare(ids, pixels).toInputs();
        return new Answer(Generator.generate(lm, prepared, generation, Sampler.seeded(sampling, seed), tokenizer, onText), report);
      }
      case VCD -> {
        VcdConfig config = vcdConfig(contrast(sampling, seed));
        Vcd.Result r = new Vcd(lm, config).run(ids, pixels, g, tokenizer, onText);
        putVcd(report, config, r.distortNanos());
        return new Answer(r.generation(), report);
      }
      case AVC -> {
        AvcConfig config = avcConfig(contrast(sampling, seed));
        Avc.Result r = new Avc(lm, config).run(ids, pixels, g, tokenizer, onText);
        putAvc(report, config, r.blind());
        return new Answer(r.generation(), report);
      }
      case AGLA -> {
        if (agla == null || agla.images().isEmpty()) {
          throw new IllegalStateException("--decode agla: the caller passed no raw images");
        }
        AglaConfig config = aglaConfig(sampling, seed);
        ImagePromptMatching ipm = new ImagePromptMatching(blipOn(config, lm.device()), blipText, config);
        List<RgbImage> masked = new ArrayList<>();
        List<Double> itc = new ArrayList<>();
        List<Double> keptShare = new ArrayList<>();
        long ipmNanos = 0;
        for (RgbImage img : agla.images()) {
          ImagePromptMatching.Result m = ipm.match(img, agla.question());
          masked.add(m.augmented());
          itc.add(m.itc());
          keptShare.add(Math.round(1e4 * m.kept() / (double) m.keep().length) / 1e4);
          ipmNanos += m.nanos();
        }
        lastMasked = List.copyOf(masked);
        Tensor augmented = new ImageProcessor(agla.preprocessing()).processBatch(masked);
        Agla.Result r = new Agla(lm, config).run(ids, pixels, augmented, g, tokenizer, onText);
        report.put("alpha", config.alpha());
        report.put("beta", config.beta());
        report.put("temperature", config.sampling().temperature());
        report.put("seed", config.seed());
        report.put("blip_layer", config.layer());
        report.put("itm_first_token", config.convention() == BlipText.Convention.ORIGINAL ? "[ENC]" : "[CLS]");
        report.put("reference_cache_reuse", config.referenceCacheReuse());
        report.put("itc", itc);
        report.put("kept_share", keptShare);
        report.put("ipm_ms", VicropCommand.millis(ipmNanos));
        report.put("encode_ms", VicropCommand.millis(r.encodeNanos()));
        return new Answer(r.generation(), report);
      }
      default -> throw new IllegalStateException("unreachable");
    }
  }

  /** What an AVC answer reports (LLaVA and InstructBLIP alike): its settings and the blind set. */
  private static void putAvc(Map<String, Object> report, AvcConfig config, BlindTokens b) {
    putContrast(report, config.contrast());
    report.put("layer_p", config.layerP());
    report.put("lambda", config.lambda());
    report.put("fill", config.fill().name().toLowerCase(Locale.ROOT));
    report.put("layers", b.layers());
    report.put("blind_tokens", b.blind());
    report.put("blind_positions", b.blindPositions());
    report.put("blind_threshold", b.threshold());
  }

  /** What a VCD answer reports (LLaVA and InstructBLIP alike): its settings and the distortion's time. */
  private static void putVcd(Map<String, Object> report, VcdConfig config, long distortNanos) {
    putContrast(report, config.contrast());
    report.put("noise_step", config.noiseStep());
    report.put("reference_cache_reuse", config.referenceCacheReuse());
    report.put("distort_ms", VicropCommand.millis(distortNanos));
  }

  private static void putContrast(Map<String, Object> report, ContrastiveConfig c) {
    report.put("alpha", c.alpha());
    report.put("beta", c.beta());
    report.put("temperature", c.sampling().temperature());
    report.put("seed", c.seed());
  }

}
