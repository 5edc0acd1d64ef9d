package dev.fovea.llm.llava;

import static dev.fovea.llm.llava.LlavaFixtures.ints;
import static dev.fovea.llm.llava.LlavaFixtures.maxAbsErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.testing.TestBackend;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tiny LLaVA-1.5 (CLIP vision tower, projector, LLaMA) moved to the test device against the
 * same model on the CPU: image features, every logit of the prompt, the language model's
 * attention probabilities (read by a hook), the greedy answer, and a gradient through the whole
 * model to the pixels. The CPU path is the expected value; it is checked against PyTorch by
 * {@link LlavaReferenceTest} and {@link LlavaGradientTest}. The test device runs the CPU kernels
 * on storage host code cannot read, so the measured differences are 0; asserts allow 1e-6.
 */
class LlavaDeviceTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 2); // this class's own device and counters
  static LlavaForConditionalGeneration cpu;
  static LlavaForConditionalGeneration dev;
  static TestBackend backend;
  static WeightSource ref;

  @BeforeAll
  static void load() {
    backend = (TestBackend) Backends.of(DEVICE);
    cpu = LlavaForConditionalGeneration.load(LlavaFixtures.dir());
    dev = LlavaForConditionalGeneration.load(LlavaFixtures.dir());
    long before = backend.globalBytes();
    long allocations = backend.globalAllocations();
    dev.to(DEVICE);
    assertEquals(dev.weightBytes(), backend.globalBytes() - before, "moving LLaVA copies each weight once");
    assertEquals(dev.namedParameters().size(), backend.globalAllocations() - allocations, "one allocation per parameter");
    ref = LlavaFixtures.reference();
  }

  @AfterAll
  static void close() {
    ref.close();
    cpu.close();
    dev.close();
  }

  @Test
  void everyPartIsOnTheDevice() {
    assertEquals(DEVICE, dev.device());
    assertEquals(DEVICE, dev.visionTower.device());
    assertEquals(DEVICE, dev.languageModel.device());
    dev.namedParameters().forEach((name, p) -> assertEquals(DEVICE, p.get().device(), name));
  }

  @ParameterizedTest
  @ValueSource(strings = {"one", "two"})
  void askOnTheDeviceEqualsTheCpu(String tag) {
    int[] ids = ints(ref, tag + ".prompt_ids");
    Tensor pixels = ref.get(tag + ".pixels"); // on the CPU: the vision tower's first matmul copies the patches over
    float[][] want = run(cpu, ids, pixels);
    float[][] got = run(dev, ids, pixels);
    String[] what = {"image features", "logits", "attention probabilities"};
    for (int i = 0; i < what.length; i++) {
      double err = maxAbsErr(got[i], want[i]);
      System.out.printf("llava %s on %s: %s max |difference| %.3g%n", tag, DEVICE, what[i], err);
      assertTrue(err <= 1e-6, what[i] + ": " + err);
    }
    int[] greedyCpu = greedy(cpu, ids, pixels);
    long downloads = backend.downloads();
    int[] greedyDev = greedy(dev, ids, pixels);
    assertArrayEquals(greedyCpu, greedyDev, "greedy answer");
    // one read-back per forward (the prefill and each step but the last), of the logits only
    assertEquals(greedyDev.length, backend.downloads() - downloads, "device-to-host copies while answering");
  }

  private static float[][] run(LlavaForConditionalGeneration m, int[] ids, Tensor pixels) {
    try (var scope = Scope.open()) {
      float[] features = m.imageFeatures(pixels).toFloatArray();
      LlavaInputs in = m.prepare(ids, pixels);
      Map<Integer, float[]> attn = new LinkedHashMap<>();
      float[] logits;
      try (var h = m.languageModel.addAttentionHook(AttentionHook.reading((ctx, p) -> attn.put(ctx.layerIndex(), p.toFloatArray())));
          var state = m.newState(1, in.length())) {
        logits = m.forward(in, state, true).toFloatArray();
      }
      int total = attn.values().stream().mapToInt(a -> a.length).sum();
      float[] all = new float[total];
      int at = 0;
      for (float[] a : attn.values()) {
        System.arraycopy(a, 0, all, at, a.length);
        at += a.length;
      }
      return new float[][] {features, logits, all};
    }
  }

  private static int[] greedy(LlavaForConditionalGeneration m, int[] ids, Tensor pixels) {
    try (var scope = Scope.open()) {
      LlavaInputs in = m.prepare(ids, pixels);
      return Generator.generate(m, in.toInputs(), GenerationConfig.maxNewTokens(8).withStopAtEos(false), Sampler.greedy(), null, null).tokens();
    }
  }

  /** d(top next-token log-probability)/d(pixels) through the language model, projector and vision tower on the device. */
  @Test
  void gradientToThePixelsEqualsTheCpu() {
    int[] ids = ints(ref, "one.prompt_ids");
    float[] want = pixelGradient(cpu, ids);
    float[] got = pixelGradient(dev, ids);
    double err = maxAbsErr(got, want);
    System.out.printf("llava on %s: d/d pixels max |difference| %.3g (max |grad| %.3g)%n", DEVICE, err, LlavaFixtures.maxAbs(want));
    assertTrue(LlavaFixtures.maxAbs(want) > 0, "the gradient is not all zero");
    assertTrue(err <= 1e-6, "pixel gradient: " + err);
  }

  private static float[] pixelGradient(LlavaForConditionalGeneration m, int[] ids) {
    try (var scope = Scope.open(); var g = GradMode.enable()) {
      Tensor pixels = ref.get("one.pixels").contiguous().to(m.device()).detach().requiresGrad(true);
      LlavaInputs in = m.prepare(ids, pixels);
      try (var state = m.newState(1, in.length())) {
        Tensor lp = Ops.logSoftmax(m.forward(in, state, false).reshape(m.vocabSize()), -1);
        int top = (int) Ops.argmax(lp, 0, false).getLong();
        lp.select(0, top).backward();
      }
      assertEquals(m.device(), pixels.grad().device());
      return pixels.grad().toFloatArray();
    }
  }

  /** The GPU machine's end-to-end check (bench/gpu-check.sh) passes on the test device, and on the CPU against itself. */
  @Test
  void theGpuCheckHarnessPassesOnTheTestDevice() {
    assertTrue(LlavaDeviceCheck.run(LlavaFixtures.dir(), DEVICE, 4));
    assertTrue(LlavaDeviceCheck.run(LlavaFixtures.dir(), Device.CPU, 2));
  }
}
