package dev.fovea.jmh;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.vit.clip.ClipCheckpoint;
import dev.fovea.vit.clip.ClipVisionConfig;
import dev.fovea.vit.clip.ClipVisionModel;
import dev.fovea.vit.clip.ClipVisionTransformer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * CLIP image encoding (vision tower: patch embedding, pre_layrnorm, L encoder layers,
 * post_layernorm of the CLS row) with random weights built from the real configs:
 *
 * <ul>
 *   <li>{@code vit_b16_224}: openai/clip-vit-base-patch16, 768 wide, 12 layers, 12 heads, 197 tokens;
 *   <li>{@code vit_l14_336}: openai/clip-vit-large-patch14-336, 1024 wide, 24 layers, 16 heads, 577 tokens.
 * </ul>
 *
 * One op = one forward of {@code batch} images in F32. The tower is loaded the way a user's is: a
 * vision-only Hugging Face folder ({@code config.json} as {@code CLIPVisionConfig}, {@code
 * model.safetensors} with {@code vision_model.*}, random values) written once by {@link
 * ModelFiles#hfFolder} and opened with {@link ClipCheckpoint#open} and {@link ClipVisionModel#load}.
 * bench/clip.sh runs it against PyTorch.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT, "-Xmx8g"})
@State(Scope.Benchmark)
public class ClipVisionBench {
  @Param({"vit_b16_224", "vit_l14_336"})
  public String model;

  @Param({"1", "8"})
  public int batch;

  @Param({"2"})
  public int threads;

  private ClipVisionTransformer tower;
  private ClipCheckpoint checkpoint;
  private Tensor pixels;

  /** The vision config of the named OpenAI model (keys as in its config.json). */
  public static ClipVisionConfig config(String model) {
    return switch (model) {
      case "vit_b16_224" -> new ClipVisionConfig(768, 3072, 12, 12, 3, 224, 16, "quick_gelu", 1e-5, 512);
      case "vit_l14_336" -> new ClipVisionConfig(1024, 4096, 24, 16, 3, 336, 14, "quick_gelu", 1e-5, 768);
      default -> throw new IllegalArgumentException("unknown model " + model + " (vit_b16_224, vit_l14_336)");
    };
  }

  @Setup
  public void setup() {
    Parallel.setThreads(threads);
    ClipVisionConfig c = config(model);
    String json = """
        {"model_type": "clip_vision_model", "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": %d,
         "num_attention_heads": %d, "num_channels": %d, "image_size": %d, "patch_size": %d, "hidden_act": "%s",
         "layer_norm_eps": %s, "projection_dim": %d}
        """.formatted(c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(), c.numChannels(),
        c.imageSize(), c.patchSize(), c.hiddenAct(), c.layerNormEps(), c.projectionDim());
    java.nio.file.Path dir = ModelFiles.hfFolder("clip-" + model, json, "vision_model.", () -> {
      ClipVisionTransformer t = new ClipVisionTransformer(c);
      t.initRandom(42);
      return t;
    });
    checkpoint = ClipCheckpoint.open(dir);
    tower = ClipVisionModel.load(checkpoint).visionModel;
    pixels = Tensor.randn(new Random(1), batch, 3, c.imageSize(), c.imageSize());
  }

  @org.openjdk.jmh.annotations.TearDown
  public void tearDown() {
    checkpoint.close();
  }

  @Benchmark
  public float encode() {
    try (dev.fovea.tensor.Scope s = dev.fovea.tensor.Scope.open()) {
      return tower.forward(pixels).pooled().get(0, 0);
    }
  }
}
