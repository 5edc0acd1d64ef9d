package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.nn.train.AdamW;
import dev.fovea.nn.train.LrSchedule;
import dev.fovea.nn.train.Trainable;
import dev.fovea.nn.train.Trainer;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A small end-to-end exercise of the engine and its training library: a two-layer MLP (fc1, GELU,
 * fc2) learns to classify points of two interleaved spirals, trained by {@link Trainer} with AdamW,
 * a warm-up + cosine learning-rate schedule and gradient clipping on gradients from our autograd,
 * every step in its own {@link Scope}.
 */
@Command(name = "spirals", mixinStandardHelpOptions = true,
    description = "Train a tiny MLP on two spirals with fovea's autograd and training library (AdamW) and print the loss.")
final class SpiralsCommand implements Callable<Integer> {
  /** Bounds the run time (the default is 300 steps). */
  static final int MAX_STEPS = 100_000;

  /** Bounds time and memory; 256 two-dimensional points need nothing near as wide (the default is 64). */
  static final int MAX_HIDDEN = 4096;

  /** Leaves room to experiment (the default is 0.05) and keeps out slips such as 50 for 0.50. */
  static final String MAX_LR = "10";

  @Spec CommandSpec spec;

  @Option(names = "--steps", paramLabel = "N", description = "AdamW steps, 1 to " + MAX_STEPS + " (default: ${DEFAULT-VALUE})")
  int steps = 300;

  @Option(names = "--hidden", paramLabel = "H", description = "hidden width, 1 to " + MAX_HIDDEN + " (default: ${DEFAULT-VALUE})")
  int hidden = 64;

  @Option(names = "--lr", paramLabel = "LR", description = "peak learning rate, in (0, " + MAX_LR + "] (default: ${DEFAULT-VALUE})")
  float lr = 0.05f;

  @Option(names = "--seed", paramLabel = "S", description = "random seed, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = 7;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  /** fc1 [H, 2] + bias, GELU, fc2 [2, H] + bias. */
  static final class SpiralMlp extends Module {
    final Linear fc1;
    final Linear fc2;

    SpiralMlp(int hidden) {
      fc1 = register("fc1", new Linear(2, hidden, true));
      fc2 = register("fc2", new Linear(hidden, 2, true));
    }

    Tensor forward(Tensor x) {
      return fc2.forward(Ops.gelu(fc1.forward(x)));
    }
  }

  @Override
  public Integer call() throws Exception {
    OptionRange.check(spec, "--steps", steps, 1, MAX_STEPS);
    OptionRange.check(spec, "--hidden", hidden, 1, MAX_HIDDEN);
    OptionRange.check(spec, "--lr", lr, 0f, true, Float.parseFloat(MAX_LR));
    PrintWriter out = spec.commandLine().getOut();
    Random rng = new Random(seed);
    int n = 256;
    float[] xs = new float[n * 2];
    int[] classes = new int[n];
    for (int i = 0; i < n; i++) {
      int cls = i % 2;
      double t = 0.5 + 3.0 * (i / 2) / (n / 2.0);
      double r = t;
      double a = t * 2.2 + cls * Math.PI;
      xs[2 * i] = (float) (r * Math.cos(a) / 3.5 + rng.nextGaussian() * 0.02);
      xs[2 * i + 1] = (float) (r * Math.sin(a) / 3.5 + rng.nextGaussian() * 0.02);
      classes[i] = cls;
    }
    Tensor x = Tensor.of(xs, n, 2);
    Tensor y = Tensor.ofInts(classes, n);
    SpiralMlp model = new SpiralMlp(hidden);
    model.fc1.weight.set(Ops.mulScalar(Tensor.randn(rng, hidden, 2), (float) Math.sqrt(2.0)));
    model.fc1.bias.set(Tensor.zeros(hidden));
    model.fc2.weight.set(Ops.mulScalar(Tensor.randn(rng, 2, hidden), (float) Math.sqrt(1.0 / hidden)));
    model.fc2.bias.set(Tensor.zeros(2));
    long warmup = Math.max(1, steps / 10);
    LrSchedule schedule = LrSchedule.cosineWithWarmup(Math.min(warmup, steps), steps, 0.1);
    List<Double> losses = new ArrayList<>();
    double[] accuracy = {0};
    long start = System.nanoTime();
    if (!json) {
      out.printf("two spirals, %d points; MLP 2-%d-2 (GELU), AdamW lr %.3g (warm-up %d, cosine to %.3g), clip 1.0, %d threads%n", n, hidden, lr,
          Math.min(warmup, steps), lr * 0.1, Parallel.threads());
    }
    try (Trainable params = Trainable.of(model);
        AdamW optimizer = new AdamW(params, AdamW.Config.defaults().withLr(lr), AdamW.DECAY_MATRICES)) {
      Trainer<Tensor[]> trainer = new Trainer<>(params, optimizer, schedule, (index, s) -> new Tensor[] {x, y},
          (batch, r) -> Ops.crossEntropy(model.forward(batch[0]), batch[1]), Trainer.Config.steps(steps).withSeed(seed).withMaxGradNorm(1.0));
      trainer.counting(b -> n, b -> 0);
      trainer.addListener(report -> {
        losses.add(report.loss());
        long step = report.step();
        if (step == steps || step % Math.max(1, steps / 10) == 0) {
          try (Scope scope = Scope.open()) {
            accuracy[0] = accuracy(model.forward(x), classes);
          }
          if (!json) {
            out.printf("step %4d  loss %.4f  accuracy %.3f  lr %.4f  grad norm %.3f%n", step, report.loss(), accuracy[0], report.lr(),
                report.gradNorm());
          }
        }
      });
      trainer.run();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (json) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("steps", steps);
      result.put("hidden", hidden);
      result.put("optimizer", "adamw");
      result.put("initial_loss", losses.get(0));
      result.put("final_loss", losses.get(losses.size() - 1));
      result.put("accuracy", accuracy[0]);
      result.put("seconds", seconds);
      out.println(new ObjectMapper().writeValueAsString(result));
    } else {
      out.printf("loss %.4f -> %.4f in %.2f s%n", losses.get(0), losses.get(losses.size() - 1), seconds);
    }
    out.flush();
    return 0;
  }

  private static double accuracy(Tensor logits, int[] classes) {
    long[] pred = Ops.argmax(logits.detach(), -1, false).toLongArray();
    int ok = 0;
    for (int i = 0; i < classes.length; i++) {
      ok += pred[i] == classes[i] ? 1 : 0;
    }
    return ok / (double) classes.length;
  }
}
