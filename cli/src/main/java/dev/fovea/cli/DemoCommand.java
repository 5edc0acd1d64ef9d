package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.methods.minillava.SceneExamples;
import dev.fovea.methods.scenes.Png;
import dev.fovea.methods.scenes.Question;
import dev.fovea.methods.scenes.SceneGenerator;
import dev.fovea.methods.vicrop.Heatmap;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.ViCrop;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.nn.train.Checkpoints;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.RgbImage;
import java.io.PrintWriter;
import java.nio.file.Files;
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
 * The main job out of the box: fovea's own mini LLaVA (shipped in {@code models/scenes-llava})
 * answers a question about a synthetic scene, first from the whole picture, then with ViCrop (where
 * the model looks, a crop there, the answer from both); prints both answers, the crop box and the
 * timings, and writes the heatmap.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"The main job on the shipped mini LLaVA: a synthetic scene (or --image), a question, the answer from the whole picture and",
        "the answer with ViCrop's zoomed crop, the crop box, the timings; writes the scene and the heatmap as PNGs."})
final class DemoCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin VicropOptions opts;

  @Option(names = "--image", paramLabel = "FILE", description = "ask about this image instead of a generated scene (needs --question)")
  Path image;

  @Option(names = "--question", paramLabel = "TEXT", description = "the question (default: a question about a small detail of the generated scene)")
  String question;

  @Option(names = "--scene", paramLabel = "N",
      description = "which held-out scene to generate, 0 to 1000000 (default: ${DEFAULT-VALUE}, one where the whole picture misleads the shipped model"
          + " and ViCrop's crop gets the colour right: a showcase; bench/scenes-eval.sh measures the averages)")
  long scene = 24;

  @Option(names = "--method", paramLabel = "NAME", description = "rel-att (default), grad-att or pure-grad")
  String method = "rel-att";

  @Option(names = "--out", paramLabel = "DIR", description = "folder for scene.png and heatmap.png (default: ${DEFAULT-VALUE})")
  Path out = Path.of("demo-out");

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    device.require();
    Method m = Method.named(method);
    if (m == Method.NONE) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--method must be rel-att, grad-att or pure-grad (the demo compares with none itself)");
    }
    if (image != null && question == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--image needs --question");
    }
    OptionRange.check(spec, "--scene", scene, 0, 1_000_000);
    opts.checkRanges(spec);
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--out " + out + " is a file, not a folder");
    }
    PrintWriter stdout = spec.commandLine().getOut();
    long t0 = System.nanoTime();
    RgbImage img;
    int[] scenePixels = null;
    String q = question;
    String truth = null;
    String size = null;
    if (image != null) {
      img = ImageDecoder.read(image);
    } else {
      SceneGenerator.Generated g = new SceneGenerator(SceneGenerator.DEFAULT_SIZE).generate(dev.fovea.methods.scenes.SceneDataset.heldOutSeed(1), scene);
      scenePixels = dev.fovea.methods.scenes.SceneRenderer.render(g.scene());
      img = SceneExamples.image(g.scene().width(), g.scene().height(), scenePixels);
      Question pick = null;
      for (Question c : g.questions()) {
        if (q != null ? c.text().equals(q) : c.box().isPresent() && c.split(g.scene().size()) == dev.fovea.methods.eval.SizeSplit.SMALL
            && !c.isYesNo() && pick == null) {
          pick = c;
        }
      }
      if (pick == null && q == null) {
        pick = g.questions().get(0);
      }
      if (pick != null) {
        q = pick.text();
        truth = pick.answer();
        size = pick.split(g.scene().size()).label();
      }
    }
    opts.checkTiles(spec, img);
    Files.createDirectories(out);
    Path scenePng = out.resolve("scene.png");
    Path heatmapPng = out.resolve("heatmap.png");
    if (scenePixels != null) {
      Checkpoints.writeAtomically(scenePng, Png.encodeRgb(img.width(), img.height(), scenePixels));
    }
    ViCropConfig config = opts.config();
    try (LlavaBundle bundle = opts.files.open(opts.model())) {
      opts.checkRanges(spec, bundle.model(), m);
      device.place(bundle.model(), !opts.noProgress, spec.commandLine().getErr());
      ViCrop vicrop = new ViCrop(bundle.model(), bundle.tokenizer(), bundle.preprocessing(LlavaImages.Mode.CHECKPOINT), config);
      ViCrop.Result r = vicrop.run(img, q, m, ViCrop.Options.DEFAULT.withBaseline(true));
      Heatmap.write(heatmapPng, img, r.map(), r.box());
      ViCrop.Timings t = r.timings();
      double total = VicropCommand.millis(System.nanoTime() - t0);
      if (json) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("model", opts.model().toString());
        j.put("image", image != null ? image.toString() : scenePng.toString());
        j.put("question", q);
        if (truth != null) {
          j.put("truth", truth);
          j.put("size", size);
        }
        j.put("answer_without_crop", r.baseline().text());
        j.put("answer_with_vicrop", r.answer().text());
        j.put("method", m.cliName);
        j.put("layer", opts.layer());
        j.put("box", List.of(r.box().x1(), r.box().y1(), r.box().x2(), r.box().y2()));
        j.put("heatmap", heatmapPng.toString());
        j.put("timings_ms", Map.of("map", VicropCommand.millis(t.mapNanos()), "answer", VicropCommand.millis(t.answerNanos()), "baseline",
            VicropCommand.millis(t.baselineNanos()), "total", total));
        stdout.println(new ObjectMapper().writeValueAsString(j));
      } else {
        stdout.printf(Locale.ROOT, "model:     %s (fovea's mini LLaVA, %s)%n", opts.model(), "CLIP ViT 64 px + stories260K decoder");
        stdout.printf(Locale.ROOT, "image:     %s (%d x %d)%n", image != null ? image : scenePng + ", held-out scene " + scene, img.width(), img.height());
        stdout.printf(Locale.ROOT, "question:  %s%n", q);
        if (truth != null) {
          stdout.printf(Locale.ROOT, "truth:     %s (answer region: %s)%n", truth, size);
        }
        stdout.printf(Locale.ROOT, "without crop (whole picture at 64 x 64 px): %s%n", r.baseline().text());
        stdout.printf(Locale.ROOT, "with ViCrop (%s, layer %d): %s%n", m.cliName, opts.layer(), r.answer().text());
        stdout.printf(Locale.ROOT, "crop box:  %s%n", r.box());
        stdout.printf(Locale.ROOT, "heatmap:   %s%n", heatmapPng);
        stdout.printf(Locale.ROOT, "timings:   map %.0f ms, answer with crop %.0f ms, answer without %.0f ms; %.1f s in all%n", VicropCommand.millis(t.mapNanos()),
            VicropCommand.millis(t.answerNanos()), VicropCommand.millis(t.baselineNanos()), total / 1000);
      }
      stdout.flush();
    }
    return 0;
  }

}
