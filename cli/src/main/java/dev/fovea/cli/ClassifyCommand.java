package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.clip.ClipPipeline;
import dev.fovea.vit.clip.ZeroShotClassifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code fovea classify}: CLIP zero-shot classification of one image over a list of labels. */
@Command(name = "classify", mixinStandardHelpOptions = true,
    description = {
        "Zero-shot image classification with a CLIP model (HF folder or fovea archive).",
        "Each label goes into every template; the templates' text embeddings are averaged (prompt ensemble)."})
final class ClassifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "<folder|archive>", description = "CLIP model folder (config.json, weights, vocab.json, merges.txt[, preprocessor_config.json]) or .fovea archive")
  Path model;

  @Option(names = "--image", required = true, paramLabel = "<file>", description = "image to classify (PNG, JPEG, BMP, GIF)")
  Path image;

  @Option(names = "--labels", required = true, paramLabel = "<a,b,c|file>", description = "comma-separated labels, or a file with one label per line")
  String labels;

  @Option(names = "--template", paramLabel = "<text with {}>", description = "prompt template, repeatable for an ensemble (default: \"a photo of a {}.\")")
  List<String> templates = new ArrayList<>();

  @Option(names = "--top", paramLabel = "<k>", description = "print the k most probable labels (default: ${DEFAULT-VALUE})")
  int top = 5;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    if (top < 1) {
      throw new ParameterException(spec.commandLine(), "--top must be at least 1, got " + top);
    }
    List<String> labelList = readLabels();
    List<String> temps = templates.isEmpty() ? ZeroShotClassifier.DEFAULT_TEMPLATES : templates;
    for (String t : temps) {
      if (!t.contains("{}")) {
        throw new ParameterException(spec.commandLine(), "--template \"" + t + "\" has no {} where the label goes");
      }
    }
    PrintWriter err = spec.commandLine().getErr();
    ProgressBar bar = noProgress ? null : Progress.bar("classify", ClipPipeline.STAGES + labelList.size() + 1, Progress.Unit.NONE, err);
    List<ZeroShotClassifier.Prediction> ranked;
    try (ClipPipeline p = ClipPipeline.open(model, (done, total, what) -> step(bar, done, what))) {
      ZeroShotClassifier c = new ZeroShotClassifier(p.model(), p.tokenizer(), labelList, temps,
          k -> step(bar, ClipPipeline.STAGES + k + 1, "label " + (k + 1) + "/" + labelList.size()));
      try (Scope s = Scope.open()) {
        Tensor pixels = p.processor().process(image);
        ranked = c.classify(pixels);
      }
      step(bar, ClipPipeline.STAGES + labelList.size() + 1, "image");
    } finally {
      if (bar != null) {
        bar.close();
      }
    }
    List<ZeroShotClassifier.Prediction> shown = ranked.subList(0, Math.min(top, ranked.size()));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", model.toString());
      m.put("image", image.toString());
      m.put("templates", temps);
      List<Map<String, Object>> rows = new ArrayList<>();
      for (ZeroShotClassifier.Prediction pr : shown) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("label", pr.label());
        row.put("probability", pr.probability());
        rows.add(row);
      }
      m.put("predictions", rows);
      out.println(new ObjectMapper().writeValueAsString(m));
    } else {
      for (ZeroShotClassifier.Prediction pr : shown) {
        out.printf("%8.4f  %s%n", pr.probability(), pr.label());
      }
    }
    out.flush();
    return 0;
  }

  private static void step(ProgressBar bar, long to, String what) {
    if (bar != null) {
      bar.stepTo(to);
      bar.setExtraMessage(what);
    }
  }

  /** A file with one label per line (blank lines skipped), else a comma-separated list. */
  private List<String> readLabels() throws IOException {
    Path f = Path.of(labels);
    List<String> raw;
    if (!labels.contains(",") && Files.isRegularFile(f)) {
      raw = Files.readAllLines(f, StandardCharsets.UTF_8);
    } else {
      raw = Arrays.asList(labels.split(","));
    }
    List<String> out = raw.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (out.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--labels gives no label (\"" + labels + "\")");
    }
    return out;
  }
}
