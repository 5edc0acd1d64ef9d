package dev.fovea.cli;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.methods.avc.Avc;
import dev.fovea.methods.avc.AvcConfig;
import dev.fovea.methods.avc.BlindTokens;
import dev.fovea.methods.contrastive.ContrastiveConfig;
import dev.fovea.methods.vcd.DiffusionNoise;
import dev.fovea.methods.vcd.Vcd;
import dev.fovea.methods.vcd.VcdConfig;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --decode none|vcd|avc} and the contrastive methods' parameters, shared by {@code ask} and
 * {@code eval pope}: one place turns them into a VCD or AVC run over a prepared LLaVA prompt.
 */
final class DecodeOptions {
  enum Decode {
    NONE,
    VCD,
    AVC
  }

  @Option(names = "--decode", paramLabel = "METHOD", converter = DecodeConverter.class,
      description = "LLaVA decoding: none (plain), vcd (visual contrastive decoding, a diffusion-noised image as second branch) or avc (attentional vision calibration, blind image tokens only as second branch); vcd and avc sample at temperature 1 unless --temperature is given (default: none)")
  Decode decode = Decode.NONE;

  @Option(names = "--alpha", paramLabel = "A", description = "vcd/avc: contrast weight in (1+A) z - A z', 0 to " + ContrastiveConfig.MAX_ALPHA + " (default: 1)")
  Float alpha;

  @Option(names = "--beta", paramLabel = "B", description = "vcd/avc: plausibility cut, tokens below B times the top probability are never drawn, in (0, 1] (default: 0.1)")
  Float beta;

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
      throw new CommandLine.TypeConversionException("--decode must be none, vcd or avc, got \"" + value + "\"");
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
    requireMethod(spec, alpha != null, "--alpha", decode != Decode.NONE, "vcd or avc");
    requireMethod(spec, beta != null, "--beta", decode != Decode.NONE, "vcd or avc");
    requireMethod(spec, sequential, "--sequential-branches", decode != Decode.NONE, "vcd or avc");
    requireMethod(spec, noiseStep != null, "--noise-step", decode == Decode.VCD, "vcd");
    requireMethod(spec, referenceCache, "--vcd-reference-cache", decode == Decode.VCD, "vcd");
    requireMethod(spec, lambda != null, "--lambda", decode == Decode.AVC, "avc");
    requireMethod(spec, layerP != null, "--layer-p", decode == Decode.AVC, "avc");
    requireMethod(spec, fill != null, "--fill", decode == Decode.AVC, "avc");
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

  /** An answer and what the method reports beside it (parameters, blind tokens, per-step times). */
  record Answer(Generator.Result generation, Map<String, Object> report) {}

  /**
   * Answers a prompt ({@code ids} with the image markers, {@code pixels} [n, 3, S, S], or null for a
   * text-only prompt with plain decoding) with the chosen decoding. Allocates in the current scope.
   */
  Answer answer(LlavaForConditionalGeneration lm, int[] ids, Tensor pixels, GenerationConfig generation, SamplingConfig sampling, long seed,
      TextTokenizer tokenizer, Consumer<String> onText) {
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
        putContrast(report, config.contrast());
        report.put("noise_step", config.noiseStep());
        report.put("reference_cache_reuse", config.referenceCacheReuse());
        report.put("distort_ms", VicropCommand.millis(r.distortNanos()));
        return new Answer(r.generation(), report);
      }
      case AVC -> {
        AvcConfig config = avcConfig(contrast(sampling, seed));
        Avc.Result r = new Avc(lm, config).run(ids, pixels, g, tokenizer, onText);
        putContrast(report, config.contrast());
        report.put("layer_p", config.layerP());
        report.put("lambda", config.lambda());
        report.put("fill", config.fill().name().toLowerCase(Locale.ROOT));
        BlindTokens b = r.blind();
        report.put("layers", b.layers());
        report.put("blind_tokens", b.blind());
        report.put("blind_positions", b.blindPositions());
        report.put("blind_threshold", b.threshold());
        return new Answer(r.generation(), report);
      }
      default -> throw new IllegalStateException("unreachable");
    }
  }

  private static void putContrast(Map<String, Object> report, ContrastiveConfig c) {
    report.put("alpha", c.alpha());
    report.put("beta", c.beta());
    report.put("temperature", c.sampling().temperature());
    report.put("seed", c.seed());
  }

}
