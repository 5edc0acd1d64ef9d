package dev.fovea.cli;

import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.ResultsJournal;
import dev.fovea.methods.eval.VqaDataset;
import dev.fovea.methods.eval.VqaEvaluation;
import dev.fovea.methods.eval.VqaItem;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.InstructBlipImportance;
import dev.fovea.methods.vicrop.InstructBlipViCrop;
import dev.fovea.methods.vicrop.ViCrop;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.vit.image.ImageDecoder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Benchmark evaluations: {@code eval vqa} is VQA accuracy with or without ViCrop; {@code eval pope} and
 * {@code eval mme} the yes/no hallucination benchmarks ({@link EvalYesNoCommand}); {@code eval chair}
 * captions COCO images with the model or scores existing captions ({@link EvalChairCommand}); {@code
 * eval amber} AMBER's generative and yes/no queries ({@link EvalAmberCommand}).
 */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a model on a benchmark.",
    subcommands = {EvalCommand.Vqa.class, EvalYesNoCommand.Pope.class, EvalYesNoCommand.Mme.class, EvalChairCommand.class, EvalAmberCommand.class, EvalZeroShotCommand.class,
        CommandLine.HelpCommand.class})
final class EvalCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** No subcommand: a usage error (exit 2) that lists the subcommands. */
  @Override
  public Integer call() {
    return Fovea.missingSubcommand(spec);
  }

  /**
   * VQA accuracy (the official leave-one-out score over normalized answers, spec 4.2) of LLaVA-1.5
   * with a ViCrop method or none, over a TextVQA JSON file or a JSONL of {image, question,
   * answers[, bbox]}. Every answered question is appended to the results JSONL at once; a rerun
   * with the same settings resumes where it stopped.
   */
  @Command(name = "vqa", mixinStandardHelpOptions = true,
      description = "VQA accuracy of LLaVA-1.5 or InstructBLIP with a ViCrop method (or none); resumable results JSONL, summary per answer-size split.")
  static final class Vqa implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin VicropOptions opts;

    @Option(names = "--data", required = true, paramLabel = "FILE",
        description = "questions: a TextVQA .json ({\"data\": [...]}) or a .jsonl of {\"image\", \"question\", \"answers\"[, \"question_id\"][, \"bbox\"]}")
    Path data;

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "folder the items' image names are resolved against")
    Path images;

    @Option(names = "--method", paramLabel = "NAME",
        description = "none (default), rel-att, grad-att or pure-grad; or a control: oracle (the crop centred on the item's answer box, of the"
            + " base size or the box's side if larger; items without a box are answered from the image alone) or random (a crop of one of"
            + " ViCrop's window sizes at a place drawn from the question id)")
    String method = "none";

    @Option(names = "--box-format", paramLabel = "xyxy|xywh", description = "how the JSONL's bbox is written (default: ${DEFAULT-VALUE})")
    String boxFormat = "xyxy";

    @CommandLine.Mixin EvalResultsOptions results;

    @CommandLine.Mixin DeviceOption device;

    @Override
    public Integer call() throws Exception {
      device.require();
      Integer givenLayer = opts.layer; // before opts.config() fills in LLaVA's default
      Control control = Control.named(method);
      Method m = control != null ? Method.NONE : Method.named(method);
      if ((m == Method.NONE || control != null) && opts.highRes) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--high-res needs a method other than none");
      }
      opts.checkRanges(spec);
      results.checkLimit(spec);
      EvalResultsOptions.requireFile(spec, "--data", data);
      EvalResultsOptions.requireFolder(spec, "--images", images);
      BoundingBox.Format format = switch (boxFormat.toLowerCase(Locale.ROOT)) {
        case "xyxy" -> BoundingBox.Format.XYXY;
        case "xywh" -> BoundingBox.Format.XYWH;
        default -> throw new CommandLine.ParameterException(spec.commandLine(), "--box-format must be xyxy or xywh, got " + boxFormat);
      };
      List<VqaItem> items = data.getFileName().toString().endsWith(".jsonl")
          ? VqaDataset.readJsonl(data, VqaDataset.JsonlOptions.defaults().withImagesDir(images).withBoxFormat(format))
          : VqaDataset.readTextVqa(data);
      ViCropConfig config = opts.config();
      boolean instructBlip = InstructBlipBundle.isInstructBlip(opts.model());
      if (instructBlip && (control != null || opts.highRes || opts.files.mmproj != null || opts.files.visionTower != null)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "InstructBLIP (" + opts.model() + "): the oracle and random controls, --high-res,"
            + " --mmproj and --vision-tower are not supported with this model yet");
      }
      int layer = instructBlip ? (givenLayer != null ? givenLayer : InstructBlipImportance.Layers.DEFAULT.llmLayer()) : opts.layer();
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("data", data.getFileName().toString());
      settings.put("layer", Integer.toString(layer));
      settings.put("base_size", Integer.toString(config.baseSize()));
      settings.put("high_res", opts.highRes ? Integer.toString(opts.tileSize) : "off");
      settings.put("max_new_tokens", Integer.toString(opts.maxNewTokens));
      settings.put("prompt", instructBlip ? InstructBlipImportance.prompt("{question}") : config.promptTemplate());
      if (instructBlip) {
        settings.put("cross_index", Integer.toString(InstructBlipImportance.Layers.DEFAULT.crossAttentionIndex()));
      }
      String methodName = control != null ? control.cliName : m.cliName;
      ResultsJournal.Run run = new ResultsJournal.Run(methodName, opts.model().toAbsolutePath().normalize().toString(), settings);
      long total = results.limit == null ? items.size() : Math.min(items.size(), results.limit);
      PrintWriter stdout = spec.commandLine().getOut();
      if (instructBlip) {
        try (InstructBlipBundle bundle = InstructBlipBundle.open(opts.model())) {
          int layers = bundle.model().config.textConfig().numHiddenLayers();
          if (m == Method.REL_ATT || m == Method.GRAD_ATT) {
            OptionRange.check(spec, "--layer", layer, 0, layers - 1, "the language model has " + layers + " layers");
          }
          OptionRange.check(spec, "--max-new-tokens", opts.maxNewTokens, 1, bundle.model().maxPositions(), "the model's context");
          try (ResultsJournal journal = ResultsJournal.open(results.out, run)) {
            device.place(bundle.model(), !opts.noProgress, spec.commandLine().getErr());
            var vicrop = new InstructBlipViCrop(bundle.model(), bundle.tokenizer(), bundle.qformerTokenizer(), bundle.processor(),
                new InstructBlipImportance.Layers(InstructBlipImportance.Layers.DEFAULT.crossAttentionIndex(), Math.min(layer, layers - 1),
                    InstructBlipImportance.Columns.INTENDED), config);
            VqaEvaluation.Answerer answerer = item -> {
              ViCrop.Result r = vicrop.run(ImageDecoder.read(item.imagePath(images)), item.question(), m);
              Map<String, Object> extra = new LinkedHashMap<>();
              if (r.box() != null) {
                extra.put("box", List.of(r.box().x1(), r.box().y1(), r.box().x2(), r.box().y2()));
              }
              ViCrop.Timings t = r.timings();
              extra.put("ms", Map.of("map", VicropCommand.millis(t.mapNanos()), "box", VicropCommand.millis(t.boxNanos()),
                  "answer", VicropCommand.millis(t.answerNanos() + t.baselineNanos())));
              return new VqaEvaluation.Answer(r.answer().text(), extra);
            };
            report(answerer, journal, items, total, methodName, stdout);
          }
        }
        return 0;
      }
      try (LlavaBundle bundle = opts.files.open(opts.model())) {
        // the model's ranges before the results file is created: a refused setting leaves no file
        // (whose header would then refuse the corrected run)
        opts.checkRanges(spec, bundle.model(), m);
        try (ResultsJournal journal = ResultsJournal.open(results.out, run)) {
          device.place(bundle.model(), !opts.noProgress, spec.commandLine().getErr());
          ViCrop vicrop = new ViCrop(bundle.model(), bundle.tokenizer(), bundle.preprocessing(LlavaImages.Mode.CHECKPOINT), config);
          ViCrop.Options options = ViCrop.Options.DEFAULT.withHighRes(opts.highRes);
          VqaEvaluation.Answerer answerer = control != null ? item -> control.answer(vicrop, item, ImageDecoder.read(item.imagePath(images))) : item -> {
            ViCrop.Result r = vicrop.run(ImageDecoder.read(item.imagePath(images)), item.question(), m, options);
            Map<String, Object> extra = new LinkedHashMap<>();
            if (r.box() != null) {
              extra.put("box", List.of(r.box().x1(), r.box().y1(), r.box().x2(), r.box().y2()));
              if (opts.highRes) {
                extra.put("tiles", List.of(r.tiles()[0], r.tiles()[1]));
              }
            }
            ViCrop.Timings t = r.timings();
            extra.put("ms", Map.of("map", VicropCommand.millis(t.mapNanos()), "box", VicropCommand.millis(t.boxNanos()),
                "answer", VicropCommand.millis(t.answerNanos() + t.baselineNanos())));
            return new VqaEvaluation.Answer(r.answer().text(), extra);
          };
          VqaEvaluation.Summary summary;
          try (Progress.Questions bar = new Progress.Questions("vqa " + methodName, total, !opts.noProgress, spec.commandLine().getErr())) {
            VqaEvaluation eval = new VqaEvaluation(answerer, journal).listener(p -> bar.step(p.done(), p.accuracyPercent(), p.resumed()));
            if (results.limit != null) {
              eval.limit(results.limit);
            }
            summary = eval.run(items);
          }
          if (results.json) {
            stdout.println(summary.toJsonString());
          } else {
            stdout.printf("%s on %s, method %s: %d answered, %d resumed, results in %s%n", opts.model().getFileName(), data.getFileName(), methodName,
                summary.answered(), summary.resumed(), results.out);
            stdout.print(summary.toTable());
          }
          stdout.flush();
        }
      }
      return 0;
    }

    /** Runs the evaluation with {@code answerer} and prints the summary. */
    private void report(VqaEvaluation.Answerer answerer, ResultsJournal journal, List<VqaItem> items, long total, String methodName, PrintWriter stdout)
        throws Exception {
      VqaEvaluation.Summary summary;
      try (Progress.Questions bar = new Progress.Questions("vqa " + methodName, total, !opts.noProgress, spec.commandLine().getErr())) {
        VqaEvaluation eval = new VqaEvaluation(answerer, journal).listener(p -> bar.step(p.done(), p.accuracyPercent(), p.resumed()));
        if (results.limit != null) {
          eval.limit(results.limit);
        }
        summary = eval.run(items);
      }
      if (results.json) {
        stdout.println(summary.toJsonString());
      } else {
        stdout.printf("%s on %s, method %s: %d answered, %d resumed, results in %s%n", opts.model().getFileName(), data.getFileName(), methodName,
            summary.answered(), summary.resumed(), results.out);
        stdout.print(summary.toTable());
      }
      stdout.flush();
    }
  }

  /**
   * The crop controls of {@code eval vqa}: what ViCrop's maps are measured against. {@code oracle}
   * crops around the answer's ground-truth box (the most a crop can give); {@code random} crops a
   * window of ViCrop's sizes at a place that does not depend on the image (what a map that does not
   * localize gives). Both answer from the prompt ViCrop answers from: the image and the crop.
   */
  enum Control {
    ORACLE("oracle"),
    RANDOM("random");

    final String cliName;

    Control(String cliName) {
      this.cliName = cliName;
    }

    static Control named(String name) {
      for (Control c : values()) {
        if (c.cliName.equals(name)) {
          return c;
        }
      }
      return null;
    }

    VqaEvaluation.Answer answer(ViCrop vicrop, VqaItem item, dev.fovea.vit.image.RgbImage image) {
      dev.fovea.methods.vicrop.Box box = box(item, image.width(), image.height(), vicrop.baseSize(), vicrop.config().ratios());
      long t = System.nanoTime();
      ViCrop.Answer a = box == null ? vicrop.answer(List.of(image), item.question())
          : vicrop.answer(List.of(image, dev.fovea.methods.vicrop.Tiling.crop(image, box)), item.question());
      Map<String, Object> extra = new LinkedHashMap<>();
      if (box != null) {
        extra.put("box", List.of(box.x1(), box.y1(), box.x2(), box.y2()));
      }
      extra.put("ms", Map.of("answer", VicropCommand.millis(System.nanoTime() - t)));
      return new VqaEvaluation.Answer(a.text(), extra);
    }

    /** The control's crop box for {@code item} on a {@code w} x {@code h} image (null: no crop). */
    dev.fovea.methods.vicrop.Box box(VqaItem item, int w, int h, int base, double[] ratios) {
      int side;
      double cx;
      double cy;
      if (this == ORACLE) {
        if (item.bbox().isEmpty()) {
          return null;
        }
        BoundingBox b = item.bbox().get();
        side = (int) Math.max(base, Math.ceil(Math.max(b.x2() - b.x1(), b.y2() - b.y1())));
        cx = (b.x1() + b.x2()) / 2;
        cy = (b.y1() + b.y2()) / 2;
      } else {
        java.util.SplittableRandom r = new java.util.SplittableRandom(item.questionId().hashCode() * 0x9E3779B97F4A7C15L);
        side = (int) Math.round(base * ratios[r.nextInt(ratios.length)]);
        side = Math.min(side, Math.min(w, h));
        cx = side / 2.0 + r.nextDouble() * (w - side);
        cy = side / 2.0 + r.nextDouble() * (h - side);
      }
      side = Math.min(side, Math.min(w, h));
      int x0 = (int) Math.max(0, Math.min(w - side, Math.round(cx - side / 2.0)));
      int y0 = (int) Math.max(0, Math.min(h - side, Math.round(cy - side / 2.0)));
      return new dev.fovea.methods.vicrop.Box(x0, y0, x0 + side, y0 + side);
    }
  }
}
