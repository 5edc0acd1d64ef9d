package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.cpu.Parallel;
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
 * A small end-to-end exercise of the engine: a two-layer MLP (linear, GELU, linear, log-softmax)
 * learns to classify points of two interleaved spirals, trained with plain SGD on gradients from
 * our autograd, every step in its own {@link Scope}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Train a tiny MLP on two spirals with fovea's autograd and print the loss.")
final class DemoCommand implements Callable<Integer> {
  /** Bounds the run time (the default is 300 steps). */
  static final int MAX_STEPS = 100_000;

  /** Bounds time and memory; 256 two-dimensional points need nothing near as wide (the default is 64). */
  static final int MAX_HIDDEN = 4096;

  /** Leaves room to experiment (the default is 0.5) and keeps out slips such as 50 for 0.50. */
  static final String MAX_LR = "10";

  @Spec CommandSpec spec;

  @Option(names = "--steps", paramLabel = "N", description = "SGD steps, 1 to " + MAX_STEPS + " (default: ${DEFAULT-VALUE})")
  int steps = 300;

  @Option(names = "--hidden", paramLabel = "H", description = "hidden width, 1 to " + MAX_HIDDEN + " (default: ${DEFAULT-VALUE})")
  int hidden = 64;

  @Option(names = "--lr", paramLabel = "LR", description = "learning rate, in (0, " + MAX_LR + "] (default: ${DEFAULT-VALUE})")
  float lr = 0.5f;

  @Option(names = "--seed", paramLabel = "S", description = "random seed, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = 7;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    OptionRange.check(spec, "--steps", steps, 1, MAX_STEPS);
    OptionRange.check(spec, "--hidden", hidden, 1, MAX_HIDDEN);
    OptionRange.check(spec, "--lr", lr, 0f, true, Float.parseFloat(MAX_LR));
    Random rng = new Random(seed);
    int n = 256;
    float[] xs = new float[n * 2];
    float[] targets = new float[n * 2];
    for (int i = 0; i < n; i++) {
      int cls = i % 2;
      double t = 0.5 + 3.0 * (i / 2) / (n / 2.0);
      double r = t;
      double a = t * 2.2 + cls * Math.PI;
      xs[2 * i] = (float) (r * Math.cos(a) / 3.5 + rng.nextGaussian() * 0.02);
      xs[2 * i + 1] = (float) (r * Math.sin(a) / 3.5 + rng.nextGaussian() * 0.02);
      targets[2 * i + cls] = 1f;
    }
    Tensor x = Tensor.of(xs, n, 2);
    Tensor y = Tensor.of(targets, n, 2);
    Tensor w1 = scaled(Tensor.randn(rng, hidden, 2), (float) Math.sqrt(2.0));
    Tensor b1 = Tensor.zeros(hidden);
    Tensor w2 = scaled(Tensor.randn(rng, 2, hidden), (float) Math.sqrt(1.0 / hidden));
    Tensor b2 = Tensor.zeros(2);
    List<Double> losses = new ArrayList<>();
    double accuracy = 0;
    long start = System.nanoTime();
    if (!json) {
      System.out.printf("two spirals, %d points; MLP 2-%d-2 (GELU), SGD lr %.3g, %d threads%n", n, hidden, lr, Parallel.threads());
    }
    for (int step = 1; step <= steps; step++) {
      try (Scope scope = Scope.open(); var g = GradMode.enable()) {
        Tensor[] params = {w1.requiresGrad(true), b1.requiresGrad(true), w2.requiresGrad(true), b2.requiresGrad(true)};
        Tensor logits = Ops.linear(Ops.gelu(Ops.linear(x, params[0], params[1])), params[2], params[3]);
        Tensor logp = Ops.logSoftmax(logits, -1);
        Tensor loss = Ops.mulScalar(Ops.sumAll(Ops.mul(logp, y)), -1f / n);
        loss.backward();
        double l = loss.item();
        losses.add(l);
        try (var off = GradMode.disable()) {
          // p <- p - lr * dL/dp, kept in the global scope for the next step
          w1 = Ops.sub(params[0].detach(), Ops.mulScalar(params[0].grad(), lr)).copyTo(Scope.global());
          b1 = Ops.sub(params[1].detach(), Ops.mulScalar(params[1].grad(), lr)).copyTo(Scope.global());
          w2 = Ops.sub(params[2].detach(), Ops.mulScalar(params[2].grad(), lr)).copyTo(Scope.global());
          b2 = Ops.sub(params[3].detach(), Ops.mulScalar(params[3].grad(), lr)).copyTo(Scope.global());
          if (step == steps || step % Math.max(1, steps / 10) == 0) {
            accuracy = accuracy(logits, y, n);
            if (!json) {
              System.out.printf("step %4d  loss %.4f  accuracy %.3f%n", step, l, accuracy);
            }
          }
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (json) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("steps", steps);
      out.put("hidden", hidden);
      out.put("initial_loss", losses.get(0));
      out.put("final_loss", losses.get(losses.size() - 1));
      out.put("accuracy", accuracy);
      out.put("seconds", seconds);
      System.out.println(new ObjectMapper().writeValueAsString(out));
    } else {
      System.out.printf("loss %.4f -> %.4f in %.2f s%n", losses.get(0), losses.get(losses.size() - 1), seconds);
    }
    return 0;
  }

  private static Tensor scaled(Tensor t, float s) {
    return Ops.mulScalar(t, s);
  }

  private static double accuracy(Tensor logits, Tensor y, int n) {
    long[] pred = Ops.argmax(logits.detach(), -1, false).toLongArray();
    float[] yv = y.toFloatArray();
    int ok = 0;
    for (int i = 0; i < n; i++) {
      ok += yv[2 * i + (int) pred[i]] == 1f ? 1 : 0;
    }
    return ok / (double) n;
  }
}
