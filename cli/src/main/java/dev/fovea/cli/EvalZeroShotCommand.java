package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.methods.abs.AbsConfig;
import dev.fovea.methods.abs.AbsException;
import dev.fovea.methods.abs.Baselines;
import dev.fovea.methods.abs.ClassDescriptions;
import dev.fovea.methods.abs.ZeroShotDataset;
import dev.fovea.methods.eval.Journal;
import dev.fovea.methods.eval.ZeroShotJournal;
import dev.fovea.methods.eval.ZeroShotRecord;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.ImageException;
import dev.fovea.vit.image.RgbImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code eval zeroshot}: top-1 / top-5 and per-class accuracy of ABS's harness (clip, clip-e, cupl,
 * abs) over a folder of class subfolders or an ImageNet-style list. Every image's result is appended
 * to the results JSONL at once ({@link ZeroShotJournal}); a rerun with the same settings resumes where
 * it stopped. An unreadable image stops the run with one line naming the file (rerun to resume), or
 * with {@code --skip-unreadable} is journaled as skipped and left out of the accuracy.
 */
@Command(name = "zeroshot", mixinStandardHelpOptions = true,
    description = "Zero-shot accuracy (top-1, top-5, per class) of clip, clip-e, cupl or abs; resumable results JSONL.")
final class EvalZeroShotCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "<folder|archive>", description = "CLIP model (HF folder or .fovea archive)")
  Path model;

  @Option(names = "--dino", paramLabel = "<folder>", description = "DINO ViT folder, for --method abs")
  Path dino;

  @Option(names = "--data", required = true, paramLabel = "<folder|list>",
      description = "a folder of class subfolders (label = subfolder position in name order) or a list file of \"<relative path> <label>\" lines")
  Path data;

  @Option(names = "--classes", required = true, paramLabel = "<json>", description = "class names in label order (JSON array; _ reads as a space)")
  Path classes;

  @Option(names = "--descriptions", paramLabel = "<json>", description = "CuPL-style descriptions (class -> sentences), for cupl and abs")
  Path descriptions;

  @Option(names = "--method", required = true, paramLabel = "<clip|clip-e|cupl|abs>", description = "zero-shot method")
  String method;

  @Option(names = "--template", paramLabel = "<text with {}>", description = "clip-e template, repeatable (default: CLIP's 7 ImageNet templates)")
  List<String> templates = new ArrayList<>();

  @Option(names = "--out", required = true, paramLabel = "<results.jsonl>", description = "results JSONL; an existing one of the same settings is resumed")
  Path out;

  @Option(names = "--seed", paramLabel = "<S>", description = "seed of ABS's crop draws (per image: mixed with its path), >= 0 (default: ${DEFAULT-VALUE})")
  long seed = 1;

  @Option(names = "--descriptions-per-class", paramLabel = "<M>", description = "abs: first M descriptions per class, 1 to 100000 (default: ${DEFAULT-VALUE})")
  int descriptionsPerClass = 50;

  @Option(names = "--crops", paramLabel = "<n>", description = "abs: crops per space, 0 to 10000 (default: ${DEFAULT-VALUE})")
  int crops = 50;

  @Option(names = "--bank-cache", paramLabel = "<dir>", description = "abs: description bank cache (default: $XDG_CACHE_HOME/fovea/abs or ~/.cache/fovea/abs)")
  Path bankCache;

  @Option(names = "--limit", paramLabel = "<n>", description = "evaluate the first n images only, >= 1")
  Integer limit;

  @Option(names = "--skip-unreadable", description = "journal an unreadable image as skipped and go on (default: stop, naming the file)")
  boolean skipUnreadable;

  @Option(names = "--json", description = "print the summary as JSON")
  boolean json;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    device.require();
    Baselines.Method m = AbsClassify.method(spec, method);
    OptionRange.check(spec, "--seed", seed, 0, Long.MAX_VALUE);
    OptionRange.check(spec, "--descriptions-per-class", descriptionsPerClass, 1, AbsConfig.MAX_DESCRIPTIONS);
    OptionRange.check(spec, "--crops", crops, 0, AbsConfig.MAX_CROPS);
    if (limit != null) {
      OptionRange.check(spec, "--limit", limit, 1, Integer.MAX_VALUE);
    }
    List<String> names = ClassDescriptions.readClasses(classes);
    ZeroShotDataset ds = ZeroShotDataset.open(data, names.size());
    List<ZeroShotDataset.Item> items = limit == null ? ds.items() : ds.items().subList(0, Math.min(limit, ds.items().size()));
    Map<String, String> settings = new TreeMap<>();
    settings.put("data", data.toAbsolutePath().normalize().toString());
    settings.put("classes", classes.toAbsolutePath().normalize().toString());
    if (descriptions != null) {
      settings.put("descriptions", descriptions.toAbsolutePath().normalize().toString());
    }
    if (m == Baselines.Method.ABS) {
      settings.put("dino", dino == null ? "" : dino.toAbsolutePath().normalize().toString());
      settings.put("seed", Long.toString(seed));
      settings.put("descriptions_per_class", Integer.toString(descriptionsPerClass));
      settings.put("crops", Integer.toString(crops));
    }
    if (m == Baselines.Method.CLIP_E) {
      settings.put("templates", String.join(" | ", templates.isEmpty() ? Baselines.CLIP_TEMPLATES_7 : templates));
    }
    Journal.Run run = new Journal.Run(m.cliName(), model.toAbsolutePath().normalize().toString(), settings);
    PrintWriter err = spec.commandLine().getErr();
    Path cache = bankCache != null ? bankCache : AbsClassify.defaultCache();
    try (ZeroShotJournal journal = ZeroShotJournal.open(out, run)) {
      int before = (int) items.stream().filter(it -> journal.entry(it.key()).isPresent()).count();
      if (before < items.size()) {
        try (AbsClassify.Opened o = AbsClassify.open(spec, m, model, dino, descriptions, names, templates, descriptionsPerClass, crops, seed, cache, device.require());
            ProgressBar bar = noProgress ? null : Progress.bar("zeroshot " + m.cliName(), items.size(), Progress.Unit.NONE, err)) {
          int done = before;
          if (bar != null) {
            bar.stepTo(done);
          }
          for (ZeroShotDataset.Item it : items) {
            if (journal.entry(it.key()).isPresent()) {
              continue;
            }
            RgbImage img;
            try {
              img = ImageDecoder.read(it.file());
            } catch (ImageException | AbsException e) {
              if (!skipUnreadable) {
                throw new AbsException(it.file() + ": unreadable image (" + e.getMessage().strip().replaceAll("\\s*\\R\\s*", " ") + "); " + done + " of "
                    + items.size() + " images are in " + out + ": fix or remove the file and rerun to resume, or pass --skip-unreadable");
              }
              journal.append(new ZeroShotRecord(it.key(), it.label(), null, null, e.getMessage()));
              err.println("fovea: skipped unreadable image " + it.file());
              done++;
              continue;
            }
            float[] scores = o.scorer().scores(img, it.key());
            int k = Math.min(5, scores.length);
            int[] top = topK(scores, k);
            float[] ts = new float[k];
            for (int i = 0; i < k; i++) {
              ts[i] = scores[top[i]];
            }
            journal.append(new ZeroShotRecord(it.key(), it.label(), top, ts, null));
            done++;
            if (bar != null) {
              bar.stepTo(done);
            }
          }
        }
      }
      summary(journal, items, names, m);
    }
    return 0;
  }

  private void summary(ZeroShotJournal journal, List<ZeroShotDataset.Item> items, List<String> names, Baselines.Method m) throws Exception {
    int n = 0;
    int top1 = 0;
    int top5 = 0;
    int skipped = 0;
    int[] perN = new int[names.size()];
    int[] perOk = new int[names.size()];
    for (ZeroShotDataset.Item it : items) {
      ZeroShotRecord r = journal.entry(it.key()).orElse(null);
      if (r == null) {
        continue;
      }
      if (r.skipped()) {
        skipped++;
        continue;
      }
      n++;
      perN[r.label()]++;
      if (r.correctTop1()) {
        top1++;
        perOk[r.label()]++;
      }
      if (r.correctTop5()) {
        top5++;
      }
    }
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("method", m.cliName());
      root.put("images", n);
      root.put("skipped", skipped);
      root.put("top1", n == 0 ? 0 : 100.0 * top1 / n);
      root.put("top5", n == 0 ? 0 : 100.0 * top5 / n);
      Map<String, Object> per = new LinkedHashMap<>();
      for (int c = 0; c < names.size(); c++) {
        if (perN[c] > 0) {
          per.put(names.get(c), 100.0 * perOk[c] / perN[c]);
        }
      }
      root.put("per_class_top1", per);
      root.put("results", out.toString());
      o.println(new ObjectMapper().writeValueAsString(root));
    } else {
      o.printf(Locale.ROOT, "%s: %d images (%d skipped)  top-1 %.2f%%  top-5 %.2f%%%n", m.cliName(), n, skipped, n == 0 ? 0.0 : 100.0 * top1 / n,
          n == 0 ? 0.0 : 100.0 * top5 / n);
      for (int c = 0; c < names.size(); c++) {
        if (perN[c] > 0) {
          o.printf(Locale.ROOT, "  %6.2f%%  %4d  %s%n", 100.0 * perOk[c] / perN[c], perN[c], names.get(c));
        }
      }
    }
    o.flush();
  }

  static int[] topK(float[] v, int k) {
    Integer[] idx = new Integer[v.length];
    for (int i = 0; i < v.length; i++) {
      idx[i] = i;
    }
    java.util.Arrays.sort(idx, (a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b));
    int[] out = new int[k];
    for (int i = 0; i < k; i++) {
      out[i] = idx[i];
    }
    return out;
  }


}
