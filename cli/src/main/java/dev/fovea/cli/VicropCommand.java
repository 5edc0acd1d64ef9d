package dev.fovea.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.methods.vicrop.Heatmap;
import dev.fovea.methods.vicrop.InstructBlipImportance;
import dev.fovea.methods.vicrop.InstructBlipViCrop;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.ViCrop;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.RgbImage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * ViCrop on LLaVA-1.5 for one image and question: the importance map, the crop box, and the answer
 * with the original image and the crop (spec methods-vicrop-avc-vcd.md section 1).
 */
@Command(name = "vicrop", mixinStandardHelpOptions = true,
    description = "Answer a question about an image with ViCrop on LLaVA-1.5 or InstructBLIP: find where the model looks, crop there, answer with both images.")
final class VicropCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin VicropOptions opts;

  @Option(names = "--image", required = true, paramLabel = "FILE", description = "the image")
  Path image;

  @Option(names = "--question", required = true, paramLabel = "TEXT", description = "the question")
  String question;

  @Option(names = "--method", paramLabel = "NAME", description = "rel-att (default), grad-att, pure-grad, or none (no crop)")
  String method = "rel-att";

  @Option(names = "--heatmap", paramLabel = "PNG", description = "write the image with the map blended over it and the box drawn")
  Path heatmap;

  @Option(names = "--baseline", description = "also answer with the original image only")
  boolean baseline;

  @Option(names = "--map-question", paramLabel = "TEXT", description = "compute the map from this question instead (V*'s short question)")
  String mapQuestion;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @CommandLine.Mixin DecodeOptions decoding;

  @Option(names = "--seed", paramLabel = "S", description = "with --decode vcd|avc|agla: random seed of the draws, any 64-bit integer (default: ${DEFAULT-VALUE})")
  long seed = 42;

  @Option(names = "--cross-index", paramLabel = "K", description = "InstructBLIP: which cross-attending Q-Former layer the map chains, 0 to"
      + " their count - 1, counted as HF's cross_attentions lists them (default: ${DEFAULT-VALUE}, Q-Former layer 4 of InstructBLIP-Vicuna-7B)")
  int crossIndex = 2;

  @Option(names = "--released-columns", description = "InstructBLIP: read the LLM attention at the first (number of patches) key positions as the"
      + " released blip_methods.py does, instead of the 32 visual positions (it fails unless the two counts agree, as that code does)")
  boolean releasedColumns;

  /** What the --decode method reported for each answer (the crop's, then the baseline's). */
  private final List<Map<String, Object>> reports = new java.util.ArrayList<>();
  @CommandLine.Mixin DeviceOption device;

  @Override
  public Integer call() throws Exception {
    device.require();
    Integer givenLayer = opts.layer; // before opts.config() fills in LLaVA's default
    Method m = Method.named(method);
    if (m == Method.NONE && (heatmap != null || opts.highRes)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--heatmap and --high-res need a method other than none");
    }
    opts.checkRanges(spec);
    decoding.check(spec);
    ViCropConfig config = opts.config();
    RgbImage img = ImageDecoder.read(image);
    opts.checkTiles(spec, img);
    PrintWriter out = spec.commandLine().getOut();
    if (InstructBlipBundle.isInstructBlip(opts.model())) {
      vicropInstructBlip(m, config, img, out, givenLayer);
      return 0;
    }
    try (LlavaBundle bundle = opts.files.open(opts.model()); DecodeOptions d = decoding) {
      opts.checkRanges(spec, bundle.model(), m);
      decoding.load();
      device.place(bundle.model(), !opts.noProgress, spec.commandLine().getErr());
      var preprocessing = bundle.preprocessing(LlavaImages.Mode.CHECKPOINT);
      ViCrop vicrop = new ViCrop(bundle.model(), bundle.tokenizer(), preprocessing, config);
      if (decoding.contrastive()) {
        // the crop (and the baseline) answered by the --decode method instead of greedy decoding
        GenerationConfig generation = GenerationConfig.maxNewTokens(config.maxNewTokens());
        SamplingConfig sampling = DecodeOptions.contrastiveSampling(null, SamplingConfig.GREEDY);
        vicrop = vicrop.answeredBy((images, q, ids) -> {
          try (var scope = dev.fovea.tensor.Scope.open()) {
            var pixels = new ImageProcessor(preprocessing).processBatch(images);
            var agla = decoding.decode == DecodeOptions.Decode.AGLA ? new DecodeOptions.AglaInput(images, q, preprocessing) : null;
            DecodeOptions.Answer a = decoding.answer(bundle.model(), ids, pixels, agla, generation, sampling, seed, bundle.tokenizer(), null);
            reports.add(a.report());
            return new ViCrop.Answer(a.generation().tokens(), a.generation().text().strip());
          }
        });
      }
      ViCrop.Result r = vicrop.run(img, question, m, new ViCrop.Options(opts.highRes, baseline, mapQuestion));
      if (heatmap != null) {
        Heatmap.write(heatmap, img, r.map(), r.box());
      }
      print(r, out);
    }
    return 0;
  }

  /**
   * ViCrop on InstructBLIP: the chained map (LLM layer --layer, default 15; Q-Former cross-attention
   * --cross-index), the box, and the answer from the original's and the crop's queries.
   */
  private void vicropInstructBlip(Method m, ViCropConfig config, RgbImage img, PrintWriter out, Integer givenLayer) throws Exception {
    if (opts.highRes || decoding.decode != DecodeOptions.Decode.NONE || mapQuestion != null || opts.files.mmproj != null || opts.files.visionTower != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "InstructBLIP (" + opts.model() + "): --high-res, --decode, --map-question, --mmproj"
          + " and --vision-tower are not supported with this model yet");
    }
    try (InstructBlipBundle bundle = InstructBlipBundle.open(opts.model())) {
      var lm = bundle.model();
      int layers = lm.config.textConfig().numHiddenLayers();
      int layer = givenLayer == null ? InstructBlipImportance.Layers.DEFAULT.llmLayer() : givenLayer;
      if (m == Method.REL_ATT || m == Method.GRAD_ATT) {
        OptionRange.check(spec, "--layer", layer, 0, layers - 1, "the language model has " + layers + " layers");
      }
      OptionRange.check(spec, "--max-new-tokens", opts.maxNewTokens, 1, lm.maxPositions(), "the model's context");
      device.place(lm, !opts.noProgress, spec.commandLine().getErr());
      var layersCfg = new InstructBlipImportance.Layers(crossIndex, Math.min(layer, layers - 1),
          releasedColumns ? InstructBlipImportance.Columns.RELEASED : InstructBlipImportance.Columns.INTENDED);
      var vicrop = new InstructBlipViCrop(lm, bundle.tokenizer(), bundle.qformerTokenizer(), bundle.processor(), layersCfg, config);
      ViCrop.Result r = vicrop.run(img, question, m);
      if (baseline && m != Method.NONE) {
        long t = System.nanoTime();
        ViCrop.Answer b = vicrop.answer(List.of(img), question);
        r = new ViCrop.Result(r.method(), r.answer(), b, r.map(), r.selection(), r.tiles(), new ViCrop.Timings(r.timings().mapNanos(),
            r.timings().boxNanos(), r.timings().answerNanos(), System.nanoTime() - t));
      }
      if (heatmap != null) {
        Heatmap.write(heatmap, img, r.map(), r.box());
      }
      print(r, out);
    }
  }

  private void print(ViCrop.Result r, PrintWriter out) throws Exception {
    ViCrop.Timings t = r.timings();
    if (json) {
      Map<String, Object> j = new LinkedHashMap<>();
      j.put("image", image.toString());
      j.put("question", question);
      j.put("method", r.method().cliName);
      j.put("answer", r.answer().text());
      if (!reports.isEmpty()) {
        j.put("decoding", reports);
      }
      if (r.baseline() != null) {
        j.put("baseline", r.baseline().text());
      }
      if (r.box() != null) {
        j.put("box", List.of(r.box().x1(), r.box().y1(), r.box().x2(), r.box().y2()));
        j.put("tiles", r.tiles());
        j.put("map_size", List.of(r.map().rows(), r.map().cols()));
      }
      if (heatmap != null) {
        j.put("heatmap", heatmap.toString());
      }
      Map<String, Object> ms = new LinkedHashMap<>();
      ms.put("map", millis(t.mapNanos()));
      ms.put("box", millis(t.boxNanos()));
      ms.put("answer", millis(t.answerNanos()));
      ms.put("baseline", millis(t.baselineNanos()));
      j.put("timings_ms", ms);
      out.println(new ObjectMapper().writeValueAsString(j));
    } else {
      out.println("answer: " + r.answer().text());
      if (r.baseline() != null) {
        out.println("baseline: " + r.baseline().text());
      }
      if (r.box() != null) {
        out.println("box: " + r.box() + (r.tiles()[0] * r.tiles()[1] > 1 ? " (" + r.tiles()[0] + " x " + r.tiles()[1] + " tiles)" : ""));
        out.printf("timings: map %.0f ms, box %.1f ms, answer %.0f ms%s%n", millis(t.mapNanos()), millis(t.boxNanos()), millis(t.answerNanos()),
            t.baselineNanos() > 0 ? String.format(", baseline %.0f ms", millis(t.baselineNanos())) : "");
      }
      if (heatmap != null) {
        out.println("heatmap: " + heatmap);
      }
    }
    out.flush();
  }

  static double millis(long nanos) {
    return Math.round(nanos / 1e5) / 10.0;
  }
}
