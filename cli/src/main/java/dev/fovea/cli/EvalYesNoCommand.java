package dev.fovea.cli;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.methods.eval.EvalJournal;
import dev.fovea.methods.eval.ImageAnswerer;
import dev.fovea.methods.eval.Journal;
import dev.fovea.methods.eval.MmeDataset;
import dev.fovea.methods.eval.MmeScores;
import dev.fovea.methods.eval.PopeDataset;
import dev.fovea.methods.eval.PopeMetrics;
import dev.fovea.methods.eval.PromptVariant;
import dev.fovea.methods.eval.YesNoEvaluation;
import dev.fovea.methods.eval.YesNoItem;
import dev.fovea.methods.eval.YesNoParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What {@code eval pope} and {@code eval mme} share: the model and decoding options, the checks before
 * any model work (options, then the whole data set, images included), the results file opened once the
 * model has accepted the settings, the resumable loop ({@link YesNoEvaluation}) with a progress bar,
 * and the summary. A decoding method plugs in at {@link #answerer}.
 */
abstract class EvalYesNoCommand implements Callable<Integer> {


  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", paramLabel = "PATH",
      description = "llava-hf or original LLaVA folder, a .fovea archive, or a GGUF model (with --mmproj) (default: the shipped mini LLaVA, models/scenes-llava)")
  Path model;

  @CommandLine.Mixin LlavaFileOptions files;

  @CommandLine.Mixin DecodeOptions decoding;

  @Option(names = "--prompt", paramLabel = "vcd|raw|llava",
      description = "what follows the question: vcd \" Please answer this question with one word.\", raw nothing, llava \" Answer the question using a single word or phrase.\" (default: vcd for POPE, raw for MME)")
  String prompt;

  @Option(names = "--system", paramLabel = "NAME", description = "conversation template: llava_hf, vicuna_v1 or llava_v1 (default: vicuna_v1 for an original haotian-liu checkpoint, else llava_hf)")
  String system;

  @Option(names = "--seed", paramLabel = "S", description = "sampler seed of every answer, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(names = "--max-new-tokens", paramLabel = "N", description = "answer length, 1 to the model's context (default: ${DEFAULT-VALUE})")
  int maxNewTokens = 64;

  @Option(names = "--temperature", paramLabel = "T", description = "sample at temperature T, 0 (greedy) to " + AskCommand.MAX_TEMPERATURE + " (default: greedy)")
  Float temperature;

  @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling mass, in (0, 1] (default: ${DEFAULT-VALUE}, off)")
  float topP = 1f;

  @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens, 0 (off) to the model's vocabulary size (default: 0)")
  int topK = 0;

  @CommandLine.Mixin EvalResultsOptions results;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  /** "pope", "mme", "chair", "amber". */
  abstract String benchmark();

  abstract PromptVariant defaultPrompt();

  /** The parser of this run (options checked). */
  abstract YesNoParser parser();

  /**
   * POPE and MME: checks the data options (usage errors) and reads every item, images checked to exist.
   * Benchmarks with their own loop override {@link #load} and {@link #loop} instead.
   */
  List<YesNoItem> items() throws IOException {
    throw new UnsupportedOperationException(benchmark() + " overrides load()");
  }

  /** What names the data in the results file's settings. */
  abstract Map<String, String> dataSettings();

  /** The data in the one-line heading of the text summary. */
  abstract String dataName();

  /** POPE and MME: the summary, a table or JSON. */
  String summary(YesNoEvaluation.Outcome outcome, boolean json) {
    throw new UnsupportedOperationException(benchmark() + " overrides loop()");
  }

  /** What a run's loop gives: the counts and the summary as a table and as JSON (one line). */
  record Done(long answered, long resumed, String table, String json) {}

  private List<YesNoItem> yesNoItems;

  /** Checks the data options (usage errors) and reads every item, before any model work; returns how many there are. */
  long load() throws IOException {
    yesNoItems = items();
    return yesNoItems.size();
  }

  /** The resumable loop over the loaded items, with a progress bar ({@link YesNoEvaluation} for POPE and MME). */
  Done loop(ImageAnswerer answerer, EvalJournal journal, String method, PromptVariant variant, YesNoParser parser, Progress.Questions bar)
      throws IOException {
    YesNoEvaluation eval = new YesNoEvaluation(answerer, journal, method, variant, parser, seed)
        .listener(p -> bar.step(p.done(), p.accuracyPercent(), p.resumed()));
    if (results.limit != null) {
      eval.limit(results.limit);
    }
    YesNoEvaluation.Outcome outcome = eval.run(yesNoItems);
    return new Done(outcome.answered(), outcome.resumed(), summary(outcome, false), summary(outcome, true));
  }

  CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }
  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    device.require();
    OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, Integer.MAX_VALUE);
    if (temperature != null) {
      OptionRange.check(spec, "--temperature", temperature, 0f, false, Float.parseFloat(AskCommand.MAX_TEMPERATURE));
    }
    OptionRange.check(spec, "--top-p", topP, 0f, true, 1f);
    OptionRange.check(spec, "--top-k", topK, 0, Integer.MAX_VALUE);
    decoding.check(spec);
    if (temperature == null && !decoding.contrastive() && (topP != 1f || topK != 0)) {
      throw usage("--top-p and --top-k need --temperature (the default is greedy; vcd and avc sample at temperature 1)");
    }
    results.checkLimit(spec);
    String method = decoding.name();
    PromptVariant variant = promptOption();
    YesNoParser parser = parser();
    if (system != null) {
      try {
        LlavaPrompt.Template.named(system);
      } catch (RuntimeException e) {
        throw usage("--system: " + e.getMessage());
      }
    }
    long count = load();
    SamplingConfig user = new SamplingConfig(temperature == null ? 0f : temperature, topK, topP, 1f);
    SamplingConfig sampling = decoding.contrastive() ? DecodeOptions.contrastiveSampling(temperature, user) : user;
    GenerationConfig generation = GenerationConfig.maxNewTokens(maxNewTokens);
    long total = results.limit == null ? count : Math.min(count, results.limit);
    PrintWriter stdout = spec.commandLine().getOut();
    if (model == null) {
      if (files.mmproj != null) {
        throw usage("--mmproj goes with --model (the GGUF model it pairs with)");
      }
      model = DefaultModels.scenesLlava();
    }
    if (InstructBlipBundle.isInstructBlip(model)) {
      if (system != null || files.mmproj != null || files.visionTower != null) {
        throw usage("InstructBLIP (" + model + "): --system, --mmproj and --vision-tower are LLaVA options");
      }
      try (InstructBlipBundle bundle = InstructBlipBundle.open(model); DecodeOptions d = decoding) {
        OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, bundle.model().maxPositions(), "the model's context");
        decoding.load(); // AGLA's BLIP, and the ranges it sets
        evaluate(bundle.model(), bundle.model(), "instructblip", new InstructBlipAnswerer(bundle, generation, sampling, decoding, variant.suffix),
            sampling, total, stdout, method, variant, parser);
      }
      return 0;
    }
    try (LlavaBundle bundle = files.open(model); DecodeOptions d = decoding) {
      // the model's ranges before the results file is created: a refused setting leaves no file
      OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, bundle.model().maxPositions(), "the model's context");
      OptionRange.check(spec, "--top-k", topK, 0, bundle.model().vocabSize(), "the model's vocabulary");
      decoding.load(); // AGLA's BLIP, and the ranges it sets
      LlavaPrompt.Template template = bundle.template(system);
      evaluate(bundle.model(), bundle.model(), template.name().toLowerCase(Locale.ROOT), answerer(bundle, template, generation, sampling, variant.suffix),
          sampling, total, stdout, method, variant, parser);
    }
    return 0;
  }

  /** The loop of one benchmark run with {@code answerer}: the settings, the results file, the scores. */
  private void evaluate(dev.fovea.llm.generate.CausalLM lm, dev.fovea.nn.Module weights, String template, ImageAnswerer answerer,
      SamplingConfig sampling, long total, PrintWriter stdout, String method, PromptVariant variant, YesNoParser parser) throws Exception {
    OptionRange.check(spec, "--max-new-tokens", maxNewTokens, 1, lm.maxPositions(), "the model's context");
    OptionRange.check(spec, "--top-k", topK, 0, lm.vocabSize(), "the model's vocabulary");
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("benchmark", benchmark());
    settings.putAll(dataSettings());
    settings.put("prompt", variant.cliName);
    settings.put("parser", parser.cliName);
    settings.put("template", template);
    settings.put("seed", Long.toString(seed));
    settings.put("max_new_tokens", Integer.toString(maxNewTokens));
    settings.put("sampling", sampling.greedy() ? "greedy" : "temperature " + sampling.temperature() + ", top_p " + topP + ", top_k " + topK);
    settings.putAll(decoding.settings());
    Journal.Run run = new Journal.Run(method, model.toAbsolutePath().normalize().toString(), settings);
    try (EvalJournal journal = EvalJournal.open(results.out, run)) {
      device.place(weights, !noProgress, spec.commandLine().getErr());
      Done done;
      try (Progress.Questions bar = new Progress.Questions(benchmark() + " " + method, total, !noProgress, spec.commandLine().getErr())) {
        done = loop(answerer, journal, method, variant, parser, bar);
      }
      if (!results.json) {
        stdout.printf("%s on %s, decode %s, prompt %s, parser %s: %d answered, %d resumed, results in %s%n", model.getFileName(), dataName(),
            method, variant.cliName, parser.cliName, done.answered(), done.resumed(), results.out);
      }
      stdout.print(results.json ? done.json() + "\n" : done.table());
      stdout.flush();
    }
  }

  /**
   * The answering step of {@code --decode}: the model, tokenizer, template and image pipeline of the
   * bundle with the chosen decoding ({@link DecodeOptions#answer}); the loop, the results file and
   * the scores are the same for every method.
   */
  private ImageAnswerer answerer(LlavaBundle bundle, LlavaPrompt.Template template, GenerationConfig generation, SamplingConfig sampling,
      String promptSuffix) {
    return new LlavaAnswerer(bundle.model(), bundle.tokenizer(), template, bundle.preprocessing(LlavaImages.Mode.CHECKPOINT), generation,
        sampling, decoding, promptSuffix);
  }

  /** The --prompt variant, or the benchmark's default. */
  PromptVariant promptOption() {
    if (prompt == null) {
      return defaultPrompt();
    }
    try {
      return PromptVariant.named(prompt);
    } catch (IllegalArgumentException e) {
      throw usage("--prompt: " + e.getMessage());
    }
  }

  /**
   * POPE (methods spec 4.1): accuracy, precision, recall, F1 and yes-ratio per split of LLaVA-1.5's
   * answers to the published question files.
   */
  @Command(name = "pope", mixinStandardHelpOptions = true,
      description = "POPE of LLaVA-1.5: accuracy / precision / recall / F1 / yes-ratio per split; resumable results JSONL.")
  static final class Pope extends EvalYesNoCommand {
    @Option(names = "--data", required = true, paramLabel = "FILE",
        description = "POPE question file, JSONL of {\"question_id\", \"image\", \"text\", \"label\"} (repeatable: each file is a split, named after it, unless its lines carry a category)")
    List<Path> data = new ArrayList<>();

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "folder the image names are resolved against (COCO val2014 for the COCO files)")
    Path images;

    @Option(names = "--parser", paramLabel = "pope|vcd|avisc", description = "yes/no reading of the answers: pope (POPE/LLaVA), vcd (VCD's substring test), avisc (default: ${DEFAULT-VALUE})")
    String parserName = "pope";

    @Override
    String benchmark() {
      return "pope";
    }

    @Override
    PromptVariant defaultPrompt() {
      return PromptVariant.VCD;
    }

    @Override
    YesNoParser parser() {
      YesNoParser p;
      try {
        p = YesNoParser.named(parserName);
      } catch (IllegalArgumentException e) {
        throw usage("--parser: " + e.getMessage());
      }
      if (p == YesNoParser.MME) {
        throw usage("--parser must be pope, vcd or avisc for POPE, got mme");
      }
      return p;
    }

    @Override
    List<YesNoItem> items() throws IOException {
      for (Path f : data) {
        EvalResultsOptions.requireFile(spec, "--data", f);
      }
      EvalResultsOptions.requireFolder(spec, "--images", images);
      return PopeDataset.read(data, images);
    }

    @Override
    Map<String, String> dataSettings() {
      return Map.of("data", data.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(",")));
    }

    @Override
    String dataName() {
      return data.stream().map(p -> p.getFileName().toString()).collect(Collectors.joining(", "));
    }

    @Override
    String summary(YesNoEvaluation.Outcome outcome, boolean json) {
      PopeMetrics.Summary s = PopeMetrics.Summary.of(outcome);
      return json ? s.toJson().toString() : s.toTable();
    }
  }

  /**
   * MME (methods spec 4.4): acc, acc+ and their sum per subtask, perception and cognition totals and
   * the hallucination subset, MME's own yes/no parser.
   */
  @Command(name = "mme", mixinStandardHelpOptions = true,
      description = "MME of LLaVA-1.5: acc, acc+ and score per subtask, perception / cognition / hallucination totals; resumable results JSONL.")
  static final class Mme extends EvalYesNoCommand {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "the MME benchmark folder (one folder per subtask)")
    Path data;

    @Option(names = "--subtasks", paramLabel = "LIST",
        description = "comma-separated subtasks, or all, perception, cognition, hallucination (existence, count, position, color) (default: ${DEFAULT-VALUE})")
    String subtasks = "all";

    @Override
    String benchmark() {
      return "mme";
    }

    @Override
    PromptVariant defaultPrompt() {
      return PromptVariant.RAW; // MME's questions already end with "Please answer yes or no."
    }

    @Override
    YesNoParser parser() {
      return YesNoParser.MME;
    }

    private Set<MmeDataset.Subtask> chosen() {
      try {
        return MmeDataset.Subtask.parseList(subtasks);
      } catch (IllegalArgumentException e) {
        throw usage("--subtasks: " + e.getMessage());
      }
    }

    @Override
    List<YesNoItem> items() throws IOException {
      Set<MmeDataset.Subtask> only = chosen();
      EvalResultsOptions.requireFolder(spec, "--data", data);
      return MmeDataset.read(data, only);
    }

    @Override
    Map<String, String> dataSettings() {
      EnumSet<MmeDataset.Subtask> only = EnumSet.copyOf(chosen());
      return Map.of("data", data.toAbsolutePath().normalize().getFileName().toString(), "subtasks",
          only.stream().map(s -> s.folder).collect(Collectors.joining(",")));
    }

    @Override
    String dataName() {
      return data.getFileName().toString();
    }

    @Override
    String summary(YesNoEvaluation.Outcome outcome, boolean json) {
      MmeScores s = MmeScores.of(outcome);
      return json ? s.toJson().toString() : s.toTable();
    }
  }
}
