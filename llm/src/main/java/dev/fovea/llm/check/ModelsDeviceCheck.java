package dev.fovea.llm.check;

import static dev.fovea.llm.check.Compare.concat;
import static dev.fovea.llm.check.Compare.option;
import static dev.fovea.llm.check.Compare.rel;
import static dev.fovea.llm.check.Compare.report;
import static dev.fovea.llm.check.Compare.same;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.nn.AttentionHook;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.blip.BlipForImageTextRetrieval;
import dev.fovea.vit.blip.BlipText;
import dev.fovea.vit.clip.ClipPipeline;
import dev.fovea.vit.clip.ZeroShotClassifier;
import dev.fovea.vit.dino.DinoPipeline;
import dev.fovea.vit.dino.VitModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The checked-in tiny models other than LLaVA (bench/gpu-check.sh runs {@code LlavaDeviceCheck}
 * for that one) moved to a device ({@code Module.to}) against the same models on the CPU, each
 * output's largest relative difference, max |device - cpu| / max |cpu|, printed beside its bound:
 * InstructBLIP (image states, Q-Former output and attention, projected queries, every prompt logit,
 * the decoder's attention, the greedy answer token for token), BLIP ITM (image states, ITM in both
 * conventions, ITC, AGLA's GradCAM inputs: one cross-attention layer's probabilities and d match /
 * d probabilities), DINO (every hidden state and attention, ABS's CLS map) and CLIP (text and image
 * embeddings, zero-shot class embeddings, probabilities, ranking). Bounds: 1e-4 relative (F32 on
 * both sides, different summation orders), 1e-3 for the gradient (a backward through the layers).
 * The test device gives the CPU's numbers bit for bit on the same paths (InstructBlipDeviceTest,
 * BlipDeviceTest, DinoDeviceTest, ClipDeviceTest; the CPU is checked against PyTorch by the
 * reference tests). Exit status 0 when all pass, 1 when one does not, 2 when the device cannot be
 * opened.
 *
 * <pre>
 * java ... dev.fovea.llm.check.ModelsDeviceCheck [--device cuda:0] [--root .]
 * </pre>
 *
 * {@code --device cpu} runs both sides on the CPU (the harness, where there is no GPU). The models
 * are the test fixtures under {@code --root} (the checkout).
 */
public final class ModelsDeviceCheck {
  static final double TOL = 1e-4;
  static final double GRAD_TOL = 1e-3;

  private ModelsDeviceCheck() {}

  public static void main(String[] args) {
    Device device = Device.parse(option(args, "--device", "cuda:0"));
    Path root = Path.of(option(args, "--root", "."));
    try {
      Backends.of(device);
    } catch (TensorException e) {
      System.out.println("models-device-check: " + e.getMessage());
      System.exit(2);
    }
    boolean ok = true;
    for (String model : List.of("instructblip", "blip", "dino", "clip")) {
      long t0 = System.nanoTime();
      try {
        ok &= switch (model) {
          case "instructblip" -> instructBlip(root.resolve("llm/src/test/resources/instructblip-reference/tiny"), device);
          case "blip" -> blip(root.resolve("vit/src/test/resources/blip-reference/tiny"), device);
          case "dino" -> dino(root.resolve("vit/src/test/resources/dino-reference"), device);
          default -> clip(root.resolve("vit/src/test/resources/clip-reference"), device);
        };
      } catch (RuntimeException e) {
        System.out.println("FAIL  " + model + ": " + e);
        e.printStackTrace(System.out);
        ok = false;
      }
      System.out.printf("models-device-check: %s on %s in %.0f ms%n", model, device, (System.nanoTime() - t0) / 1e6);
    }
    System.out.println("models-device-check: " + (ok ? "passed" : "FAILED"));
    System.exit(ok ? 0 : 1);
  }

  // ------------------------------------------------------------------ InstructBLIP

  static boolean instructBlip(Path dir, Device device) {
    try (var cpu = InstructBlipForConditionalGeneration.load(dir);
        var dev = InstructBlipForConditionalGeneration.load(dir);
        WeightSource ref = WeightFiles.open(dir.resolve("reference.safetensors"))) {
      dev.to(device);
      Tensor pixels = ref.get("pixels");
      int[] qids = ints(ref.get("qformer_ids"));
      int[] ids = ints(ref.get("prompt_ids"));
      List<float[]> want = instructBlipOutputs(cpu, pixels, qids, ids);
      List<float[]> got = instructBlipOutputs(dev, pixels, qids, ids);
      String[] what = {"image embeds", "Q-Former hidden", "Q-Former attention", "projected queries", "prompt logits (every position)",
          "decoder attention"};
      boolean ok = true;
      for (int i = 0; i < what.length; i++) {
        ok &= report("instructblip: " + what[i], rel(got.get(i), want.get(i)), TOL);
      }
      int[] a = instructBlipGreedy(cpu, pixels, qids, ids);
      int[] b = instructBlipGreedy(dev, pixels, qids, ids);
      ok &= same("instructblip: greedy answer tokens", a, b);
      return ok;
    }
  }

  /**
   * What the InstructBLIP comparisons read: image embeds, the Q-Former's output and attention, the
   * projected queries, every prompt logit and the decoder's attention (InstructBlipDeviceTest reads
   * the same).
   */
  public static List<float[]> instructBlipOutputs(InstructBlipForConditionalGeneration m, Tensor pixels, int[] qids, int[] ids) {
    List<float[]> out = new ArrayList<>();
    try (Scope s = Scope.open(); var g = GradMode.disable()) {
      Tensor image = m.imageEmbeds(pixels);
      out.add(image.toFloatArray());
      List<float[]> qa = new ArrayList<>();
      Tensor qh;
      try (var h = m.qformer.addAttentionHook(AttentionHook.reading((ctx, p) -> qa.add(p.toFloatArray())))) {
        qh = m.qformerHidden(image, qids);
      }
      out.add(qh.toFloatArray());
      out.add(concat(qa));
      LlavaInputs in = m.prepare(ids, qids, pixels);
      out.add(in.embeddings().narrow(1, 0, m.config.numQueryTokens()).toFloatArray());
      List<float[]> attn = new ArrayList<>();
      try (var h = m.languageModel.addAttentionHook(AttentionHook.reading((ctx, p) -> attn.add(p.toFloatArray())));
          var state = m.newState(1, in.length())) {
        out.add(m.forward(in, state, true).toFloatArray());
      }
      out.add(concat(attn));
    }
    return out;
  }

  /** The greedy answer of 6 tokens, no stop at EOS. */
  public static int[] instructBlipGreedy(InstructBlipForConditionalGeneration m, Tensor pixels, int[] qids, int[] ids) {
    try (Scope s = Scope.open()) {
      LlavaInputs in = m.prepare(ids, qids, pixels);
      return Generator.generate(m, in.toInputs(), GenerationConfig.maxNewTokens(6).withStopAtEos(false), Sampler.greedy(), null, null).tokens();
    }
  }

  // ------------------------------------------------------------------ BLIP ITM and AGLA's GradCAM inputs

  static boolean blip(Path dir, Device device) {
    BlipText text = BlipText.load(dir);
    try (var cpu = BlipForImageTextRetrieval.open(dir); var dev = BlipForImageTextRetrieval.open(dir)) {
      dev.model().to(device);
      boolean ok = true;
      String[] what = {"image embeds", "ITM logits [ENC]", "ITM logits [CLS]", "ITC cosine", "AGLA cross-attention", "AGLA d match / d cross-attention"};
      for (String q : List.of("is there a cat on the sofa?", "a red car")) {
        int[][] enc = {text.itmIds(q, BlipText.Convention.ORIGINAL)};
        int[][] cls = {text.itcIds(q)};
        Tensor px = Tensor.randn(new Random(q.length()), 1, 3, 96, 96);
        float[][] want = blipOutputs(cpu.model(), px, enc, cls);
        float[][] got = blipOutputs(dev.model(), px, enc, cls);
        for (int i = 0; i < what.length; i++) {
          ok &= report("blip '" + q + "': " + what[i], rel(got[i], want[i]), i == what.length - 1 ? GRAD_TOL : TOL);
        }
      }
      return ok;
    }
  }

  private static float[][] blipOutputs(BlipForImageTextRetrieval m, Tensor px, int[][] enc, int[][] cls) {
    try (Scope s = Scope.open()) {
      Tensor v;
      float[] itmEnc;
      float[] itmCls;
      float[] itc;
      try (var g = GradMode.disable()) {
        v = m.imageEmbeds(px);
        itmEnc = m.itmLogits(enc, null, v).toFloatArray();
        itmCls = m.itmLogits(cls, null, v).toFloatArray();
        itc = m.itcCosine(cls, null, v).toFloatArray();
      }
      Tensor[] leaf = new Tensor[1];
      // AGLA's GradCAM: the cross-attention probabilities of one layer made a leaf, d match / d them
      try (var g = GradMode.enable(); var h = m.addAttentionHook("text_encoder.encoder.layer.0.crossattention",
          AttentionHook.replacing((ctx, p) -> {
            leaf[0] = p.detach().requiresGrad(true);
            return leaf[0];
          }))) {
        m.itmLogits(enc, null, v).select(0, 0).select(0, 1).backward();
      }
      return new float[][] {v.toFloatArray(), itmEnc, itmCls, itc, leaf[0].toFloatArray(), leaf[0].grad().toFloatArray()};
    }
  }

  // ------------------------------------------------------------------ DINO and ABS's CLS map

  static boolean dino(Path dir, Device device) {
    try (DinoPipeline cpu = DinoPipeline.open(dir.resolve("tiny-dino"));
        DinoPipeline dev = DinoPipeline.open(dir.resolve("tiny-dino"));
        WeightSource ref = WeightFiles.open(dir.resolve("dino.ref.safetensors"));
        Scope s = Scope.open();
        var g = GradMode.disable()) {
      VitModel d = dev.model().to(device);
      VitModel c = cpu.model();
      Tensor px = ref.get("random/pixel_values");
      VitModel.Output want = c.forward(px, true, true);
      VitModel.Output got = d.forward(px, true, true);
      boolean ok = report("dino: last hidden state", rel(got.lastHiddenState().toFloatArray(), want.lastHiddenState().toFloatArray()), TOL);
      double hidden = 0;
      for (int i = 0; i < want.hiddenStates().size(); i++) {
        hidden = Math.max(hidden, rel(got.hiddenStates().get(i).toFloatArray(), want.hiddenStates().get(i).toFloatArray()));
      }
      ok &= report("dino: every hidden state", hidden, TOL);
      double attn = 0;
      for (int i = 0; i < want.attentions().size(); i++) {
        attn = Math.max(attn, rel(got.attentions().get(i).toFloatArray(), want.attentions().get(i).toFloatArray()));
      }
      ok &= report("dino: every attention", attn, TOL);
      int last = c.config.numHiddenLayers() - 1;
      ok &= report("dino: ABS's CLS map", rel(d.clsAttentionMap(px, last).toFloatArray(), c.clsAttentionMap(px, last).toFloatArray()), TOL);
      return ok;
    }
  }

  // ------------------------------------------------------------------ CLIP text tower and zero-shot

  static boolean clip(Path dir, Device device) {
    try (ClipPipeline cpu = ClipPipeline.open(dir.resolve("tiny-p32"), ClipPipeline.Progress.NONE);
        ClipPipeline dev = ClipPipeline.open(dir.resolve("tiny-p32"), ClipPipeline.Progress.NONE);
        WeightSource ref = WeightFiles.open(dir.resolve("tiny-p32.ref.safetensors"));
        Scope s = Scope.open();
        var g = GradMode.disable()) {
      dev.model().to(device);
      List<String> labels = List.of("cat", "dog", "astronaut", "rocket", "coffee");
      List<String> templates = List.of("a photo of a {}.", "a blurry photo of the {}.");
      ZeroShotClassifier.Batch b = ZeroShotClassifier.tokenize(cpu.tokenizer(), labels, 32);
      Tensor pixels = ref.get("images/pixel_values");
      boolean ok = report("clip: text embeddings", rel(dev.model().encodeText(b.ids(), b.attentionMask()).toFloatArray(),
          cpu.model().encodeText(b.ids(), b.attentionMask()).toFloatArray()), TOL);
      ok &= report("clip: image embeddings", rel(dev.model().encodeImage(pixels).toFloatArray(), cpu.model().encodeImage(pixels).toFloatArray()), TOL);
      ZeroShotClassifier c = new ZeroShotClassifier(cpu.model(), cpu.tokenizer(), labels, templates, null);
      ZeroShotClassifier d = new ZeroShotClassifier(dev.model(), dev.tokenizer(), labels, templates, null);
      ok &= report("clip: zero-shot class embeddings", rel(d.classEmbeddings().toFloatArray(), c.classEmbeddings().toFloatArray()), TOL);
      Tensor cats = pixels.select(0, 0);
      ok &= report("clip: zero-shot probabilities", rel(d.probabilities(cats)[0], c.probabilities(cats)[0]), TOL);
      List<String> rc = c.classify(cats).stream().map(ZeroShotClassifier.Prediction::label).toList();
      List<String> rd = d.classify(cats).stream().map(ZeroShotClassifier.Prediction::label).toList();
      boolean sameRank = rc.equals(rd);
      System.out.printf("%s  %-48s cpu %s, device %s%n", sameRank ? "ok  " : "FAIL", "clip: zero-shot ranking", rc, rd);
      return ok && sameRank;
    }
  }

  // ------------------------------------------------------------------ helpers

  private static int[] ints(Tensor t) {
    return Arrays.stream(t.toLongArray()).mapToInt(v -> (int) v).toArray();
  }
}
