package dev.fovea.llm.llava;

import static dev.fovea.llm.check.Compare.option;
import static dev.fovea.llm.check.Compare.rel;
import static dev.fovea.llm.check.Compare.report;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A LLaVA model end to end on a device against the same model on the CPU (bench/gpu-check.sh
 * runs it on the GPU machine with the checked-in tiny LLaVA): image features, every logit of the
 * prompt, the greedy answer token for token with each step's logits, and the gradient of the top
 * log-probability to the pixels (grad-att and pure-grad's backward). Differences are relative, max
 * |device - cpu| / max |cpu|; bounds: 1e-4 for features and logits (F32 on both sides, different
 * summation orders), 1e-3 for the pixel gradient (a backward through every layer). Exit status 0
 * when all pass, 1 when one does not, 2 when the device cannot be opened.
 *
 * <pre>
 * java ... dev.fovea.llm.llava.LlavaDeviceCheck --model llm/src/test/resources/llava-reference/tiny [--device cuda:0] [--tokens 8]
 * </pre>
 *
 * The prompt and image are the fixture's {@code one.prompt_ids} and {@code one.pixels} from the
 * {@code reference.safetensors} beside the model. {@code --device cpu} runs both sides on the CPU
 * (the harness itself, where there is no GPU).
 */
public final class LlavaDeviceCheck {
  static final double LOGITS_TOL = 1e-4;
  static final double GRAD_TOL = 1e-3;

  private LlavaDeviceCheck() {}

  public static void main(String[] args) {
    Path model = Path.of(option(args, "--model", "llm/src/test/resources/llava-reference/tiny"));
    Device device = Device.parse(option(args, "--device", "cuda:0"));
    int tokens = Integer.parseInt(option(args, "--tokens", "8"));
    try {
      Backends.of(device);
    } catch (TensorException e) {
      System.out.println("llava-device-check: " + e.getMessage());
      System.exit(2);
    }
    System.exit(run(model, device, tokens) ? 0 : 1);
  }

  /** Runs every comparison, printing one line each; true when all are within their bounds. */
  public static boolean run(Path model, Device device, int tokens) {
    boolean ok = true;
    try (var cpu = LlavaForConditionalGeneration.load(model); var dev = LlavaForConditionalGeneration.load(model);
        WeightSource ref = WeightFiles.open(model.resolve("reference.safetensors"))) {
      long t0 = System.nanoTime();
      dev.to(device);
      System.out.printf("llava-device-check: %s moved to %s in %.0f ms (%d weight bytes)%n", model, device, (System.nanoTime() - t0) / 1e6, dev.weightBytes());
      long[] idsLong = ref.get("one.prompt_ids").toLongArray();
      int[] ids = Arrays.stream(idsLong).mapToInt(v -> (int) v).toArray();
      try (var scope = Scope.open()) {
        Tensor pixels = ref.get("one.pixels").contiguous();
        ok &= report("image features", rel(dev.imageFeatures(pixels).toFloatArray(), cpu.imageFeatures(pixels).toFloatArray()), LOGITS_TOL);
        ok &= report("prompt logits (every position)", rel(allLogits(dev, ids, pixels), allLogits(cpu, ids, pixels)), LOGITS_TOL);
        List<float[]> stepsCpu = new ArrayList<>();
        List<float[]> stepsDev = new ArrayList<>();
        long c0 = System.nanoTime();
        int[] want = greedy(cpu, ids, pixels, tokens, stepsCpu);
        long c1 = System.nanoTime();
        int[] got = greedy(dev, ids, pixels, tokens, stepsDev);
        long c2 = System.nanoTime();
        boolean same = Arrays.equals(want, got);
        System.out.printf("%s  %-40s cpu %s, %s %s (%.0f ms vs %.0f ms)%n", same ? "ok  " : "FAIL", "greedy answer tokens", Arrays.toString(want), device,
            Arrays.toString(got), (c1 - c0) / 1e6, (c2 - c1) / 1e6);
        ok &= same;
        double worst = 0;
        for (int i = 0; i < Math.min(stepsCpu.size(), stepsDev.size()); i++) {
          worst = Math.max(worst, rel(stepsDev.get(i), stepsCpu.get(i)));
        }
        ok &= report("greedy step logits", worst, LOGITS_TOL);
        // two decoding states (two streams on CUDA) stepped in turn: a fork of the prefilled state and
        // an independent one, each must give the tokens and logits of the single state above
        ok &= interleaved(dev, ids, pixels, want, stepsCpu);
        ok &= report("d top log-prob / d pixels", rel(pixelGradient(dev, ids, pixels), pixelGradient(cpu, ids, pixels)), GRAD_TOL);
      }
    } catch (RuntimeException e) {
      System.out.println("FAIL  llava end to end: " + e);
      e.printStackTrace(System.out);
      return false;
    }
    System.out.println("llava-device-check: " + (ok ? "passed" : "FAILED"));
    return ok;
  }

  /** States A (prefilled), B (A's fork) and C (prefilled on its own) stepped in turn, greedily. */
  private static boolean interleaved(LlavaForConditionalGeneration m, int[] ids, Tensor pixels, int[] want, List<float[]> stepsCpu) {
    LlavaInputs in = m.prepare(ids, pixels);
    int n = want.length;
    boolean ok = true;
    double worst = 0;
    try (var a = m.newState(1, in.length() + n + 1); var c = m.newState(1, in.length() + n + 1)) {
      float[] la;
      float[] lc;
      try (var scope = Scope.open()) {
        la = m.forward(in, a, false).toFloatArray();
      }
      try (var b = a.fork()) {
        try (var scope = Scope.open()) {
          lc = m.forward(in, c, false).toFloatArray();
        }
        float[] lb = la.clone();
        int[][] got = new int[3][n];
        for (int i = 0; i < n; i++) {
          got[0][i] = argmax(la);
          got[1][i] = argmax(lb);
          got[2][i] = argmax(lc);
          worst = Math.max(worst, Math.max(rel(la, stepsCpu.get(i)), Math.max(rel(lb, stepsCpu.get(i)), rel(lc, stepsCpu.get(i)))));
          if (i + 1 < n) {
            la = m.step(a, got[0][i]);
            lb = m.step(b, got[1][i]);
            lc = m.step(c, got[2][i]);
          }
        }
        for (int s = 0; s < 3; s++) {
          boolean same = Arrays.equals(want, got[s]);
          System.out.printf("%s  %-40s %s%n", same ? "ok  " : "FAIL", "in turn: " + new String[] {"state A", "A's fork", "state C"}[s] + " tokens",
              Arrays.toString(got[s]));
          ok &= same;
        }
      }
    }
    return report("in turn: every state's step logits", worst, LOGITS_TOL) && ok;
  }

  private static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static float[] allLogits(LlavaForConditionalGeneration m, int[] ids, Tensor pixels) {
    LlavaInputs in = m.prepare(ids, pixels);
    try (var state = m.newState(1, in.length())) {
      return m.forward(in, state, true).toFloatArray();
    }
  }

  private static int[] greedy(LlavaForConditionalGeneration m, int[] ids, Tensor pixels, int tokens, List<float[]> steps) {
    LlavaInputs in = m.prepare(ids, pixels);
    LogitsCombiner record = l -> {
      steps.add(l.get(0).clone());
      return l.get(0);
    };
    return Generator.generate(List.of(new Generator.Branch(m, in.toInputs())), record, GenerationConfig.maxNewTokens(tokens).withStopAtEos(false),
        Sampler.greedy(), null, null).tokens();
  }

  private static float[] pixelGradient(LlavaForConditionalGeneration m, int[] ids, Tensor pixels0) {
    try (var scope = Scope.open(); var g = GradMode.enable()) {
      Tensor pixels = pixels0.detach().requiresGrad(true); // on the CPU: the tower's first matmul copies it over, the gradient comes back
      LlavaInputs in = m.prepare(ids, pixels);
      try (var state = m.newState(1, in.length())) {
        Tensor lp = Ops.logSoftmax(m.forward(in, state, false).reshape(m.vocabSize()), -1);
        int top = (int) Ops.argmax(lp, 0, false).getLong();
        lp.select(0, top).backward();
      }
      return pixels.grad().toFloatArray();
    }
  }
}
