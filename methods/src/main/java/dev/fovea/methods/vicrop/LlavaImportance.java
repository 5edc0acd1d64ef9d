package dev.fovea.methods.vicrop;

import dev.fovea.llm.llava.ImageSpan;
import dev.fovea.llm.llava.LlavaException;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.Checkpoint;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.TextTokenizer;

/**
 * ViCrop's three importance maps on LLaVA-1.5 (spec 1.3.1–1.3.3), computed through the public hooks
 * of {@code nn} and the decoding state of {@code llm}: nothing in the model knows about ViCrop.
 *
 * <p>All maps are over the vision grid g x g (g² = image tokens; 24 x 24 for LLaVA-1.5): image token
 * k of the span is row k / g, column k % g. They are computed in float32 (the reference runs in
 * bfloat16) and the ratio maps divide without an epsilon, as the reference does.
 *
 * <p>How much each map runs:
 *
 * <ul>
 *   <li><b>rel-att</b>: the vision tower once (both prompts share the image features); per prompt a
 *       prefill of positions 0..L-2 on the fused attention path, then the last position alone with
 *       a reading hook on the chosen layer, so only the one probability row [H, 1, L] is ever made.
 *   <li><b>grad-att</b>: the same prefill without autograd, then the last position in grad mode;
 *       the hook replaces that layer's probability row by a leaf that requires grad. {@code
 *       A[h, t*, :]} only reaches the output through position t*, and no later position exists, so
 *       the backward runs along t* alone through the layers above (the other positions' keys and
 *       values are constants in the cache). {@link #gradAttFullBackward} does the same with a whole-
 *       sequence forward and backward; the two agree (tested).
 *   <li><b>pure-grad</b>: per prompt a full forward in grad mode from the pixels (vision tower,
 *       projector, decoder) and a full backward to the pixels, each layer a {@link Checkpoint}
 *       segment so that only one layer's graph is held at a time.
 * </ul>
 */
public final class LlavaImportance {
  private final LlavaForConditionalGeneration model;
  private final TextTokenizer tokenizer;
  private final ImageProcessor processor;
  private final ViCropConfig config;
  private final int grid;
  private final String layerPath;

  public LlavaImportance(LlavaForConditionalGeneration model, TextTokenizer tokenizer, PreprocessorConfig preprocessing, ViCropConfig config) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.processor = new ImageProcessor(preprocessing);
    this.config = config;
    int n = model.config.imageSeqLength();
    int g = (int) Math.round(Math.sqrt(n));
    if (g * g != n) {
      throw new ViCropException("the model's " + n + " image tokens do not form a square grid");
    }
    this.grid = g;
    this.layerPath = "language_model.model.layers." + config.layer() + ".self_attn";
  }

  /** Throws a {@link ViCropException} unless the configured attention layer exists (rel-att and grad-att read it). */
  public void requireLayer() {
    int layers = model.config.textConfig().numHiddenLayers();
    if (config.layer() >= layers) {
      throw new ViCropException("attention layer " + config.layer() + " does not exist: the language model of " + model.config.origin() + " has "
          + layers + " layers (0.." + (layers - 1) + ")");
    }
  }

  /** The side of the map grid (24 for LLaVA-1.5). */
  public int gridSize() {
    return grid;
  }

  /** The model's input side S (336). */
  public int imageSize() {
    return model.config.visionConfig().imageSize();
  }

  /** The map of one image (or tile) by {@code method}. */
  public ImportanceMap map(RgbImage image, String question, Method method) {
    return switch (method) {
      case REL_ATT -> relAtt(image, question);
      case GRAD_ATT -> gradAtt(image, question);
      case PURE_GRAD -> pureGrad(image, question);
      case NONE -> throw new ViCropException("method none computes no importance map");
    };
  }

  /** Ids of the prompt with {@code images} image markers. */
  int[] ids(String question, int images) {
    return LlavaPrompt.tokenize(tokenizer, config.prompt(images, question), model.config.imageTokenIndex());
  }

  // ---------------------------------------------------------------- rel-att

  /** rel-att: head-mean attention of the last position over the image at the layer, question / generic. */
  public ImportanceMap relAtt(RgbImage image, String question) {
    requireLayer();
    try (Scope scope = Scope.open(); var g = GradMode.disable()) {
      Tensor features = model.imageFeatures(processor.process(image).unsqueeze(0));
      float[] q = lastRowImageAttention(model.prepareWithFeatures(ids(question, 1), features), null);
      float[] gen = lastRowImageAttention(model.prepareWithFeatures(ids(config.genericInstruction(), 1), features), null);
      return relative(q, gen);
    }
  }

  /**
   * rel-att or grad-att of the image whose features and shared prompt positions {@code prefix}
   * holds: each prompt continues the prefix instead of running the tower and prefilling again.
   */
  ImportanceMap map(PromptPrefix prefix, String question, Method method) {
    requireLayer();
    return switch (method) {
      case REL_ATT -> {
        try (Scope scope = Scope.open(); var g = GradMode.disable()) {
          float[] q = lastRowImageAttention(model.prepareWithFeatures(ids(question, 1), prefix.features), prefix);
          float[] gen = lastRowImageAttention(model.prepareWithFeatures(ids(config.genericInstruction(), 1), prefix.features), prefix);
          yield relative(q, gen);
        }
      }
      case GRAD_ATT -> {
        try (Scope scope = Scope.open()) {
          LlavaInputs in;
          try (var g = GradMode.disable()) {
            in = model.prepareWithFeatures(ids(question, 1), prefix.features);
          }
          yield gradAtt(in, prefix, false);
        }
      }
      default -> throw new ViCropException("method " + method.cliName + " does not continue a prompt prefix");
    };
  }

  /** rel-att's map: the question's attention over the generic prompt's, element by element. */
  private ImportanceMap relative(float[] question, float[] generic) {
    float[] m = new float[question.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = question[i] / generic[i];
    }
    return new ImportanceMap(grid, grid, m);
  }

  /**
   * Head-mean probabilities [N] of the last position over the image span, at the configured layer;
   * the positions before the last continue {@code prefix} when it prefixes {@code in} (null: a
   * prefill of their own).
   */
  private float[] lastRowImageAttention(LlavaInputs in, PromptPrefix prefix) {
    float[][] row = new float[1][];
    int[] heads = new int[1];
    try (DecodeState state = beforeLast(in, prefix);
        HookHandle h = model.addAttentionHook(layerPath, AttentionHook.reading((ctx, p) -> {
          row[0] = p.toFloatArray(); // [1, H, 1, L]
          heads[0] = ctx.heads();
        }))) {
      model.languageModel.forward(last(in), state, false);
    }
    return headMean(row[0], heads[0], in.length(), span(in));
  }

  // ---------------------------------------------------------------- grad-att

  /** grad-att with the backward along the last position only (spec 1.3.2, engine note). */
  public ImportanceMap gradAtt(RgbImage image, String question) {
    return gradAtt(image, question, false);
  }

  /** grad-att with a whole-sequence forward and backward, as the reference computes it. */
  public ImportanceMap gradAttFullBackward(RgbImage image, String question) {
    return gradAtt(image, question, true);
  }

  /**
   * The layer's probabilities become a leaf that keeps its gradient; the backward of v runs from a
   * forward of the last position over a no-grad prefill of the others, or ({@code fullSequence})
   * from a forward of the whole prompt (the probabilities then have every row; the last is used).
   */
  private ImportanceMap gradAtt(RgbImage image, String question, boolean fullSequence) {
    requireLayer();
    try (Scope scope = Scope.open()) {
      LlavaInputs in;
      try (var g = GradMode.disable()) {
        in = model.prepare(ids(question, 1), processor.process(image).unsqueeze(0));
      }
      return gradAtt(in, null, fullSequence);
    }
  }

  /**
   * grad-att of a prepared one-image prompt: the positions before the last continue {@code prefix}
   * when it prefixes {@code in} (null: a no-grad prefill of their own), or ({@code fullSequence})
   * the whole prompt runs in grad mode.
   */
  private ImportanceMap gradAtt(LlavaInputs in, PromptPrefix prefix, boolean fullSequence) {
    Tensor[] leaf = new Tensor[1];
    try (DecodeState state = fullSequence ? model.newState(1, in.length())
            : beforeLast(in, prefix);
        HookHandle h = model.addAttentionHook(layerPath, AttentionHook.replacing((ctx, p) -> leaf[0] = p.detach().requiresGrad(true)));
        var g = GradMode.enable()) {
      Tensor logits = fullSequence ? model.forward(in, state, false) : model.languageModel.forward(last(in), state, false);
      topLogProbability(logits).backward();
    }
    return gradAttMap(leaf[0], fullSequence ? in.length() - 1 : 0, in);
  }

  /** A[h, row, span] * relu(dv/dA[h, row, span]), mean over heads. */
  private ImportanceMap gradAttMap(Tensor probs, int row, LlavaInputs in) {
    if (probs == null || probs.grad() == null) {
      throw new ViCropException("grad-att: layer " + config.layer() + " kept no attention gradient");
    }
    int heads = probs.size(1);
    int tq = probs.size(2);
    int tk = probs.size(3);
    float[] a = probs.toFloatArray();
    float[] gr = probs.grad().toFloatArray();
    float[] w = new float[heads * tk];
    for (int hh = 0; hh < heads; hh++) {
      int src = (hh * tq + row) * tk;
      for (int j = 0; j < tk; j++) {
        w[hh * tk + j] = a[src + j] * Math.max(0f, gr[src + j]);
      }
    }
    return new ImportanceMap(grid, grid, headMean(w, heads, tk, span(in)));
  }

  // ---------------------------------------------------------------- pure-grad

  /** pure-grad: pixel-gradient norms, question / generic, times the edge mask, mean-pooled to the grid. */
  public ImportanceMap pureGrad(RgbImage image, String question) {
    float[] q = pixelGradientNorms(image, question);
    float[] gen = pixelGradientNorms(image, config.genericInstruction());
    float[] ratio = new float[q.length];
    for (int i = 0; i < ratio.length; i++) {
      ratio[i] = q[i] / gen[i];
    }
    int s = imageSize();
    EdgeMask.Result mask = EdgeMask.compute(image, s, config.medianKernel(), config.blurKernel());
    return EdgeMask.pureGradMap(ratio, mask.mask(), s, s / grid);
  }

  /** Per-pixel L2 norm over the 3 channels of d v / d pixels, [S * S] row-major. */
  public float[] pixelGradientNorms(RgbImage image, String question) {
    // Checkpointing keeps one layer's graph at a time (the whole graph of a 7B-class model at 600
    // tokens would not fit in memory); the gradient is the same.
    try (Scope scope = Scope.open(); var g = GradMode.enable(); var c = Checkpoint.enable()) {
      Tensor pixels = processor.process(image).unsqueeze(0).contiguous().detach().requiresGrad(true);
      LlavaInputs in = model.prepare(ids(question, 1), pixels);
      try (DecodeState state = model.newState(1, in.length())) {
        topLogProbability(model.forward(in, state, false)).backward();
      }
      float[] gr = pixels.grad().toFloatArray(); // [1, 3, S, S]
      int plane = gr.length / 3;
      float[] n = new float[plane];
      for (int i = 0; i < plane; i++) {
        double r = gr[i];
        double gg = gr[plane + i];
        double b = gr[2 * plane + i];
        n[i] = (float) Math.sqrt(r * r + gg * gg + b * b);
      }
      return n;
    }
  }

  // ---------------------------------------------------------------- shared

  /** v = log softmax(z)[argmax z] of logits [1, 1, V] (the model's decision). */
  private Tensor topLogProbability(Tensor logits) {
    Tensor lp = Ops.logSoftmax(logits.reshape(model.vocabSize()), -1);
    int top = (int) Ops.argmax(lp, 0, false).getLong();
    return lp.select(0, top);
  }

  /** A state holding positions 0..L-2 of {@code in}: a continuation of {@code prefix} when it prefixes {@code in}, else a prefill. */
  private DecodeState beforeLast(LlavaInputs in, PromptPrefix prefix) {
    return prefix != null && prefix.prefixes(in) ? prefix.continueTo(in, in.length() - 1) : prefillAllButLast(in);
  }

  /** A state holding positions 0..L-2 of the prompt (no autograd, fused attention). */
  private DecodeState prefillAllButLast(LlavaInputs in) {
    int l = in.length();
    DecodeState state = model.newState(1, l);
    try (var g = GradMode.disable()) {
      if (l > 1) {
        model.languageModel.forward(in.embeddings().narrow(1, 0, l - 1), state, false);
      }
      return state;
    } catch (RuntimeException e) {
      state.close();
      throw e;
    }
  }

  private static Tensor last(LlavaInputs in) {
    return in.embeddings().narrow(1, in.length() - 1, 1);
  }

  private ImageSpan span(LlavaInputs in) {
    if (in.imageSpans().size() != 1) {
      throw new ViCropException("a map prompt must hold exactly one image, it holds " + in.imageSpans().size());
    }
    ImageSpan s = in.imageSpans().get(0);
    if (s.end() > in.length() - 1) {
      throw new LlavaException("the image must come before the last prompt position");
    }
    return s;
  }

  /** Mean over heads of rows [H, Tk] (one query row per head) at the span's columns. */
  private static float[] headMean(float[] rows, int heads, int tk, ImageSpan span) {
    float[] out = new float[span.length()];
    for (int j = 0; j < out.length; j++) {
      double s = 0;
      for (int h = 0; h < heads; h++) {
        s += rows[h * tk + span.start() + j];
      }
      out[j] = (float) (s / heads);
    }
    return out;
  }
}
