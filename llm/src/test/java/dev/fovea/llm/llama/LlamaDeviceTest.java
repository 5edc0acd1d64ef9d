package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static dev.fovea.llm.llama.LlamaFixtures.maxAbsErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.testing.TestBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tiny LLaMA moved to the test device ({@link TestBackend}: device storage that host code
 * cannot read, CPU kernels behind it) against the same model on the CPU. The CPU path is the
 * expected value here; it is itself checked against PyTorch by {@link LlamaReferenceTest} and
 * {@link LlamaGradientTest}. Since the test device runs the CPU kernels, any difference at all is
 * a placement bug: measured max |difference| of every logit, attention probability and gradient
 * below is 0 (bit-identical); the asserts allow 1e-6.
 */
class LlamaDeviceTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 1); // a device of this test class alone, so counters are its own
  static LlamaForCausalLM cpu;
  static LlamaForCausalLM dev;
  static TestBackend backend;
  static long globalAfterMove;
  static int[] prompt;

  @BeforeAll
  static void load() {
    backend = (TestBackend) Backends.of(DEVICE);
    cpu = LlamaForCausalLM.load(LlamaFixtures.dir("tiny"));
    dev = LlamaForCausalLM.load(LlamaFixtures.dir("tiny"));
    long before = backend.globalBytes();
    LlamaForCausalLM same = dev.to(DEVICE);
    assertTrue(same == dev);
    globalAfterMove = backend.globalBytes();
    assertEquals(dev.weightBytes(), globalAfterMove - before, "moving the model copies each weight once");
    try (WeightSource ref = LlamaFixtures.reference("tiny")) {
      prompt = ints(ref, "prompt_ids");
    }
  }

  @AfterAll
  static void close() {
    cpu.close();
    dev.close();
  }

  @Test
  void everyParameterIsOnTheDeviceAndHostReadsFail() {
    assertEquals(DEVICE, dev.device());
    assertEquals(DEVICE, dev.module("model.layers.0.self_attn").device());
    dev.namedParameters().forEach((name, p) -> assertEquals(DEVICE, p.get().device(), name));
    TensorException e = assertThrows(TensorException.class, () -> dev.model.norm.weight.get().storage().segment());
    assertTrue(e.getMessage().contains("lives on " + DEVICE), e.getMessage());
    try (var state = dev.newState(1, 8)) {
      assertEquals(DEVICE, state.device());
      assertEquals(DEVICE, state.cache(0).keys().device());
    }
  }

  /** Greedy decoding: the same tokens, and at each step logits within 1e-6 (measured: identical). */
  @Test
  void greedyGenerationEqualsTheCpuTokenForTokenAndLogitForLogit() {
    List<float[]> a = new ArrayList<>();
    List<float[]> b = new ArrayList<>();
    GenerationConfig c = GenerationConfig.maxNewTokens(20).withStopAtEos(false);
    Generator.Result want = Generator.generate(List.of(new Generator.Branch(cpu, Inputs.ids(prompt))), recording(a), c,
        Sampler.greedy(), null, null);
    long downBefore = backend.downloadedBytes();
    long downloadsBefore = backend.downloads();
    long globalBefore = backend.globalAllocations();
    Generator.Result got = Generator.generate(List.of(new Generator.Branch(dev, Inputs.ids(prompt))), recording(b), c,
        Sampler.greedy(), null, null);
    assertArrayEquals(want.tokens(), got.tokens());
    assertEquals(20, got.tokens().length);
    double worst = 0;
    for (int i = 0; i < a.size(); i++) {
      worst = Math.max(worst, maxAbsErr(b.get(i), a.get(i)));
    }
    System.out.printf("llama on %s: %d tokens identical, max |logit difference| %.3g over %d steps%n", DEVICE, got.tokens().length, worst, a.size());
    assertTrue(worst <= 1e-6, "max logit difference " + worst);
    // one forward per token (the prefill, then each step but the last): each reads only its last
    // position's logits [V] back to the host, nothing else
    long forwards = a.size();
    assertEquals(forwards, backend.downloads() - downloadsBefore, "device-to-host copies per forward");
    assertEquals(forwards * dev.vocabSize() * 4L, backend.downloadedBytes() - downBefore, "bytes read back");
    // the weights were not copied again (the rotary tables may be made once, on the first run)
    assertTrue(backend.globalAllocations() - globalBefore <= 2, "global allocations during generation: " + (backend.globalAllocations() - globalBefore));
    Generator.generate(dev, Inputs.ids(prompt), c, Sampler.greedy(), null, null);
    long afterFirst = backend.globalAllocations();
    Generator.generate(dev, Inputs.ids(prompt), c, Sampler.greedy(), null, null);
    assertEquals(afterFirst, backend.globalAllocations(), "a second generation allocates nothing long-lived on the device");
  }

  private static LogitsCombiner recording(List<float[]> into) {
    return l -> {
      into.add(l.get(0).clone());
      return l.get(0);
    };
  }

  /** Contrastive branches (VCD-style), as the rows of one batched state and as separate states. */
  @Test
  void lockstepBranchesEqualTheCpu() {
    for (boolean batch : new boolean[] {false, true}) {
      List<List<float[]>> seenCpu = new ArrayList<>();
      List<List<float[]>> seenDev = new ArrayList<>();
      int[] want = branches(cpu, batch, seenCpu).tokens();
      int[] got = branches(dev, batch, seenDev).tokens();
      assertArrayEquals(want, got, "batched " + batch);
      for (int s = 0; s < seenCpu.size(); s++) {
        for (int br = 0; br < 2; br++) {
          assertTrue(maxAbsErr(seenDev.get(s).get(br), seenCpu.get(s).get(br)) <= 1e-6, "batched " + batch + " step " + s + " branch " + br);
        }
      }
    }
  }

  private static Generator.Result branches(LlamaForCausalLM m, boolean batch, List<List<float[]>> seen) {
    try (var scope = Scope.open()) {
      Tensor e = m.embed(Tensor.ofInts(prompt, 1, prompt.length)).contiguous();
      Ops.copyInto(Tensor.zeros(1, 5, m.config.hiddenSize()), e.narrow(1, 2, 5)); // the CPU zeros go to e's device
      List<Generator.Branch> branches = List.of(new Generator.Branch(m, Inputs.ids(prompt)), new Generator.Branch(m, Inputs.embeddings(e)));
      LogitsCombiner vcd = LogitsCombiner.contrastive(1f, 0.1f);
      LogitsCombiner rec = l -> {
        List<float[]> copy = new ArrayList<>();
        l.forEach(x -> copy.add(x.clone()));
        seen.add(copy);
        return vcd.combine(l);
      };
      return Generator.generate(branches, rec, GenerationConfig.maxNewTokens(12).withStopAtEos(false).withBatchBranches(batch),
          Sampler.seeded(SamplingConfig.sampling(1f), 7), null, null);
    }
  }

  /** Forks and row views of a device state stay on the device and decode as the CPU's do. */
  @Test
  void forksAndRowViewsEqualTheCpu() {
    int t = prompt.length;
    float[][] want = forkAndRows(cpu, t);
    float[][] got = forkAndRows(dev, t);
    for (int i = 0; i < want.length; i++) {
      assertTrue(maxAbsErr(got[i], want[i]) <= 1e-6, "output " + i);
    }
  }

  private static float[][] forkAndRows(LlamaForCausalLM m, int t) {
    try (var state = m.prefill(Inputs.ids(prompt), t + 4); var fork = state.fork(); var batch = m.newState(2, t + 4)) {
      m.extend(batch.row(0), Inputs.ids(prompt));
      m.extend(batch.row(1), Inputs.ids(prompt));
      float[] a = m.step(fork, 5);
      float[] b = m.step(state, 9);
      float[][] rows = m.stepRows(batch, 5);
      return new float[][] {a, b, rows[0], rows[1]};
    }
  }

  /**
   * Attention hooks on the device see the probabilities (the hook copies them to the host), and
   * the gradient of the top log-probability through a grad-mode prefill reaches the embeddings
   * and the hooked probabilities on the device: both equal the CPU's.
   */
  @Test
  void hooksAndGradientsOnTheDeviceEqualTheCpu() {
    float[][] want = hookAndGrad(cpu);
    float[][] got = hookAndGrad(dev);
    String[] what = {"attention probabilities", "d/d probabilities", "d/d embeddings"};
    for (int i = 0; i < want.length; i++) {
      double err = maxAbsErr(got[i], want[i]);
      System.out.printf("llama on %s: %s max |difference| %.3g%n", DEVICE, what[i], err);
      assertTrue(err <= 1e-6, what[i] + ": " + err);
    }
  }

  private static float[][] hookAndGrad(LlamaForCausalLM m) {
    try (var scope = Scope.open(); var g = GradMode.enable(); var state = m.newState(1, 32)) {
      Tensor e = m.embed(Tensor.ofInts(prompt, 1, prompt.length)).detach().requiresGrad(true);
      Tensor[] probs = new Tensor[1];
      float[][] seen = new float[1][];
      try (var h = m.addAttentionHook("model.layers.1", AttentionHook.reading((ctx, p) -> {
        seen[0] = p.toFloatArray();
        probs[0] = p.retainGrad();
      }))) {
        Tensor lp = Ops.logSoftmax(m.forward(e, state, false).reshape(m.vocabSize()), -1);
        int top = (int) Ops.argmax(lp, 0, false).getLong();
        lp.select(0, top).backward();
      }
      assertNotNull(probs[0].grad());
      assertEquals(m.device(), e.grad().device(), "the gradient of a leaf on the device stays there");
      return new float[][] {seen[0], probs[0].grad().toFloatArray(), e.grad().toFloatArray()};
    }
  }
}
