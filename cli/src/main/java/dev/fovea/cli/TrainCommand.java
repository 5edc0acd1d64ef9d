package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.methods.minillava.MiniLlava;
import dev.fovea.methods.minillava.SceneExamples;
import dev.fovea.methods.minillava.SceneTraining;
import dev.fovea.methods.scenes.SceneGenerator;
import dev.fovea.nn.train.AdamW;
import dev.fovea.nn.train.Checkpoints;
import dev.fovea.nn.train.Trainable;
import dev.fovea.nn.train.Trainer;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Trains fovea's mini LLaVA on synthetic scenes ({@link SceneTraining}): the model the repository
 * ships in {@code models/scenes-llava} comes from this command with its defaults.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Train the mini LLaVA (CLIP ViT 64 px + projector + the stories260K decoder) on synthetic scenes with fovea's autograd.",
        "Writes DIR/checkpoint-<step>/ (llava-hf model folders, with the optimizer state to resume from), DIR/loss.csv and DIR/train.json;"
            + " rerun the same command to resume from the newest checkpoint. The same seed gives the same weights bit for bit at any thread count."})
final class TrainCommand implements Callable<Integer> {
  static final long MAX_STEPS = 10_000_000;

  @Spec CommandSpec spec;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "run folder (created; resumed when it holds checkpoints)")
  Path out;

  @Option(names = "--steps", paramLabel = "N", description = "optimizer steps, 1 to " + MAX_STEPS + " (default: ${DEFAULT-VALUE})")
  long steps = SceneTraining.Config.defaults().steps();

  @Option(names = "--batch", paramLabel = "N", description = "examples per step, 1 to 256 (default: ${DEFAULT-VALUE})")
  int batch = SceneTraining.Config.defaults().batch();

  @Option(names = "--lr", paramLabel = "LR", description = "peak learning rate, in (0, 1] (default: ${DEFAULT-VALUE})")
  float lr = (float) SceneTraining.Config.defaults().lr();

  @Option(names = "--warmup", paramLabel = "N", description = "warm-up steps, 0 to --steps (default: " + SceneTraining.Config.DEFAULT_WARMUP + ", at most a tenth of --steps)")
  Long warmupOption;

  long warmup;

  @Option(names = "--attention-weight", paramLabel = "W",
      description = "weight of the term that teaches layer " + MiniLlava.ATTENTION_LAYER + "'s attention to look at the answer, 0 to 100 (default: ${DEFAULT-VALUE})")
  float attentionWeight = (float) SceneTraining.Config.defaults().attentionWeight();

  @Option(names = "--patch-weight", paramLabel = "W",
      description = "weight of the term that teaches the decoder, at each image token, the colour of what its patch shows, 0 to 100 (default: ${DEFAULT-VALUE})")
  float patchWeight = (float) SceneTraining.Config.defaults().patchWeight();

  @Option(names = "--attention-per-head",
      description = "apply the attention term to each head's attention, averaged over heads, instead of to the head mean")
  boolean attentionPerHead;

  @Option(names = "--seed", paramLabel = "S", description = "seeds the initialization, the scenes and every draw, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = SceneTraining.Config.defaults().seed();

  @Option(names = "--checkpoint-every", paramLabel = "N", description = "steps between checkpoints, 0 (only at the end) to --steps (default: 250, or --steps when fewer)")
  Long checkpointEveryOption;

  long checkpointEvery;

  @Option(names = "--init", paramLabel = "GGUF", description = "the decoder to start from (default: the repository's models/stories260K/stories260K.gguf)")
  Path init;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    OptionRange.check(spec, "--steps", steps, 1, MAX_STEPS);
    OptionRange.check(spec, "--batch", batch, 1, 256);
    OptionRange.check(spec, "--lr", lr, 0f, true, 1f);
    warmup = warmupOption != null ? OptionRange.check(spec, "--warmup", warmupOption, 0, steps) : Math.min(SceneTraining.Config.DEFAULT_WARMUP, steps / 10);
    OptionRange.check(spec, "--attention-weight", attentionWeight, 0f, false, 100f);
    OptionRange.check(spec, "--patch-weight", patchWeight, 0f, false, 100f);
    checkpointEvery = checkpointEveryOption != null ? OptionRange.check(spec, "--checkpoint-every", checkpointEveryOption, 0, steps) : Math.min(250, steps);
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path gguf = init != null ? init : DefaultModels.storiesGguf();
    Path tokenizerBin = DefaultModels.storiesTokenizer();
    SceneTraining.Config config = SceneTraining.Config.defaults().withSteps(steps).withBatch(batch).withLr(lr).withWarmup(warmup)
        .withAttentionWeight(attentionWeight).withPatchWeight(patchWeight).withSeed(seed).withAttentionPerHead(attentionPerHead);
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
    }
    Files.createDirectories(out);
    Path settings = out.resolve("train.json");
    Map<String, Object> run = new LinkedHashMap<>(config.toJson());
    run.put("init", gguf.getFileName().toString());
    run.put("model", "fovea mini LLaVA (models/scenes-llava layout)");
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    if (Files.isRegularFile(settings)) {
      @SuppressWarnings("unchecked")
      Map<String, Object> before = mapper.readValue(settings.toFile(), Map.class);
      if (!String.valueOf(before).equals(String.valueOf(mapper.readValue(mapper.writeValueAsBytes(run), Map.class)))) {
        throw new IllegalArgumentException("--out " + out + " holds a run with other settings (" + settings + "); use another folder");
      }
    } else {
      Checkpoints.writeAtomically(settings, mapper.writeValueAsBytes(run));
    }
    TextTokenizer tokenizer = TokenizerLoader.fromLlama2cBin(tokenizerBin);
    SceneExamples examples = new SceneExamples(new SceneGenerator(SceneGenerator.DEFAULT_SIZE), tokenizer);
    Map<String, byte[]> files = MiniLlava.folderFiles(tokenizerBin);
    files.put("train.json", Files.readAllBytes(settings));
    long t0 = System.nanoTime();
    try (LlavaForConditionalGeneration model = MiniLlava.create(gguf, seed); Trainable params = Trainable.of(model);
        AdamW optimizer = SceneTraining.optimizer(params, config)) {
      SceneTraining training = new SceneTraining(model, examples, config);
      Trainer<List<SceneExamples.Example>> trainer = training.trainer(params, optimizer,
          Trainer.Config.steps(steps).withSeed(seed).withMaxGradNorm(config.maxGradNorm()).withCheckpoints(out, checkpointEvery, 2).withExtraFiles(files));
      boolean resumed = trainer.resumeLatest();
      if (!json) {
        err.printf(Locale.ROOT, "%s %s: %d parameters, %d steps of %d examples, AdamW lr %.3g (warm-up %d, cosine), attention weight %.3g, seed %d, %d threads%n",
            resumed ? "resuming at step " + trainer.step() + " of" : "training", out, params.size(), steps, batch, lr, warmup, attentionWeight, seed,
            Parallel.threads());
        err.flush();
      }
      ProgressBar bar = noProgress ? null : Progress.bar("train", steps, Progress.Unit.NONE, err);
      if (bar != null) {
        bar.stepTo(trainer.step());
      }
      trainer.addListener(r -> {
        if (bar != null) {
          bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f, %.1f ex/s", r.loss(), r.examplesPerSecond()));
          bar.stepTo(r.step());
        }
      });
      Trainer.Result result;
      try {
        result = trainer.run();
      } finally {
        if (bar != null) {
          bar.close();
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("out", out.toString());
      summary.put("steps", result.steps());
      summary.put("first_loss", result.firstLoss());
      summary.put("last_loss", result.lastLoss());
      summary.put("seconds", seconds);
      summary.put("checkpoint", String.valueOf(result.lastCheckpoint()));
      if (json) {
        stdout.println(new ObjectMapper().writeValueAsString(summary));
      } else {
        stdout.printf(Locale.ROOT, "trained %d steps: loss %.4f -> %.4f in %.1f s%nmodel folder: %s%n", result.steps(), result.firstLoss(),
            result.lastLoss(), seconds, result.lastCheckpoint());
      }
      stdout.flush();
    }
    return 0;
  }
}
