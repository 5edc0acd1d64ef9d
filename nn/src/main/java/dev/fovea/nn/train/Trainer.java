package dev.fovea.nn.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.io.SafetensorsSource;
import dev.fovea.tensor.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.ToLongFunction;

/**
 * The training loop: batches from a {@link BatchSource}, a caller's loss, forward and backward,
 * gradient clipping, an {@link AdamW} step under an {@link LrSchedule}, each step in its own
 * {@link Scope}.
 *
 * <pre>{@code
 * try (Trainable params = Trainable.of(model);
 *      AdamW opt = new AdamW(params, AdamW.Config.defaults().withLr(3e-4), AdamW.DECAY_MATRICES)) {
 *   var trainer = new Trainer<>(params, opt, LrSchedule.cosineWithWarmup(100, 2000, 0.1),
 *       BatchSource.shuffled(data, 16), (batch, rng) -> Ops.crossEntropy(model.forward(...), labels),
 *       Trainer.Config.steps(2000).withSeed(42).withMaxGradNorm(1).withCheckpoints(dir, 200, 3));
 *   trainer.resumeLatest();          // continues from dir's newest checkpoint, if any
 *   trainer.run();
 * }
 * }</pre>
 *
 * One step: for each of the {@code accumulation} micro-batches, in a scope of its own with grad
 * mode on, the batch is fetched (so tensors it makes die with the scope), the loss function builds
 * the graph and returns a scalar, {@code (loss / accumulation)} is back-propagated, and the leaves'
 * gradients are added into {@link Trainable}'s buffers, so a micro-batch's activations are freed
 * before the next one. Then the global gradient norm is clipped, the optimizer steps at {@code
 * factor(step)} of its learning rates, the listeners hear about it, {@code loss.csv} gets a line,
 * and every {@code checkpointEvery} steps (and after the last) a checkpoint is written ({@link
 * Checkpoints}). A loss function may turn on activation checkpointing ({@code
 * autograd.Checkpoint.enable()}) around its forward to hold one layer's graph at a time.
 *
 * <p>Determinism: the data come from the source by (batch index, seed), and the {@link Random}
 * handed to the loss function (for augmentation or dropout) is seeded from (seed, batch index);
 * there is no other random state. The engine's kernels give the same bits at any thread count, the
 * optimizer is elementwise, and every sum here runs in a fixed order; so a run gives the same weights
 * bit for bit at any thread count, and a run resumed from a checkpoint (weights, optimizer moments
 * and steps, and the step) continues exactly as the uninterrupted run.
 */
public final class Trainer<B> {
  /**
   * The run's settings.
   *
   * @param steps optimizer steps of the whole run
   * @param accumulation micro-batches per step (gradient accumulation; 1 = none)
   * @param maxGradNorm clip the global L2 norm of the gradient to this (0 = never clip; the norm is still reported)
   * @param seed seeds the data order and the loss function's Random
   * @param dir the run's folder (checkpoints, loss.csv), or null for neither
   * @param checkpointEvery write a checkpoint every this many steps, and at the end (0: only at the end; needs dir)
   * @param keepCheckpoints keep only the newest this many checkpoints (0 = all)
   * @param extraFiles files written into every checkpoint folder (config.json, tokenizer files), by name
   */
  public record Config(long steps, int accumulation, double maxGradNorm, long seed, Path dir, long checkpointEvery, int keepCheckpoints,
      Map<String, byte[]> extraFiles) {
    public Config {
      if (steps < 1) {
        throw new TrainException("steps must be at least 1, got " + steps);
      }
      if (accumulation < 1) {
        throw new TrainException("gradient accumulation must be at least 1 micro-batch, got " + accumulation);
      }
      if (!(maxGradNorm >= 0)) {
        throw new TrainException("max grad norm must be >= 0 (0: no clipping), got " + maxGradNorm);
      }
      if (checkpointEvery < 0 || keepCheckpoints < 0) {
        throw new TrainException("checkpoint interval and count must be >= 0");
      }
      for (String name : extraFiles.keySet()) {
        if (name.contains("/") || name.startsWith(".") || List.of(Checkpoints.MODEL, Checkpoints.OPTIMIZER, Checkpoints.STATE,
            Checkpoints.LOSS_CURVE).contains(name)) {
          throw new TrainException("extra checkpoint file '" + name + "' is not a plain file name or clashes with the checkpoint's own files");
        }
      }
      extraFiles = Map.copyOf(extraFiles);
    }

    /** {@code steps} steps, no accumulation, clipping at 1.0 (the HF Trainer's default), seed 0, no folder. */
    public static Config steps(long steps) {
      return new Config(steps, 1, 1.0, 0, null, 0, 0, Map.of());
    }

    public Config withAccumulation(int micro) {
      return new Config(steps, micro, maxGradNorm, seed, dir, checkpointEvery, keepCheckpoints, extraFiles);
    }

    public Config withMaxGradNorm(double v) {
      return new Config(steps, accumulation, v, seed, dir, checkpointEvery, keepCheckpoints, extraFiles);
    }

    public Config withSeed(long v) {
      return new Config(steps, accumulation, maxGradNorm, v, dir, checkpointEvery, keepCheckpoints, extraFiles);
    }

    /** Checkpoints into {@code runDir} every {@code every} steps and at the end, keeping the newest {@code keep} (0 = all). */
    public Config withCheckpoints(Path runDir, long every, int keep) {
      return new Config(steps, accumulation, maxGradNorm, seed, runDir, every, keep, extraFiles);
    }

    public Config withExtraFiles(Map<String, byte[]> files) {
      return new Config(steps, accumulation, maxGradNorm, seed, dir, checkpointEvery, keepCheckpoints, files);
    }
  }

  /** The scalar loss of one micro-batch; called in grad mode inside the micro-batch's scope. */
  @FunctionalInterface
  public interface LossFunction<B> {
    Tensor loss(B batch, Random rng);
  }

  /** What a run did. */
  public record Result(long steps, double firstLoss, double lastLoss, double seconds, Path lastCheckpoint) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CSV_HEADER = "step,loss,lr,grad_norm,examples,tokens,seconds";

  private final Trainable params;
  private final AdamW optimizer;
  private final LrSchedule schedule;
  private final BatchSource<B> source;
  private final LossFunction<B> lossFunction;
  private final Config config;
  private final List<TrainingListener> listeners = new ArrayList<>();
  private ToLongFunction<B> examplesOf = b -> b instanceof List<?> l ? l.size() : 1;
  private ToLongFunction<B> tokensOf = b -> 0;
  private long step;
  private final List<String> curve = new ArrayList<>();

  public Trainer(Trainable params, AdamW optimizer, LrSchedule schedule, BatchSource<B> source, LossFunction<B> lossFunction, Config config) {
    this.params = params;
    this.optimizer = optimizer;
    this.schedule = schedule;
    this.source = source;
    this.lossFunction = lossFunction;
    this.config = config;
  }

  /** How many examples and tokens a micro-batch holds, for the throughput figures (default: a List's size, no tokens). */
  public Trainer<B> counting(ToLongFunction<B> examples, ToLongFunction<B> tokens) {
    this.examplesOf = examples;
    this.tokensOf = tokens;
    return this;
  }

  public Trainer<B> addListener(TrainingListener listener) {
    listeners.add(listener);
    return this;
  }

  /** Steps done so far (the next step's 0-based index). */
  public long step() {
    return step;
  }

  // ---------------------------------------------------------------- the loop

  /** Runs from the current step (0, or where {@link #resume} left it) to {@code config.steps()}. */
  public Result run() {
    if (step == 0 && config.dir() != null && !Checkpoints.list(config.dir()).isEmpty()) {
      throw new TrainException(config.dir() + " already holds checkpoints of a run (" + Checkpoints.latest(config.dir()).orElseThrow().getFileName()
          + "): resume it (Trainer.resumeLatest) or use another folder");
    }
    if (step == 0 && config.dir() != null) {
      writeCurve(config.dir().resolve(Checkpoints.LOSS_CURVE));
    }
    long start = System.nanoTime();
    double first = Double.NaN;
    double last = Double.NaN;
    Path lastCheckpoint = null;
    while (step < config.steps()) {
      TrainingListener.StepReport r = trainStep((System.nanoTime() - start) / 1e9);
      step++;
      if (Double.isNaN(first)) {
        first = r.loss();
      }
      last = r.loss();
      String line = String.format(Locale.ROOT, "%d,%s,%s,%s,%d,%d,%.6f", r.step(), r.loss(), r.lr(), r.gradNorm(), r.examples(), r.tokens(),
          r.seconds());
      curve.add(line);
      for (TrainingListener l : listeners) {
        l.onStep(r);
      }
      if (config.dir() != null) {
        appendCurve(config.dir().resolve(Checkpoints.LOSS_CURVE), line);
        boolean due = config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0;
        if (due || step == config.steps()) {
          lastCheckpoint = save(r.loss());
        }
      }
    }
    return new Result(step, first, last, (System.nanoTime() - start) / 1e9, lastCheckpoint);
  }

  private TrainingListener.StepReport trainStep(double elapsedBefore) {
    long t0 = System.nanoTime();
    int micro = config.accumulation();
    double loss = 0;
    long examples = 0;
    long tokens = 0;
    long scopeBytes = 0;
    params.zeroGrad();
    for (int k = 0; k < micro; k++) {
      long index = step * micro + k;
      try (Scope scope = Scope.open(); var g = GradMode.enable()) {
        B batch = source.batch(index, config.seed()); // inside the scope: tensors a batch makes die with it
        examples += examplesOf.applyAsLong(batch);
        tokens += tokensOf.applyAsLong(batch);
        Tensor l = lossFunction.loss(batch, new Random(Seeds.mix(config.seed(), 0x1055L, index)));
        if (l == null || l.numel() != 1) {
          throw new TrainException("step " + (step + 1) + ": the loss function must return a one-element tensor, got " + l);
        }
        float value = l.item();
        if (!Float.isFinite(value)) {
          throw new TrainException("step " + (step + 1) + ", micro-batch " + k + " (batch index " + index + "): the loss is " + value);
        }
        if (!l.requiresGrad()) {
          throw new TrainException("step " + (step + 1) + ": the loss does not depend on any trained parameter (no graph was recorded)");
        }
        // as PyTorch's (loss / accumulation).backward(): the same division, so the same gradients
        (micro > 1 ? Ops.div(l, Tensor.scalar(micro)) : l).backward();
        params.collectGradients();
        loss += (double) value / micro;
        scopeBytes += scope.allocatedBytes();
      }
    }
    double lrFactor = schedule.factor(step);
    double norm;
    boolean clipped;
    try (Scope scope = Scope.open()) {
      List<Tensor> grads = params.presentGradients();
      if (config.maxGradNorm() > 0) {
        norm = GradClip.clipGradNorm(grads, config.maxGradNorm());
        clipped = GradClip.coefficient(norm, config.maxGradNorm()) < 1f;
      } else {
        norm = GradClip.totalNorm(grads);
        clipped = false;
      }
      if (!Double.isFinite(norm)) {
        throw new TrainException("step " + (step + 1) + ": the gradient norm is " + norm + " (the loss was " + loss + ")");
      }
      optimizer.step(lrFactor);
      scopeBytes += scope.allocatedBytes();
    }
    params.zeroGrad();
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new TrainingListener.StepReport(step + 1, config.steps(), loss, optimizer.lr(0, lrFactor), norm, clipped, examples, tokens, seconds,
        elapsedBefore + seconds, scopeBytes);
  }

  /** One line more (a crash may tear the last line; a resume rewrites the file from the checkpoint's copy). */
  private static void appendCurve(Path file, String line) {
    try {
      Files.writeString(file, line + "\n", StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new TrainException("cannot append to " + file + ": " + e, e);
    }
  }

  /** The whole curve so far, replacing the file. */
  private void writeCurve(Path file) {
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw new TrainException("cannot create " + file.getParent() + ": " + e, e);
    }
    Checkpoints.writeAtomically(file, curveText().getBytes(StandardCharsets.UTF_8));
  }

  private String curveText() {
    StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
    for (String line : curve) {
      sb.append(line).append('\n');
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- checkpoints

  /** Writes checkpoint {@code step()} into the run's folder now; returns its folder. */
  public Path save() {
    return save(Double.NaN);
  }

  private Path save(double loss) {
    if (config.dir() == null) {
      throw new TrainException("this run has no folder for checkpoints (Config.withCheckpoints)");
    }
    Path folder = Checkpoints.write(config.dir(), step, tmp -> {
      try (Scope scope = Scope.open()) {
        SafetensorsWriter.write(tmp.resolve(Checkpoints.MODEL), params.stateDict(), Map.of("format", "pt"));
      }
      optimizer.save(tmp.resolve(Checkpoints.OPTIMIZER));
      Files.write(tmp.resolve(Checkpoints.STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state(loss)));
      Files.writeString(tmp.resolve(Checkpoints.LOSS_CURVE), curveText());
      for (Map.Entry<String, byte[]> e : config.extraFiles().entrySet()) {
        Files.write(tmp.resolve(e.getKey()), e.getValue());
      }
    });
    Checkpoints.prune(config.dir(), config.keepCheckpoints());
    for (TrainingListener l : listeners) {
      l.onCheckpoint(step, folder);
    }
    return folder;
  }

  private ObjectNode state(double loss) {
    ObjectNode s = JSON.createObjectNode();
    s.put("format", "fovea.trainer/1");
    s.put("step", step);
    s.put("total_steps", config.steps());
    s.put("seed", config.seed());
    s.put("accumulation", config.accumulation());
    s.put("max_grad_norm", config.maxGradNorm());
    s.put("next_batch_index", step * config.accumulation());
    s.put("schedule", schedule.describe());
    s.put("lr_factor_next", schedule.factor(step));
    if (!Double.isNaN(loss)) {
      s.put("loss", loss);
    }
    ObjectNode rng = s.putObject("rng");
    rng.put("seed", config.seed());
    rng.put("state", "none: data order and the loss function's Random are seeded from (seed, batch index), so a resume needs only the step");
    ObjectNode opt = s.putObject("optimizer");
    AdamW.Config c = optimizer.config();
    opt.put("type", "AdamW");
    opt.put("lr", c.lr());
    opt.putArray("betas").add(c.beta1()).add(c.beta2());
    opt.put("eps", c.eps());
    opt.put("weight_decay", c.weightDecay());
    ObjectNode groups = opt.putObject("groups");
    optimizer.groupsByParameter().forEach(groups::put);
    ArrayNode names = s.putArray("trained_parameters");
    params.names().forEach(names::add);
    return s;
  }

  /**
   * Continues from a checkpoint folder: the trained weights, the optimizer state and the step, and
   * the loss curve up to it (the run's loss.csv is rewritten to end there). The checkpoint must come
   * from a run with the same seed and accumulation (else the data order would differ).
   */
  public void resume(Path checkpoint) {
    JsonNode s;
    try {
      s = JSON.readTree(checkpoint.resolve(Checkpoints.STATE).toFile());
    } catch (IOException e) {
      throw new TrainException("cannot read " + checkpoint.resolve(Checkpoints.STATE) + ": " + e.getMessage(), e);
    }
    if (!"fovea.trainer/1".equals(s.path("format").asText())) {
      throw new TrainException(checkpoint.resolve(Checkpoints.STATE) + " is not a fovea trainer state (format " + s.path("format") + ")");
    }
    if (s.get("seed").asLong() != config.seed() || s.get("accumulation").asInt() != config.accumulation()) {
      throw new TrainException(checkpoint + " was written with seed " + s.get("seed").asLong() + " and accumulation " + s.get("accumulation").asInt()
          + ", this run has seed " + config.seed() + " and accumulation " + config.accumulation() + ": the data order would differ");
    }
    try (var weights = SafetensorsSource.open(checkpoint.resolve(Checkpoints.MODEL))) {
      params.loadValues(weights);
    }
    optimizer.load(checkpoint.resolve(Checkpoints.OPTIMIZER));
    step = s.get("step").asLong();
    curve.clear();
    try {
      List<String> lines = Files.readAllLines(checkpoint.resolve(Checkpoints.LOSS_CURVE));
      curve.addAll(lines.subList(1, lines.size()));
    } catch (IOException e) {
      throw new TrainException("cannot read " + checkpoint.resolve(Checkpoints.LOSS_CURVE) + ": " + e.getMessage(), e);
    }
    if (config.dir() != null) {
      writeCurve(config.dir().resolve(Checkpoints.LOSS_CURVE));
    }
  }

  /** Resumes from the newest checkpoint of the run's folder when there is one; returns whether it did. */
  public boolean resumeLatest() {
    if (config.dir() == null) {
      return false;
    }
    var latest = Checkpoints.latest(config.dir());
    latest.ifPresent(this::resume);
    return latest.isPresent();
  }
}
