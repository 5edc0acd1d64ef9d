package dev.fovea.jmh;

import dev.fovea.llm.llava.LlavaConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.ViCrop;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * ViCrop end to end on a LLaVA-1.5 with TinyLlama-1.1B's decoder shapes (22 layers, 2048 wide, 32
 * heads, 4 KV heads, vocabulary 32000) and the real CLIP ViT-L/14-336 tower shape (24 layers, 1024
 * wide, 576 image tokens, features from layer -2), random F32 weights: one op = one question about
 * the 640 x 480 COCO picture of ../shared/data; the model is loaded from a llava-hf folder written
 * once by {@link ModelFiles#hfFolder}, as a user's model is ({@code method} none = the baseline answer with the
 * image alone; the others = map + box + answer with image and crop). The answer is greedy with
 * exactly {@code tokens} new tokens so methods compare on equal decoding work. The per-stage times
 * come out as auxiliary counters (ms per op): {@code mapMs}, {@code boxMs}, {@code answerMs}.
 * bench/vicrop.sh runs it and prints each method's overhead over {@code none}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT, "-Xmx3g", "-XX:MaxDirectMemorySize=20g"})
@State(Scope.Benchmark)
public class VicropBench {
  @Param({"none", "rel-att", "grad-att", "pure-grad"})
  public String method;

  @Param({"22"})
  public int layers;

  @Param({"14"})
  public int layer;

  @Param({"20"})
  public int tokens;

  @Param({"0"})
  public int threads;

  private LlavaForConditionalGeneration model;
  private ViCrop vicrop;
  private RgbImage image;

  /** Stage times of the last op, per op. */
  @AuxCounters(AuxCounters.Type.EVENTS)
  @State(Scope.Thread)
  public static class Stages {
    public double mapMs;
    public double boxMs;
    public double answerMs;
  }

  static Path shared() {
    Path data = ModelFiles.sharedData();
    if (data == null) {
      throw new IllegalStateException("VicropBench needs ../shared/data (the LLaMA vocabulary and the COCO picture); set -Dfovea.shared=<folder>");
    }
    return data;
  }

  static String config(int layers) {
    return """
        {"model_type": "llava", "image_token_index": 32000, "vision_feature_layer": -2, "vision_feature_select_strategy": "default",
         "projector_hidden_act": "gelu", "image_seq_length": 576,
         "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
           "image_size": 336, "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": 768},
         "text_config": {"model_type": "llama", "vocab_size": 32064, "hidden_size": 2048, "intermediate_size": 5632,
           "num_hidden_layers": %d, "num_attention_heads": 32, "num_key_value_heads": 4, "rms_norm_eps": 1e-5,
           "rope_theta": 10000.0, "max_position_embeddings": 2048, "bos_token_id": 1, "eos_token_id": []}}
        """.formatted(layers);
  }

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    Path data = shared();
    // loaded as a user's model is: a llava-hf folder (config.json + model.safetensors, random values)
    // written once, opened with LlavaForConditionalGeneration.load
    Path dir = ModelFiles.hfFolder("llava-tinyllama-" + layers + "l", config(layers), "", () -> {
      LlavaForConditionalGeneration m = new LlavaForConditionalGeneration(
          LlavaConfig.fromJson(config(layers).getBytes(StandardCharsets.UTF_8), "VicropBench"));
      m.initRandom(7);
      return m;
    });
    model = LlavaForConditionalGeneration.load(dir);
    var tokenizer = TokenizerLoader.load(data.resolve("tokenizers/llama/tokenizer.model"));
    // eos_token_id [] above: the answer always runs to `tokens` new tokens
    ViCropConfig config = ViCropConfig.defaults().withLayer(layer).withMaxNewTokens(tokens);
    vicrop = new ViCrop(model, tokenizer, PreprocessorConfig.clip(336), config);
    image = ImageDecoder.read(data.resolve("images/000000039769.png"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    model.close();
  }

  @Benchmark
  public int vicrop(Stages stages) {
    ViCrop.Result r = vicrop.run(image, "What color is the couch on which the cats are lying?", Method.named(method), ViCrop.Options.DEFAULT);
    ViCrop.Timings t = r.timings();
    stages.mapMs = t.mapNanos() / 1e6;
    stages.boxMs = t.boxNanos() / 1e6;
    stages.answerMs = (t.answerNanos() + t.baselineNanos()) / 1e6;
    return r.answer().tokens().length;
  }
}
