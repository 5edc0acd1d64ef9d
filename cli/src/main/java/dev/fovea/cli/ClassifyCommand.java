package dev.fovea.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.clip.ClipPipeline;
import dev.fovea.vit.clip.ZeroShotClassifier;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
        "Each label goes into every template; the templates' text embeddings are averaged (prompt ensemble).",
        "With --method, ABS's harness (spec methods-abs-agla.md A): clip (\"a photo of a {}.\"), clip-e (template ensemble),",
        "cupl (averaged --descriptions) or abs (DINO-guided raw and feature crops soft-matched against --descriptions)."})
final class ClassifyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "<folder|archive>", description = "CLIP model folder (config.json, weights, vocab.json, merges.txt[, preprocessor_config.json]) or .fovea archive")
  Path model;

  @Option(names = "--image", required = true, paramLabel = "<file>", description = "image to classify (PNG, JPEG, BMP, GIF)")
  Path image;

  @Option(names = "--labels", required = true, paramLabel = "<a,b,c|file>",
      description = {"at least two labels: comma-separated, or a file with one label per line (a .json file: an array of strings).",
          "A value that names an existing file is that file; one without a comma that contains a / (or the system's path separator) or ends in "
              + ".txt, .csv, .tsv or .json must name one (an error if it does not); anything else is the list."})
  String labels;

  @Option(names = "--template", paramLabel = "<text with {}>", description = "prompt template, repeatable for an ensemble (default: \"a photo of a {}.\")")
  List<String> templates = new ArrayList<>();

  @Option(names = "--top", paramLabel = "<k>", description = "print the k most probable labels, k >= 1 (more than there are labels prints them all) (default: ${DEFAULT-VALUE})")
  int top = 5;

  @Option(names = "--method", paramLabel = "<clip|clip-e|cupl|abs>", description = "ABS's zero-shot harness: clip, clip-e, cupl or abs (default: the plain prompt ensemble above)")
  String method;

  @Option(names = "--descriptions", paramLabel = "<json>", description = "CuPL-style class descriptions (class -> sentences), for cupl and abs")
  Path descriptions;

  @Option(names = "--dino", paramLabel = "<folder|archive>", description = "DINO ViT (HF ViTModel folder, e.g. facebook/dino-vitb16), for abs")
  Path dino;

  @Option(names = "--seed", paramLabel = "<S>", description = "seed of ABS's crop draws, >= 0 (default: ${DEFAULT-VALUE})")
  long seed = 1;

  @Option(names = "--views-out", paramLabel = "<dir>", description = "abs: write the DINO map, the raw crops, the feature windows and a JSON of them there")
  Path viewsOut;

  @Option(names = "--descriptions-per-class", paramLabel = "<M>", description = "abs: first M descriptions per class, 1 to 100000 (default: ${DEFAULT-VALUE})")
  int descriptionsPerClass = 50;

  @Option(names = "--crops", paramLabel = "<n>", description = "abs: crops per space (raw and feature), 0 to 10000 (default: ${DEFAULT-VALUE})")
  int crops = 50;

  @Option(names = "--bank-cache", paramLabel = "<dir>", description = "abs: where encoded description banks are cached (default: $XDG_CACHE_HOME/fovea/abs or ~/.cache/fovea/abs)")
  Path bankCache;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @picocli.CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    Device where = device.require();
    OptionRange.check(spec, "--top", top, 1, Integer.MAX_VALUE);
    List<String> labelList = readLabels();
    if (method != null) {
      return new AbsClassify(spec, this).run(labelList);
    }
    for (String opt : new String[] {"--descriptions", "--dino", "--views-out", "--bank-cache"}) {
      if (spec.commandLine().getParseResult().hasMatchedOption(opt)) {
        throw new ParameterException(spec.commandLine(), opt + " needs --method (clip, clip-e, cupl or abs)");
      }
    }
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
      if (!where.equals(Device.CPU)) {
        p.model().to(where); // each weight copied once; the class embeddings and the image are computed there
      }
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

  static void step(ProgressBar bar, long to, String what) {
    if (bar != null) {
      bar.stepTo(to);
      bar.setExtraMessage(what);
    }
  }

  /** Endings that mark a {@code --labels} value as a file name. */
  private static final List<String> FILE_ENDINGS = List.of(".txt", ".csv", ".tsv", ".json");

  /**
   * The labels (see the option's description): an existing file's lines (blank lines skipped) or
   * JSON array, else a comma-separated list; a value that looks like a file name but names no file
   * is an error, not a label. At least two labels: with one, the softmax is 1 whatever the image.
   */
  List<String> readLabels() throws IOException {
    Path f = pathOrNull(labels);
    List<String> raw;
    if (f != null && Files.isRegularFile(f)) {
      raw = f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json") ? jsonLabels(f) : Files.readAllLines(f, StandardCharsets.UTF_8);
    } else if (f != null && Files.exists(f)) {
      throw new ParameterException(spec.commandLine(), "--labels " + labels + ": " + (Files.isDirectory(f) ? "a folder" : "not a regular file")
          + ", not a file of labels");
    } else if (looksLikeFile(labels)) {
      throw new ParameterException(spec.commandLine(), "--labels " + labels + ": no such file (a value without a comma that contains a / or ends in "
          + String.join(", ", FILE_ENDINGS) + " is a file name; give labels as a,b,c)");
    } else {
      raw = Arrays.asList(labels.split(","));
    }
    List<String> out = raw.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (out.size() < 2) {
      throw new ParameterException(spec.commandLine(), "--labels needs at least 2 labels (with one, its probability is 1 whatever the image), got "
          + out.size() + (f != null && Files.isRegularFile(f) ? " in " + f : " from \"" + labels + "\""));
    }
    return out;
  }

  /** Whether a value without a comma reads as a file name: a path separator, or a file ending. */
  static boolean looksLikeFile(String value) {
    if (value.contains(",")) {
      return false;
    }
    String lower = value.strip().toLowerCase(Locale.ROOT);
    return value.contains("/") || value.contains(File.separator) || FILE_ENDINGS.stream().anyMatch(lower::endsWith);
  }

  private static Path pathOrNull(String value) {
    try {
      return value.isBlank() ? null : Path.of(value);
    } catch (InvalidPathException e) {
      return null; // not a path on this system (e.g. a NUL character): a list
    }
  }

  /** A .json file of labels: an array of strings. */
  private List<String> jsonLabels(Path f) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(f.toFile());
    } catch (JsonProcessingException e) {
      throw new ParameterException(spec.commandLine(), "--labels " + f + ": not valid JSON: " + e.getOriginalMessage());
    }
    List<String> out = new ArrayList<>();
    if (root != null && root.isArray()) {
      for (JsonNode n : root) {
        if (!n.isTextual()) {
          out = null;
          break;
        }
        out.add(n.asText());
      }
    }
    if (root == null || !root.isArray() || out == null) {
      throw new ParameterException(spec.commandLine(), "--labels " + f + ": expected a JSON array of label strings");
    }
    return out;
  }
}
