package dev.fovea.jmh;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.llava.LlavaConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.methods.avc.Avc;
import dev.fovea.methods.avc.AvcConfig;
import dev.fovea.methods.contrastive.ContrastiveConfig;
import dev.fovea.methods.vcd.Vcd;
import dev.fovea.methods.vcd.VcdConfig;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.PreprocessorConfig;
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
 * Contrastive decoding (VCD, AVC) against plain decoding on the LLaVA-1.5 of {@link VicropBench}
 * (TinyLlama-1.1B decoder shapes, the CLIP ViT-L/14-336 tower, random weights, loaded from a
 * llava-hf folder; {@code dtype} bf16 stores the decoder's projection and head matrices in BF16).
 * One op = one answer of exactly {@code tokens} sampled tokens (temperature 1, seed 42) to a
 * question about the COCO picture; {@code layout} batched runs the two branches as one batch,
 * sequential one after the other as the references do. Auxiliary counters (ms per op): {@code
 * stepMs}, the median decode step (one token: combine, sample, feed every branch), and {@code
 * prefillMs}. bench/contrastive.sh prints each method's step time relative to plain decoding.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT, "-Xmx3g", "-XX:MaxDirectMemorySize=20g"})
@State(Scope.Benchmark)
public class ContrastiveBench {
  @Param({"none", "vcd", "avc"})
  public String decode;

  @Param({"batched"})
  public String layout;

  @Param({"f32"})
  public String dtype;

  @Param({"22"})
  public int layers;

  @Param({"16"})
  public int tokens;

  @Param({"0"})
  public int threads;

  private LlavaForConditionalGeneration model;
  private int[] ids;
  private Tensor pixels;
  private GenerationConfig generation;

  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(org.openjdk.jmh.annotations.Scope.Thread)
  public static class Steps {
    public double stepMs;
    public double prefillMs;
  }

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    if (decode.equals("none") && layout.equals("sequential")) {
      throw new IllegalArgumentException("plain decoding has one branch: layout sequential is for vcd and avc");
    }
    Path data = VicropBench.shared();
    boolean bf16 = dtype.equals("bf16");
    if (!bf16 && !dtype.equals("f32")) {
      throw new IllegalArgumentException("dtype must be f32 or bf16, got " + dtype);
    }
    String config = VicropBench.config(layers);
    Path dir = ModelFiles.hfFolder("llava-tinyllama-" + layers + "l" + (bf16 ? "-bf16" : ""), config, "", () -> {
      LlavaForConditionalGeneration m = new LlavaForConditionalGeneration(LlavaConfig.fromJson(config.getBytes(StandardCharsets.UTF_8), "ContrastiveBench"));
      m.initRandom(7);
      return m;
    }, (name, t) -> bf16 && name.startsWith("language_model.") && (name.endsWith("proj.weight") || name.equals("language_model.lm_head.weight"))
        ? t.to(DType.BF16) : t);
    model = LlavaForConditionalGeneration.load(dir);
    var tokenizer = TokenizerLoader.load(data.resolve("tokenizers/llama/tokenizer.model"));
    String text = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_V1, "Is there a cat in the image?", 1);
    ids = LlavaPrompt.tokenize(tokenizer, text, model.config.imageTokenIndex());
    try (var g = GradMode.disable()) {
      pixels = LlavaImages.pixels(List.of(data.resolve("images/000000039769.png")), PreprocessorConfig.clip(336)).copyTo(dev.fovea.tensor.Scope.detached());
    }
    // eos_token_id [] in the config: every answer runs to `tokens` new tokens
    generation = GenerationConfig.maxNewTokens(tokens).withBatchBranches(layout.equals("batched"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    model.close();
  }

  @Benchmark
  public int answer(Steps steps) {
    ContrastiveConfig c = ContrastiveConfig.DEFAULT;
    Generator.Result r = switch (decode) {
      case "none" -> {
        try (var scope = dev.fovea.tensor.Scope.open()) {
          var in = model.prepare(ids, pixels);
          yield Generator.generate(model, in.toInputs(), generation, Sampler.seeded(c.sampling(), c.seed()), null, null);
        }
      }
      case "vcd" -> new Vcd(model, VcdConfig.DEFAULT).run(ids, pixels, generation, null, null).generation();
      case "avc" -> new Avc(model, AvcConfig.DEFAULT).run(ids, pixels, generation, null, null).generation();
      default -> throw new IllegalArgumentException("decode must be none, vcd or avc, got " + decode);
    };
    steps.stepMs = r.medianStepMillis();
    steps.prefillMs = r.prefillNanos() / 1e6;
    return r.tokens().length;
  }
}
