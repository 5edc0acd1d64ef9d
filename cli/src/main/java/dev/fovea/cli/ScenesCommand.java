package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.methods.scenes.SceneDataset;
import dev.fovea.methods.scenes.SceneGenerator;
import java.io.PrintWriter;
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
 * {@code fovea scenes}: a synthetic VQA and POPE dataset ({@link SceneDataset}) of seeded scenes, a
 * training split and a held-out split from another seed.
 */
@Command(name = "scenes", mixinStandardHelpOptions = true,
    description = {
        "Generate synthetic scenes (coloured shapes and small glyphs on clutter) with questions, short answers and answer boxes,"
            + " as a training and a held-out split that eval vqa and eval pope read.",
        "Writes DIR/scenes.json and, per split, DIR/<split>/images/*.png, questions.jsonl (all questions, with type and size split)"
            + " and pope.jsonl (the yes/no questions); the same seed gives the same bytes on any machine."})
final class ScenesCommand implements Callable<Integer> {
  /** Bounds the run time and the folder's size (about 50 KB a scene at 448 px). */
  static final int MAX_SCENES = 1_000_000;

  @Spec CommandSpec spec;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "folder to create (written beside it under a hidden name, then renamed into place)")
  Path out;

  @Option(names = "--count", paramLabel = "N", description = "training scenes (5 questions each), 1 to " + MAX_SCENES + " (default: ${DEFAULT-VALUE})")
  int count = 1000;

  @Option(names = "--held-out", paramLabel = "N",
      description = "held-out scenes, from a seed derived from --seed, 0 (none) to " + MAX_SCENES + " (default: ${DEFAULT-VALUE})")
  int heldOut = 500;

  @Option(names = "--seed", paramLabel = "S", description = "seed of the training split, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = 1;

  @Option(names = "--size", paramLabel = "PX",
      description = "canvas side in pixels, " + SceneGenerator.MIN_SIZE + " to " + SceneGenerator.MAX_SIZE + " (default: ${DEFAULT-VALUE})")
  int size = SceneGenerator.DEFAULT_SIZE;

  @Option(names = "--force", description = "replace an existing DIR, if it is a scenes dataset (or empty)")
  boolean force;

  @Option(names = "--no-progress", description = "no progress bar on standard error")
  boolean noProgress;

  @Option(names = "--json", description = "print the summary as JSON")
  boolean json;

  @Override
  public Integer call() throws Exception {
    OptionRange.check(spec, "--count", count, 1, MAX_SCENES);
    OptionRange.check(spec, "--held-out", heldOut, 0, MAX_SCENES);
    OptionRange.check(spec, "--size", size, SceneGenerator.MIN_SIZE, SceneGenerator.MAX_SIZE);
    SceneDataset.checkOutput(out, force);
    SceneGenerator generator = new SceneGenerator(size);
    List<SceneDataset.Split> splits = SceneDataset.splits(seed, count, heldOut);
    long total = (long) count + heldOut;
    long start = System.nanoTime();
    SceneDataset.Summary s;
    ProgressBar bar = noProgress ? null : Progress.bar("scenes", total, new Progress.Unit(" scenes", 1, true), spec.commandLine().getErr());
    try {
      s = SceneDataset.write(out, generator, splits, force, (done, all) -> {
        if (bar != null) {
          bar.stepTo(done);
        }
      });
    } finally {
      if (bar != null) {
        bar.close();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    PrintWriter pw = spec.commandLine().getOut();
    if (json) {
      pw.println(new ObjectMapper().writeValueAsString(toJson(s, seconds)));
    } else {
      printText(pw, s, seconds);
    }
    pw.flush();
    return 0;
  }

  private static Map<String, Object> toJson(SceneDataset.Summary s, double seconds) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("out", s.out().toString());
    m.put("size", s.size());
    m.put("seconds", seconds);
    List<Map<String, Object>> splits = s.splits().stream().map(SceneDataset.SplitSummary::toJson).toList();
    m.put("splits", splits);
    return m;
  }

  private static void printText(PrintWriter out, SceneDataset.Summary s, double seconds) {
    out.printf(Locale.ROOT, "wrote %s: %d x %d px scenes in %.1f s%n", s.out(), s.size(), s.size(), seconds);
    for (SceneDataset.SplitSummary p : s.splits()) {
      out.printf(Locale.ROOT, "%-8s seed %d: %d scenes, %d questions (yes %d, no %d), %.1f MB of PNG%n", p.name(), p.seed(), p.scenes(),
          p.questions(), p.yes(), p.no(), p.pngBytes() / 1e6);
      out.printf(Locale.ROOT, "%-8s by size: %s%n", "", counts(p.bySize()));
      out.printf(Locale.ROOT, "%-8s by type: %s%n", "", counts(p.byType()));
    }
    SceneDataset.SplitSummary last = s.splits().get(s.splits().size() - 1);
    Path dir = s.out().resolve(last.name());
    out.printf("evaluate: fovea eval vqa --data %s --images %s ...%n", dir.resolve(SceneDataset.QUESTIONS), dir.resolve(SceneDataset.IMAGES));
    out.printf("          fovea eval pope --data %s --images %s ...%n", dir.resolve(SceneDataset.POPE), dir.resolve(SceneDataset.IMAGES));
  }

  /** "small 3, medium 4, large 5", leaving out zeros. */
  private static String counts(Map<String, Integer> m) {
    StringBuilder b = new StringBuilder();
    m.forEach((k, v) -> {
      if (v > 0) {
        b.append(b.isEmpty() ? "" : ", ").append(k).append(' ').append(v);
      }
    });
    return b.toString();
  }
}
