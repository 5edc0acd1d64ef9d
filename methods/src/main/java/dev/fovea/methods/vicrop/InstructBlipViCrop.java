package dev.fovea.methods.vicrop;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.instructblip.InstructBlipPrompt;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ViCrop (spec section 1) on InstructBLIP: the chained importance map ({@link
 * InstructBlipImportance}), a square box by {@link BoxSelection} at S0 = the tower's input (224),
 * and a greedy answer from 2Q visual embeddings, the original's Q projected queries then the
 * crop's, both Q-Formers reading the same instruction, before {@code </s> Question: Q Short answer:}
 * (spec 1.6). rel-att, grad-att and pure-grad; the high-resolution tiling is not wired here.
 */
public final class InstructBlipViCrop {
  private final InstructBlipForConditionalGeneration model;
  private final TextTokenizer tokenizer;
  private final WordPieceTokenizer qformerTokenizer;
  private final ImageProcessor processor;
  private final ViCropConfig config;
  private final InstructBlipImportance importance;
  private final int baseSize;

  /** {@code config}: the generic instruction, window ratios, base size (0: the tower's input) and answer length; its LLaVA layer and template are not used. */
  public InstructBlipViCrop(InstructBlipForConditionalGeneration model, TextTokenizer tokenizer, WordPieceTokenizer qformerTokenizer,
      ImageProcessor processor, InstructBlipImportance.Layers layers, ViCropConfig config) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.qformerTokenizer = qformerTokenizer;
    this.processor = processor;
    this.config = config;
    this.importance = new InstructBlipImportance(model, layers);
    this.baseSize = config.baseSize() > 0 ? config.baseSize() : model.config.visionConfig().imageSize();
  }

  public InstructBlipImportance importance() {
    return importance;
  }

  /** LLM ids of ViCrop's prompt for {@code question} ({@code </s>} first). */
  public int[] ids(String question) {
    return InstructBlipPrompt.llmIds(tokenizer, InstructBlipImportance.prompt(question));
  }

  /** Q-Former ids of ViCrop's prompt for {@code question} ([CLS] ... [SEP]). */
  public int[] qformerIds(String question) {
    return InstructBlipPrompt.qformerIds(qformerTokenizer, InstructBlipImportance.prompt(question), model.config);
  }

  /** The importance map of {@code image} for {@code question}: rel-att or grad-att. */
  public ImportanceMap map(RgbImage image, String question, Method method) {
    try (Scope scope = Scope.open()) {
      Tensor pixels = processor.process(image).unsqueeze(0);
      return switch (method) {
        case REL_ATT -> importance.relAtt(pixels, qformerIds(question), ids(question), qformerIds(config.genericInstruction()),
            ids(config.genericInstruction()));
        case GRAD_ATT -> importance.gradAtt(pixels, qformerIds(question), ids(question));
        case PURE_GRAD -> pureGrad(image, pixels, question);
        case NONE -> throw new ViCropException("method none computes no importance map");
      };
    }
  }

  /**
   * pure-grad (spec 1.3.4 last item, as 1.3.3 at the tower's input S): the pixel-gradient norms of
   * the question prompt over the generic prompt's, times the edge mask of the image at S x S, mean-
   * pooled in patch-size blocks to the g x g grid.
   */
  private ImportanceMap pureGrad(RgbImage image, Tensor pixels, String question) {
    float[] q = importance.pixelGradientNorms(pixels, qformerIds(question), ids(question));
    float[] g = importance.pixelGradientNorms(pixels, qformerIds(config.genericInstruction()), ids(config.genericInstruction()));
    float[] ratio = new float[q.length];
    for (int i = 0; i < ratio.length; i++) {
      ratio[i] = q[i] / g[i];
    }
    int s = model.config.visionConfig().imageSize();
    EdgeMask.Result mask = EdgeMask.compute(image, s, config.medianKernel(), config.blurKernel());
    return EdgeMask.pureGradMap(ratio, mask.mask(), s, model.config.visionConfig().patchSize());
  }

  /** ViCrop's answer to {@code question}: map, box, and the answer with the original and the crop (method none: the image alone). */
  public ViCrop.Result run(RgbImage image, String question, Method method) {
    if (question == null || question.isBlank()) {
      throw new ViCropException("the question is empty");
    }
    if (method == Method.NONE) {
      long t = System.nanoTime();
      ViCrop.Answer a = answer(List.of(image), question);
      return new ViCrop.Result(method, a, null, null, null, new int[] {1, 1}, new ViCrop.Timings(0, 0, 0, System.nanoTime() - t));
    }
    long t0 = System.nanoTime();
    ImportanceMap map = map(image, question, method);
    long t1 = System.nanoTime();
    BoxSelection.Selection sel = BoxSelection.select(map.requireFinite("InstructBLIP box selection"), image.width(), image.height(), baseSize,
        config.ratios());
    long t2 = System.nanoTime();
    ViCrop.Answer answer = answer(List.of(image, Tiling.crop(image, sel.box())), question);
    long t3 = System.nanoTime();
    return new ViCrop.Result(method, answer, null, map, sel, new int[] {1, 1}, new ViCrop.Timings(t1 - t0, t2 - t1, t3 - t2, 0));
  }

  /** A greedy answer about {@code images} in order: each image's Q projected queries, concatenated, before the prompt. */
  public ViCrop.Answer answer(List<RgbImage> images, String question) {
    try (Scope scope = Scope.open(); var g = GradMode.disable()) {
      List<Tensor> pixels = new ArrayList<>();
      for (RgbImage im : images) {
        pixels.add(processor.process(im).unsqueeze(0));
      }
      int[] tokens = answerTokens(pixels, qformerIds(question), ids(question), config.maxNewTokens());
      String text = tokenizer.decode(Arrays.stream(tokens).filter(t -> t >= 0 && t < tokenizer.vocabSize()).toArray()).strip();
      return new ViCrop.Answer(tokens, text);
    }
  }

  /** Greedy tokens over [queries(pixels[0]) ; queries(pixels[1]) ; ... ; embed(ids)], at most {@code maxNewTokens}, ending at EOS. */
  public int[] answerTokens(List<Tensor> pixels, int[] qformerIds, int[] ids, int maxNewTokens) {
    try (Scope scope = Scope.open(); var g = GradMode.disable()) {
      List<Tensor> parts = new ArrayList<>();
      for (Tensor p : pixels) {
        parts.add(model.queryOutput(p, qformerIds));
      }
      Tensor queries = parts.size() == 1 ? parts.get(0) : Ops.concat(parts, 1); // [1, n * Q, C], original first
      LlavaInputs in = model.prepareWithQueries(ids, queries);
      return Generator.generate(model, in.toInputs(), GenerationConfig.maxNewTokens(maxNewTokens), Sampler.greedy(), null, null).tokens();
    }
  }
}
