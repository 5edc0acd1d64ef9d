package dev.fovea.nn.train;

import dev.fovea.nn.Parameter;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.cpu.Elements;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.tensor.io.SafetensorsSource;
import dev.fovea.tensor.io.SafetensorsWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * AdamW as {@code torch.optim.AdamW} (adamw.py, {@code _single_tensor_adamw}, the 1.13 CPU default),
 * with parameter groups and a state that can be saved and loaded. For each parameter that has a
 * gradient (parameters without one are skipped, as torch skips {@code grad is None}):
 *
 * <pre>
 * step += 1
 * p  = p * (1 - lr * wd)                          decoupled weight decay
 * m  = beta1 m + (1 - beta1) g                    first moment
 * v  = beta2 v + (1 - beta2) g^2                  second moment
 * p  = p - (lr / (1 - beta1^step)) m / (sqrt(v) / sqrt(1 - beta2^step) + eps)   eps outside the sqrt
 * </pre>
 *
 * In float32 with the hyperparameters rounded to float, in torch's association: m and v are updated
 * with fused multiply-adds ({@code fma(g, 1 - beta1, m * beta1)}, {@code fma((1 - beta2) g, g, v *
 * beta2)}), as the vectorized CPU kernels of PyTorch do on AVX2/AVX-512 machines (measured: bit
 * for bit against torch 1.13, tools/reference/train). The update is elementwise, so any thread
 * count gives the same result.
 *
 * <p>State, per parameter: the step count and m, v in float32 off-heap memory this object owns.
 */
public final class AdamW implements AutoCloseable {
  /** Hyperparameters; {@link #defaults()} are torch's (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01). */
  public record Config(double lr, double beta1, double beta2, double eps, double weightDecay) {
    public Config {
      if (!(lr >= 0) || !(eps >= 0) || !(weightDecay >= 0)) {
        throw new TrainException("AdamW: lr, eps and weight_decay must be >= 0 (got " + lr + ", " + eps + ", " + weightDecay + ")");
      }
      if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
        throw new TrainException("AdamW: betas must be within [0, 1) (got " + beta1 + ", " + beta2 + ")");
      }
    }

    public static Config defaults() {
      return new Config(1e-3, 0.9, 0.999, 1e-8, 0.01);
    }

    public Config withLr(double v) {
      return new Config(v, beta1, beta2, eps, weightDecay);
    }

    public Config withWeightDecay(double v) {
      return new Config(lr, beta1, beta2, eps, v);
    }

    public Config withBetas(double b1, double b2) {
      return new Config(lr, b1, b2, eps, weightDecay);
    }

    public Config withEps(double v) {
      return new Config(lr, beta1, beta2, v, weightDecay);
    }
  }

  /**
   * A parameter group: the parameters {@code selects} accepts (name, parameter), with their own base
   * learning rate and weight decay. Each parameter joins the first group that selects it.
   */
  public record Group(String name, BiPredicate<String, Parameter> selects, double lr, double weightDecay) {}

  /** The usual rule: weight decay for matrices and embeddings (rank >= 2), none for biases and norm weights (rank &lt; 2). */
  public static final BiPredicate<String, Parameter> DECAY_MATRICES = (name, p) -> p.shape().length >= 2;

  private final Trainable params;
  private final Config config;
  private final List<String> groupNames = new ArrayList<>();
  private final double[] groupLr;
  private final double[] groupWeightDecay;
  private final int[] groupOf; // parameter -> group
  private final long[] steps;
  private final Tensor[] expAvg;
  private final Tensor[] expAvgSq;
  private final Scope memory = Scope.detached();

  /** One group: every parameter decays with {@code config.weightDecay()} (torch's behaviour without groups). */
  public AdamW(Trainable params, Config config) {
    this(params, config, List.of());
  }

  /**
   * Two groups, "decay" (what {@code decays} accepts, with {@code config.weightDecay()}) and
   * "no_decay" (weight decay 0), e.g. {@link #DECAY_MATRICES}.
   */
  public AdamW(Trainable params, Config config, BiPredicate<String, Parameter> decays) {
    this(params, config, List.of(new Group("decay", decays, config.lr(), config.weightDecay()),
        new Group("no_decay", decays.negate(), config.lr(), 0.0)));
  }

  /** Explicit groups; parameters no group selects form a last group "default" with {@code config}'s lr and weight decay. */
  public AdamW(Trainable params, Config config, List<Group> groups) {
    this.params = params;
    this.config = config;
    int n = params.size();
    groupOf = new int[n];
    List<Double> lrs = new ArrayList<>();
    List<Double> wds = new ArrayList<>();
    for (Group g : groups) {
      if (groupNames.contains(g.name()) || g.name().equals("default")) {
        throw new TrainException("AdamW: group name '" + g.name() + "' is used twice or reserved");
      }
      new Config(g.lr(), config.beta1(), config.beta2(), config.eps(), g.weightDecay()); // validates
      groupNames.add(g.name());
      lrs.add(g.lr());
      wds.add(g.weightDecay());
    }
    boolean needDefault = false;
    for (int i = 0; i < n; i++) {
      groupOf[i] = groups.size();
      for (int k = 0; k < groups.size(); k++) {
        if (groups.get(k).selects().test(params.name(i), params.parameter(i))) {
          groupOf[i] = k;
          break;
        }
      }
      needDefault |= groupOf[i] == groups.size();
    }
    if (needDefault) {
      groupNames.add("default");
      lrs.add(config.lr());
      wds.add(config.weightDecay());
    }
    groupLr = lrs.stream().mapToDouble(Double::doubleValue).toArray();
    groupWeightDecay = wds.stream().mapToDouble(Double::doubleValue).toArray();
    steps = new long[n];
    expAvg = new Tensor[n];
    expAvgSq = new Tensor[n];
    for (int i = 0; i < n; i++) {
      expAvg[i] = zeros(params.value(i).shape());
      expAvgSq[i] = zeros(params.value(i).shape());
    }
  }

  private Tensor zeros(int[] shape) {
    Storage s = memory.allocateStorage(DType.F32, Shapes.numel(shape));
    s.segment().fill((byte) 0);
    return new Tensor(s, shape, Shapes.contiguousStrides(shape), 0);
  }

  public Config config() {
    return config;
  }

  /** Group names in order (a last "default" group when some parameter matched none). */
  public List<String> groupNames() {
    return List.copyOf(groupNames);
  }

  /** Which group each parameter belongs to, by parameter name. */
  public Map<String, String> groupsByParameter() {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < params.size(); i++) {
      out.put(params.name(i), groupNames.get(groupOf[i]));
    }
    return out;
  }

  /** The step count of parameter i (how many updates it received). */
  public long step(int i) {
    return steps[i];
  }

  public Tensor expAvg(int i) {
    return expAvg[i];
  }

  public Tensor expAvgSq(int i) {
    return expAvgSq[i];
  }

  /** The learning rate group {@code k} runs at under schedule factor {@code lrFactor} (torch's LambdaLR: base lr times factor). */
  public double lr(int group, double lrFactor) {
    return groupLr[group] * lrFactor;
  }

  /** One update of every parameter that has a gradient, with each group's lr multiplied by {@code lrFactor}. */
  public void step(double lrFactor) {
    for (int i = 0; i < params.size(); i++) {
      if (!params.hasGradient(i)) {
        continue;
      }
      steps[i]++;
      update(i, groupLr[groupOf[i]] * lrFactor, groupWeightDecay[groupOf[i]], steps[i]);
    }
  }

  private void update(int i, double lr, double weightDecay, long step) {
    // the scalars, as torch forms them in Python (double) and its kernels round them to float
    float decay = (float) (1 - lr * weightDecay);
    float b1 = (float) config.beta1();
    float c1 = (float) (1 - config.beta1());
    float b2 = (float) config.beta2();
    float c2 = (float) (1 - config.beta2());
    double biasCorrection1 = 1 - Math.pow(config.beta1(), step);
    double biasCorrection2 = 1 - Math.pow(config.beta2(), step);
    float negStepSize = (float) -(lr / biasCorrection1);
    float bc2Sqrt = (float) Math.sqrt(biasCorrection2);
    float eps = (float) config.eps();
    MemorySegment p = GradClip.segment(params.value(i));
    MemorySegment g = GradClip.segment(params.gradient(i));
    MemorySegment m = GradClip.segment(expAvg[i]);
    MemorySegment v = GradClip.segment(expAvgSq[i]);
    long n = params.value(i).numel();
    Parallel.forRange(n, 1 << 14, (lo, hi) -> {
      for (long j = lo; j < hi; j++) {
        float gj = g.getAtIndex(Elements.F32, j);
        float pj = p.getAtIndex(Elements.F32, j) * decay;
        float mj = Math.fma(gj, c1, m.getAtIndex(Elements.F32, j) * b1);
        float vj = Math.fma(c2 * gj, gj, v.getAtIndex(Elements.F32, j) * b2);
        float denom = (float) Math.sqrt(vj) / bc2Sqrt + eps;
        m.setAtIndex(Elements.F32, j, mj);
        v.setAtIndex(Elements.F32, j, vj);
        p.setAtIndex(Elements.F32, j, pj + (negStepSize * mj) / denom);
      }
    });
  }

  // ---------------------------------------------------------------- state

  /**
   * Writes the state as safetensors: {@code exp_avg.<name>}, {@code exp_avg_sq.<name>} (F32) and
   * {@code step.<name>} (I64 [1]) for every parameter, and the hyperparameters and groups as metadata.
   */
  public void save(Path file) {
    List<SafetensorsWriter.Item> items = new ArrayList<>();
    try (Scope tmp = Scope.open()) {
      for (int i = 0; i < params.size(); i++) {
        String n = params.name(i);
        items.add(new SafetensorsWriter.Item("exp_avg." + n, expAvg[i]));
        items.add(new SafetensorsWriter.Item("exp_avg_sq." + n, expAvgSq[i]));
        items.add(new SafetensorsWriter.Item("step." + n, Tensor.ofLongs(new long[] {steps[i]}, 1)));
      }
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("format", "fovea.AdamW/1");
      meta.put("lr", Double.toString(config.lr()));
      meta.put("betas", config.beta1() + "," + config.beta2());
      meta.put("eps", Double.toString(config.eps()));
      meta.put("weight_decay", Double.toString(config.weightDecay()));
      meta.put("groups", String.join(",", groupNames));
      SafetensorsWriter.write(file, items, meta);
    }
  }

  /**
   * Reads a state written by {@link #save}: every parameter's moments and step count, checked by
   * name and shape (one error listing every problem). The hyperparameters are this object's, so a
   * resumed run may change them.
   */
  public void load(Path file) {
    try (WeightSource src = SafetensorsSource.open(file)) {
      List<String> problems = new ArrayList<>();
      for (int i = 0; i < params.size(); i++) {
        String n = params.name(i);
        for (String key : List.of("exp_avg." + n, "exp_avg_sq." + n)) {
          if (!src.contains(key)) {
            problems.add(key + ": missing");
          } else if (!Arrays.equals(src.info(key).shape(), params.value(i).shape())) {
            problems.add(key + ": shape " + Arrays.toString(src.info(key).shape()) + ", expected " + Arrays.toString(params.value(i).shape()));
          }
        }
        if (!src.contains("step." + n)) {
          problems.add("step." + n + ": missing");
        }
      }
      if (!problems.isEmpty()) {
        throw new TrainException(file + " is not the optimizer state of these parameters:\n  " + String.join("\n  ", problems));
      }
      for (int i = 0; i < params.size(); i++) {
        String n = params.name(i);
        try (Scope tmp = Scope.open()) {
          Trainable.copy(src.get("exp_avg." + n), expAvg[i]);
          Trainable.copy(src.get("exp_avg_sq." + n), expAvgSq[i]);
          steps[i] = src.get("step." + n).toLongArray()[0];
        }
      }
    }
  }

  /** Frees the moments. */
  @Override
  public void close() {
    memory.close();
  }
}
