package dev.fovea.cli;

import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.ResultsJournal;
import dev.fovea.methods.eval.VqaDataset;
import dev.fovea.methods.eval.VqaEvaluation;
import dev.fovea.methods.eval.VqaItem;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.ViCrop;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.vit.image.ImageDecoder;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Benchmark evaluations; {@code eval vqa} is VQA accuracy with or without ViCrop. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a model on a benchmark.",
    subcommands = {EvalCommand.Vqa.class, CommandLine.HelpCommand.class})
final class EvalCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * VQA accuracy (the official leave-one-out score over normalized answers, spec 4.2) of LLaVA-1.5
   * with a ViCrop method or none, over a TextVQA JSON file or a JSONL of {image, question,
   * answers[, bbox]}. Every answered question is appended to the results JSONL at once; a rerun
   * with the same settings resumes where it stopped.
   */
  @Command(name = "vqa", mixinStandardHelpOptions = true,
      description = "VQA accuracy of LLaVA-1.5 with a ViCrop method (or none); resumable results JSONL, summary per answer-size split.")
  static final class Vqa implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH", description = "llava-hf folder, a .fovea archive, or a GGUF model (with --mmproj)")
    Path model;

    @Option(names = "--mmproj", paramLabel = "FILE", description = "LLaVA GGUF: the vision tower + projector file paired with --model")
    Path mmproj;

    @Option(names = "--data", required = true, paramLabel = "FILE",
        description = "questions: a TextVQA .json ({\"data\": [...]}) or a .jsonl of {\"image\", \"question\", \"answers\"[, \"question_id\"][, \"bbox\"]}")
    Path data;

    @Option(names = "--images", required = true, paramLabel = "DIR", description = "folder the items' image names are resolved against")
    Path images;

    @Option(names = "--method", paramLabel = "NAME", description = "none (default), rel-att, grad-att or pure-grad")
    String method = "none";

    @Option(names = "--high-res", description = "tile large images (ViCrop's high-resolution variant)")
    boolean highRes;

    @Option(names = "--tile-size", paramLabel = "PX", description = "high-res tile limit (default: ${DEFAULT-VALUE})")
    int tileSize = 1024;

    @Option(names = "--layer", paramLabel = "L", description = "decoder layer of the attention maps (default: ${DEFAULT-VALUE})")
    int layer = 14;

    @Option(names = "--base-size", paramLabel = "PX", description = "crop base size in pixels (default: the vision tower's input size)")
    int baseSize = 0;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "answer length (default: ${DEFAULT-VALUE})")
    int maxNewTokens = 20;

    @Option(names = "--box-format", paramLabel = "xyxy|xywh", description = "how the JSONL's bbox is written (default: ${DEFAULT-VALUE})")
    String boxFormat = "xyxy";

    @Option(names = "--limit", paramLabel = "N", description = "only the first N questions")
    Long limit;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "results JSONL (created, or resumed when it exists)")
    Path out;

    @Option(names = "--no-progress", description = "no progress bar on standard error")
    boolean noProgress;

    @Option(names = "--json", description = "print the summary as JSON instead of a table")
    boolean json;

    @Override
    public Integer call() throws Exception {
      Method m = Method.named(method);
      if (m == Method.NONE && highRes) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--high-res needs a method other than none");
      }
      if (!Files.isDirectory(images)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--images " + images + ": no such folder");
      }
      BoundingBox.Format format = switch (boxFormat.toLowerCase(Locale.ROOT)) {
        case "xyxy" -> BoundingBox.Format.XYXY;
        case "xywh" -> BoundingBox.Format.XYWH;
        default -> throw new CommandLine.ParameterException(spec.commandLine(), "--box-format must be xyxy or xywh, got " + boxFormat);
      };
      List<VqaItem> items = data.getFileName().toString().endsWith(".jsonl")
          ? VqaDataset.readJsonl(data, VqaDataset.JsonlOptions.defaults().withImagesDir(images).withBoxFormat(format))
          : VqaDataset.readTextVqa(data);
      ViCropConfig config = ViCropConfig.defaults().withLayer(layer).withBaseSize(baseSize).withHighResThreshold(tileSize)
          .withMaxNewTokens(maxNewTokens);
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("data", data.getFileName().toString());
      settings.put("layer", Integer.toString(layer));
      settings.put("base_size", Integer.toString(baseSize));
      settings.put("high_res", highRes ? Integer.toString(tileSize) : "off");
      settings.put("max_new_tokens", Integer.toString(maxNewTokens));
      settings.put("prompt", config.promptTemplate());
      ResultsJournal.Run run = new ResultsJournal.Run(m.cliName, model.toAbsolutePath().normalize().toString(), settings);
      long total = limit == null ? items.size() : Math.min(items.size(), limit);
      PrintWriter stdout = spec.commandLine().getOut();
      try (ResultsJournal journal = ResultsJournal.open(out, run); LlavaBundle bundle = LlavaBundle.open(model, mmproj)) {
        LlavaBundle.warm(bundle.model(), !noProgress);
        ViCrop vicrop = new ViCrop(bundle.model(), bundle.tokenizer(), bundle.preprocessing(LlavaImages.Mode.CHECKPOINT), config);
        ViCrop.Options options = ViCrop.Options.DEFAULT.withHighRes(highRes);
        VqaEvaluation.Answerer answerer = item -> {
          ViCrop.Result r = vicrop.run(ImageDecoder.read(item.imagePath(images)), item.question(), m, options);
          Map<String, Object> extra = new LinkedHashMap<>();
          if (r.box() != null) {
            extra.put("box", List.of(r.box().x1(), r.box().y1(), r.box().x2(), r.box().y2()));
            if (highRes) {
              extra.put("tiles", List.of(r.tiles()[0], r.tiles()[1]));
            }
          }
          ViCrop.Timings t = r.timings();
          extra.put("ms", Map.of("map", VicropCommand.millis(t.mapNanos()), "box", VicropCommand.millis(t.boxNanos()),
              "answer", VicropCommand.millis(t.answerNanos() + t.baselineNanos())));
          return new VqaEvaluation.Answer(r.answer().text(), extra);
        };
        ProgressBar bar = noProgress ? null : new ProgressBarBuilder().setTaskName("vqa " + m.cliName).setInitialMax(total)
            .setStyle(ProgressBarStyle.ASCII).showSpeed().setUnit(" q", 1).setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
        VqaEvaluation.Summary summary;
        try {
          VqaEvaluation eval = new VqaEvaluation(answerer, journal).listener(p -> {
            if (bar != null) {
              bar.stepTo(p.done());
              bar.setExtraMessage(String.format(Locale.ROOT, " acc %.2f%%%s", p.accuracyPercent(), p.resumed() > 0 ? " (" + p.resumed() + " resumed)" : ""));
            }
          });
          if (limit != null) {
            eval.limit(limit);
          }
          summary = eval.run(items);
        } finally {
          if (bar != null) {
            bar.close();
          }
        }
        if (json) {
          stdout.println(summary.toJsonString());
        } else {
          stdout.printf("%s on %s, method %s: %d answered, %d resumed, results in %s%n", model.getFileName(), data.getFileName(), m.cliName,
              summary.answered(), summary.resumed(), out);
          stdout.print(summary.toTable());
        }
        stdout.flush();
      }
      return 0;
    }
  }
}
