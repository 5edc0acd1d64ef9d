package dev.fovea.jmh;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.llava.LlavaConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.methods.agla.Agla;
import dev.fovea.methods.agla.AglaConfig;
import dev.fovea.methods.agla.ImagePromptMatching;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.vit.blip.BlipConfig;
import dev.fovea.vit.blip.BlipForImageTextRetrieval;
import dev.fovea.vit.blip.BlipText;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * AGLA against plain decoding (issue 23) on the LLaVA-1.5 of {@link VicropBench} (TinyLlama-1.1B
 * decoder shapes, CLIP ViT-L/14-336, random weights) with a BLIP ITM of {@code blip} shapes (large:
 * ViT-L/16 at 384, BERT-base text with cross-attention over width 1024; base: ViT-B/16), random
 * weights built in memory. One op = one answer of exactly {@code tokens} sampled tokens to a POPE
 * question about the COCO picture; for {@code agla} it includes the image-prompt matching (BLIP
 * forward, the backward from the match logit to layer 6's cross-attention, ITC, the map and the
 * mask) and the masked view's encoding. Auxiliary counters (ms per op): {@code stepMs} (median decode
 * step), {@code prefillMs}, {@code ipmMs} (the matching alone). bench/agla.sh prints the ratios.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT, "-Xmx4g", "-XX:MaxDirectMemorySize=20g"})
@State(Scope.Benchmark)
public class AglaBench {
  @Param({"none", "agla"})
  public String decode;

  @Param({"large"})
  public String blip;

  @Param({"22"})
  public int layers;

  @Param({"16"})
  public int tokens;

  @Param({"0"})
  public int threads;

  private LlavaForConditionalGeneration model;
  private BlipForImageTextRetrieval blipModel;
  private BlipText blipText;
  private RgbImage image;
  private int[] ids;
  private Tensor pixels;
  private PreprocessorConfig preprocessing;
  private GenerationConfig generation;

  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(org.openjdk.jmh.annotations.Scope.Thread)
  public static class Steps {
    public double stepMs;
    public double prefillMs;
    public double ipmMs;
  }

  /** BLIP ITM config.json of the published checkpoints' shapes (Salesforce/blip-itm-{base,large}-coco). */
  static String blipConfig(String size) {
    int d = switch (size) {
      case "large" -> 1024;
      case "base" -> 768;
      default -> throw new IllegalArgumentException("blip must be large or base, got " + size);
    };
    int layers = d == 1024 ? 24 : 12;
    return "{\"image_text_hidden_size\": 256, \"vision_config\": {\"hidden_size\": " + d + ", \"intermediate_size\": " + 4 * d
        + ", \"num_hidden_layers\": " + layers + ", \"num_attention_heads\": " + d / 64 + ", \"image_size\": 384, \"patch_size\": 16},"
        + " \"text_config\": {\"hidden_size\": 768, \"encoder_hidden_size\": " + d + ", \"num_attention_heads\": 12, \"num_hidden_layers\": 12}}";
  }

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    Path data = VicropBench.shared();
    String config = VicropBench.config(layers);
    Path dir = ModelFiles.hfFolder("llava-tinyllama-" + layers + "l", config, "", () -> {
      LlavaForConditionalGeneration m = new LlavaForConditionalGeneration(LlavaConfig.fromJson(config.getBytes(StandardCharsets.UTF_8), "AglaBench"));
      m.initRandom(7);
      return m;
    }, (name, t) -> t);
    model = LlavaForConditionalGeneration.load(dir);
    var tokenizer = TokenizerLoader.load(data.resolve("tokenizers/llama/tokenizer.model"));
    String question = "Is there a cat in the image?";
    String text = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_V1, question + " Please answer this question with one word.", 1);
    ids = LlavaPrompt.tokenize(tokenizer, text, model.config.imageTokenIndex());
    preprocessing = PreprocessorConfig.clip(336);
    image = ImageDecoder.read(data.resolve("images/000000039769.png"));
    try (var g = GradMode.disable()) {
      pixels = LlavaImages.pixels(List.of(data.resolve("images/000000039769.png")), preprocessing).copyTo(dev.fovea.tensor.Scope.detached());
    }
    if (decode.equals("agla")) {
      blipModel = new BlipForImageTextRetrieval(BlipConfig.parse(blipConfig(blip).getBytes(StandardCharsets.UTF_8), "AglaBench BLIP " + blip));
      blipModel.initRandom(11);
      blipText = new BlipText(WordPieceTokenizer.load(data.resolve("tokenizers/bert/bert-base-uncased-vocab.txt")));
    } else if (!decode.equals("none")) {
      throw new IllegalArgumentException("decode must be none or agla, got " + decode);
    }
    // eos_token_id [] in the config: every answer runs to `tokens` new tokens
    generation = GenerationConfig.maxNewTokens(tokens).withBatchBranches(true);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    model.close();
  }

  @Benchmark
  public int answer(Steps steps) {
    AglaConfig c = AglaConfig.DEFAULT;
    Generator.Result r;
    if (decode.equals("none")) {
      try (var scope = dev.fovea.tensor.Scope.open()) {
        var in = model.prepare(ids, pixels);
        r = Generator.generate(model, in.toInputs(), generation, Sampler.seeded(c.sampling(), c.seed()), null, null);
      }
      steps.ipmMs = 0;
    } else {
      ImagePromptMatching.Result m = new ImagePromptMatching(blipModel, blipText, c).match(image, "Is there a cat in the image?");
      try (var scope = dev.fovea.tensor.Scope.open()) {
        Tensor aug = new ImageProcessor(preprocessing).process(m.augmented()).unsqueeze(0);
        r = new Agla(model, c).run(ids, pixels, aug, generation, null, null).generation();
      }
      steps.ipmMs = m.nanos() / 1e6;
    }
    steps.stepMs = r.medianStepMillis();
    steps.prefillMs = r.prefillNanos() / 1e6;
    return r.tokens().length;
  }
}
