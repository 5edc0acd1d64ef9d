package dev.fovea.jmh;

import dev.fovea.methods.abs.Abs;
import dev.fovea.methods.abs.AbsConfig;
import dev.fovea.methods.abs.DescriptionBank;
import dev.fovea.methods.abs.Draws;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.vit.clip.ClipConfig;
import dev.fovea.vit.clip.ClipModel;
import dev.fovea.vit.clip.ClipTextConfig;
import dev.fovea.vit.dino.VitConfig;
import dev.fovea.vit.dino.VitModel;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
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
 * ABS on one image at the released code's shapes (issue 20 point 4): CLIP ViT-B/16 at 224
 * (openai/clip-vit-base-patch16: 768 wide, 12 layers, projection 512) and DINO ViT-B/16 at 224
 * (facebook/dino-vitb16), random weights built in memory, a 500 x 375 random image, and a cached
 * bank of {@code classes} x 50 random unit descriptions (1000 x 50: ImageNet's 50,000 rows). One op
 * = {@link Abs#run}: the DINO forward, 1 + {@code crops} raw CLIP forwards (the global view and the
 * raw crops, preprocessing included), the prefix once and {@code crops} + 1 sequences through the last
 * block, the soft matching of 2 x {@code crops} views. bench/abs.sh runs it against the same pipeline
 * in PyTorch (bench/abs_torch.py).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT, "-Xmx8g"})
@State(Scope.Benchmark)
public class AbsBench {
  @Param({"50"})
  public int crops;

  @Param({"1000"})
  public int classes;

  @Param({"2"})
  public int threads;

  private ClipModel clipModel;
  private Abs abs;
  private DescriptionBank bank;
  private RgbImage image;

  @Setup
  public void setup() {
    Parallel.setThreads(threads);
    ClipConfig cc = new ClipConfig(512, null, new ClipTextConfig(null, null, null, null, null, null, null, null, null, null, null, 512),
        ClipVisionBench.config("vit_b16_224"), null, null);
    ClipModel clip = new ClipModel(cc);
    clip.initRandom(16);
    clipModel = clip;
    VitModel dino = new VitModel(new VitConfig(768, 12, 12, 3072, "gelu", 1e-12, 224, 16, 3, true));
    dino.initRandom(17);
    abs = new Abs(clip, new ImageProcessor(PreprocessorConfig.clip(224)), dino, new ImageProcessor(PreprocessorConfig.dino(224)),
        AbsConfig.defaults().withNumCrops(crops));
    Random r = new Random(3);
    byte[] px = new byte[500 * 375 * 3];
    r.nextBytes(px);
    image = RgbImage.of(500, 375, px);
    int m = 50;
    Tensor rows = ClipModel.normalize(Tensor.randn(r, classes * m, 512));
    int[] offsets = new int[classes + 1];
    List<String> names = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      offsets[c + 1] = offsets[c] + m;
      names.add("class " + c);
    }
    bank = DescriptionBank.of(names, offsets, Ops.contiguous(rows));
  }

  Abs absForProfile() {
    return abs;
  }

  RgbImage imageForProfile() {
    return image;
  }

  DescriptionBank bankForProfile() {
    return bank;
  }

  ClipModel clipForProfile() {
    return clipModel;
  }

  @Benchmark
  public float abs() {
    return abs.run(image, bank, Draws.seeded(1)).logits()[0];
  }
}
