package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.methods.abs.Abs;
import dev.fovea.methods.abs.AbsConfig;
import dev.fovea.methods.abs.AbsException;
import dev.fovea.methods.abs.AbsViews;
import dev.fovea.methods.abs.Baselines;
import dev.fovea.methods.abs.ClassDescriptions;
import dev.fovea.methods.abs.DescriptionBank;
import dev.fovea.methods.abs.ZeroShotScorer;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.clip.ClipPipeline;
import dev.fovea.vit.dino.DinoPipeline;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.RgbImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code classify --method clip|clip-e|cupl|abs}: ABS's zero-shot harness on one image (spec
 * methods-abs-agla.md A.10 and A.3-A.8). Shared with {@code eval zeroshot} through {@link #open}.
 */
final class AbsClassify {
  private final CommandSpec spec;
  private final ClassifyCommand c;

  AbsClassify(CommandSpec spec, ClassifyCommand c) {
    this.spec = spec;
    this.c = c;
  }

  /** The parsed --method; a usage error naming the allowed values otherwise. */
  static Baselines.Method method(CommandSpec spec, String name) {
    for (Baselines.Method m : Baselines.Method.values()) {
      if (m.cliName().equals(name.toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    throw new ParameterException(spec.commandLine(), "--method must be one of clip, clip-e, cupl, abs, got " + name);
  }

  /** The default bank cache: $XDG_CACHE_HOME/fovea/abs, else ~/.cache/fovea/abs. */
  static Path defaultCache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("fovea").resolve("abs");
  }

  /** Everything a run needs open; close it to unmap the weights. */
  record Opened(ClipPipeline clip, DinoPipeline dino, ZeroShotScorer scorer, DescriptionBank.Source bankSource) implements AutoCloseable {
    @Override
    public void close() {
      try {
        clip.close();
      } finally {
        if (dino != null) {
          dino.close();
        }
      }
    }
  }

  /** Opens the models and builds the scorer of {@code method} for {@code classes}. */
  static Opened open(CommandSpec spec, Baselines.Method method, Path model, Path dinoPath, Path descriptionsFile, List<String> classes,
      List<String> templates, int m, int crops, long seed, Path cache, dev.fovea.tensor.Device device) {
    if ((method == Baselines.Method.CUPL || method == Baselines.Method.ABS) && descriptionsFile == null) {
      throw new ParameterException(spec.commandLine(), "--method " + method.cliName() + " needs --descriptions <json>");
    }
    if (method == Baselines.Method.ABS && dinoPath == null) {
      throw new ParameterException(spec.commandLine(), "--method abs needs --dino <folder> (a DINO ViT, e.g. facebook/dino-vitb16)");
    }
    if (method != Baselines.Method.ABS && dinoPath != null) {
      throw new ParameterException(spec.commandLine(), "--dino is only used by --method abs");
    }
    if (!templates.isEmpty() && method != Baselines.Method.CLIP_E) {
      throw new ParameterException(spec.commandLine(), "--template is only used by --method clip-e (and without --method)");
    }
    ClassDescriptions desc = descriptionsFile == null ? null : ClassDescriptions.read(descriptionsFile, classes);
    ClipPipeline clip = ClipPipeline.open(model, ClipPipeline.Progress.NONE);
    DinoPipeline dino = null;
    try {
      if (!device.equals(dev.fovea.tensor.Device.CPU)) {
        clip.model().to(device); // each weight copied once; text and image towers run there
      }
      if (method == Baselines.Method.ABS) {
        dino = DinoPipeline.open(dinoPath);
        if (!device.equals(dev.fovea.tensor.Device.CPU)) {
          dino.model().to(device);
        }
        byte[] config = clip.checkpoint().configJson();
        DescriptionBank.Loaded bank = DescriptionBank.load(clip.model(), clip.tokenizer(), model, config, desc, m, cache, null);
        Abs abs = new Abs(clip.model(), clip.processor(), dino.model(), dino.processor(), AbsConfig.defaults().withDescriptionsPerClass(m).withNumCrops(crops));
        return new Opened(clip, dino, ZeroShotScorer.abs(clip.model(), abs, bank.bank(), seed), bank.source());
      }
      List<String> temps = templates.isEmpty() ? Baselines.CLIP_TEMPLATES_7 : templates;
      Tensor w = Baselines.classVectors(clip.model(), clip.tokenizer(),
          Baselines.texts(method, classes, desc == null ? null : desc.sentences(), temps));
      return new Opened(clip, null, ZeroShotScorer.baseline(method, clip.model(), clip.processor(), w), null);
    } catch (RuntimeException e) {
      clip.close();
      if (dino != null) {
        dino.close();
      }
      throw e;
    }
  }

  int run(List<String> labels) throws Exception {
    Baselines.Method m = method(spec, c.method);
    OptionRange.check(spec, "--seed", c.seed, 0, Long.MAX_VALUE);
    OptionRange.check(spec, "--descriptions-per-class", c.descriptionsPerClass, 1, AbsConfig.MAX_DESCRIPTIONS);
    OptionRange.check(spec, "--crops", c.crops, 0, AbsConfig.MAX_CROPS);
    if (c.viewsOut != null && m != Baselines.Method.ABS) {
      throw new ParameterException(spec.commandLine(), "--views-out is only used by --method abs");
    }
    List<String> classes = labels.stream().map(ClassDescriptions::wordify).toList();
    Path cache = c.bankCache != null ? c.bankCache : defaultCache();
    float[] scores;
    float[] probs = null;
    List<Path> written = List.of();
    try (Opened o = open(spec, m, c.model, c.dino, c.descriptions, classes, c.templates, c.descriptionsPerClass, c.crops, c.seed, cache, c.device.require())) {
      RgbImage img = ImageDecoder.read(c.image);
      scores = o.scorer().scores(img, c.image.getFileName().toString());
      if (m != Baselines.Method.ABS) {
        probs = o.scorer().probabilities(scores);
      } else if (c.viewsOut != null) {
        String stem = c.image.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        written = AbsViews.write(c.viewsOut, stem, img, o.scorer().lastAbs(), classes);
      }
    } catch (AbsException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < classes.size(); i++) {
      order.add(i);
    }
    float[] sc = scores;
    order.sort(Comparator.comparingDouble((Integer i) -> sc[i]).reversed());
    List<Integer> shown = order.subList(0, Math.min(c.top, order.size()));
    PrintWriter out = spec.commandLine().getOut();
    if (c.json) {
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("method", m.cliName());
      root.put("model", c.model.toString());
      root.put("image", c.image.toString());
      if (m == Baselines.Method.ABS) {
        root.put("dino", c.dino.toString());
        root.put("seed", c.seed);
      }
      List<Map<String, Object>> rows = new ArrayList<>();
      for (int i : shown) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("label", classes.get(i));
        row.put("score", scores[i]);
        if (probs != null) {
          row.put("probability", probs[i]);
        }
        rows.add(row);
      }
      root.put("predictions", rows);
      if (!written.isEmpty()) {
        root.put("views", written.stream().map(Path::toString).toList());
      }
      out.println(new ObjectMapper().writeValueAsString(root));
    } else {
      for (int i : shown) {
        out.printf(Locale.ROOT, "%10.4f  %s%n", probs != null ? probs[i] : scores[i], classes.get(i));
      }
      if (!written.isEmpty()) {
        out.println("views written to " + c.viewsOut + " (" + written.size() + " files)");
      }
    }
    out.flush();
    return 0;
  }

}
