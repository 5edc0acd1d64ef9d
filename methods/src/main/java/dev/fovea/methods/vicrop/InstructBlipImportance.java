package dev.fovea.methods.vicrop;

import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llava.ImageSpan;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.nn.AttentionHook;
import dev.fovea.nn.HookHandle;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import java.util.Arrays;

/**
 * ViCrop's chained importance maps on InstructBLIP (spec methods-vicrop-avc-vcd.md 1.3.4; the
 * released {@code blip_methods.py}): the LLM sees Q query tokens, not patches, so a map takes two
 * hops, the LLM's attention from the last prompt position to the Q visual positions, then the
 * Q-Former's cross-attention from those queries to the image patches.
 *
 * <pre>
 * C = Q-Former cross-attention [H, Q, N] of the chosen cross layer, key 0 (CLS) dropped  -> [H, Q, N-1]
 * a = LLM attention [Hl, T, T] at the chosen layer, row t* = T-1, the Q visual columns  -> [Hl, Q]
 * rel-att:  map_P = mean_h(a)^T . mean_h(C)   [N-1] = g x g; M = map_q / map_g (no epsilon, as the reference)
 * grad-att: the same chain after A := A * relu(dv/dA) for both, v = log softmax(z_t*)[argmax]
 * </pre>
 *
 * <p>The cross layer is an index into the cross-attending layers only, as HF's {@code
 * qformer_outputs.cross_attentions} lists them (layers with i % cross_attention_frequency == 0):
 * the released code's index 2 is Q-Former layer 4 of InstructBLIP-Vicuna-7B. (The spec's "index 2 of
 * 12" reads it as layer 2; the released code's own comment says "4th layer".)
 *
 * <p>{@link Columns#RELEASED} reproduces the released code's slicing of the LLM row: the first
 * NUM_IMG_TOKENS (= the number of patches, 256) key positions instead of the Q visual ones. Its
 * product with the [Q, N-1] Q-Former map then fails unless N-1 == Q, as torch's {@code bmm} does
 * (issue #30 of the released code); this class throws a {@link ViCropException} saying so.
 *
 * <p>grad-att differentiates with respect to both attentions in place (the probabilities keep
 * their gradient, nothing is detached), so dv/dC includes the path through the LLM attention, as
 * torch's {@code autograd.grad(loss, attentions)} does. The vision tower runs without a graph; its
 * output is the root that requires grad.
 */
public final class InstructBlipImportance {
  /** Which LLM key positions the chain reads. */
  public enum Columns {
    /** The Q visual positions (the intended formulation). */
    INTENDED,
    /** The first (number of patches) key positions, as blip_methods.py slices them. */
    RELEASED
  }

  /** ViCrop's constants for InstructBLIP-Vicuna-7B: cross-attention index 2 (Q-Former layer 4), LLM layer 15. */
  public record Layers(int crossAttentionIndex, int llmLayer, Columns columns) {
    public static final Layers DEFAULT = new Layers(2, 15, Columns.INTENDED);
  }

  private final InstructBlipForConditionalGeneration model;
  private final Layers layers;
  private final int qformerLayer;
  private final int grid;
  private final String crossPath;
  private final String llmPath;

  public InstructBlipImportance(InstructBlipForConditionalGeneration model, Layers layers) {
    this.model = model;
    this.layers = layers;
    var qc = model.config.qformerConfig();
    int found = -1;
    int k = 0;
    for (int i = 0; i < qc.numHiddenLayers(); i++) {
      if (qc.hasCrossAttention(i) && k++ == layers.crossAttentionIndex()) {
        found = i;
      }
    }
    if (found < 0) {
      throw new ViCropException("cross-attention index " + layers.crossAttentionIndex() + " does not exist: the Q-Former of " + model.config.origin()
          + " has " + k + " cross-attending layers (every " + qc.crossAttentionFrequency() + " of " + qc.numHiddenLayers() + ")");
    }
    int llm = model.config.textConfig().numHiddenLayers();
    if (layers.llmLayer() < 0 || layers.llmLayer() >= llm) {
      throw new ViCropException("attention layer " + layers.llmLayer() + " does not exist: the language model of " + model.config.origin() + " has "
          + llm + " layers (0.." + (llm - 1) + ")");
    }
    this.qformerLayer = found;
    int patches = model.config.visionConfig().gridSize();
    this.grid = patches;
    this.crossPath = "qformer.encoder.layer." + found + ".crossattention.attention";
    this.llmPath = "language_model.model.layers." + layers.llmLayer() + ".self_attn";
  }

  /** The Q-Former layer the cross-attention index names. */
  public int qformerLayer() {
    return qformerLayer;
  }

  /** ViCrop's InstructBLIP prompt, for the map, the generic prompt and the answer (also the Q-Former's instruction). */
  public static String prompt(String question) {
    return "Question: " + question + " Short answer:";
  }

  /**
   * rel-att: map(Pq) / map(Pg) for one preprocessed image [1, 3, S, S]; each prompt is its LLM ids
   * (BOS first) and its Q-Former ids ([CLS] ... [SEP]).
   */
  public ImportanceMap relAtt(Tensor pixels, int[] questionQformerIds, int[] questionIds, int[] genericQformerIds, int[] genericIds) {
    float[] q = relAttChain(pixels, questionQformerIds, questionIds);
    float[] g = relAttChain(pixels, genericQformerIds, genericIds);
    float[] m = new float[q.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = q[i] / g[i];
    }
    return new ImportanceMap(grid, grid, m);
  }

  /** The chained head-mean map [g * g] of one prompt (rel-att's numerator or denominator). */
  public float[] relAttChain(Tensor pixels, int[] qformerIds, int[] ids) {
    Tensor[] cross = new Tensor[1];
    Tensor[] llm = new Tensor[1];
    try (Scope scope = Scope.open(); var g = GradMode.disable();
        HookHandle hc = model.addAttentionHook(crossPath, AttentionHook.reading((ctx, p) -> cross[0] = p));
        HookHandle hl = model.addAttentionHook(llmPath, AttentionHook.reading((ctx, p) -> llm[0] = p))) {
      LlavaInputs in = model.prepare(ids, qformerIds, pixels);
      try (DecodeState state = model.newState(1, in.length())) {
        model.forward(in, state, false);
      }
      return chain(cross[0].toFloatArray(), cross[0].shape(), llm[0].toFloatArray(), llm[0].shape(), in);
    }
  }

  /** grad-att of the question prompt: both attentions weighted by relu of their gradient, then chained. */
  public ImportanceMap gradAtt(Tensor pixels, int[] qformerIds, int[] ids) {
    Tensor[] cross = new Tensor[1];
    Tensor[] llm = new Tensor[1];
    try (Scope scope = Scope.open()) {
      Tensor image;
      try (var g = GradMode.disable()) {
        image = model.imageEmbeds(pixels);
      }
      try (var g = GradMode.enable();
          HookHandle hc = model.addAttentionHook(crossPath, AttentionHook.reading((ctx, p) -> cross[0] = p.retainGrad()));
          HookHandle hl = model.addAttentionHook(llmPath, AttentionHook.reading((ctx, p) -> llm[0] = p.retainGrad()))) {
        Tensor root = image.detach().requiresGrad(true); // the graph starts at the vision states
        Tensor hidden = model.qformerHidden(root, qformerIds);
        Tensor queries = model.languageProjection.forward(hidden.narrow(1, 0, model.config.numQueryTokens()).contiguous());
        LlavaInputs in = model.prepareWithQueries(ids, queries);
        try (DecodeState state = model.newState(1, in.length())) {
          Tensor logits = model.forward(in, state, false);
          Tensor lp = Ops.logSoftmax(logits.reshape(model.vocabSize()), -1);
          int top = (int) Ops.argmax(lp, 0, false).getLong();
          lp.select(0, top).backward();
        }
        if (cross[0].grad() == null || llm[0].grad() == null) {
          throw new ViCropException("grad-att: the attentions kept no gradient (cross-attention layer " + qformerLayer + ", LLM layer " + layers.llmLayer() + ")");
        }
        float[] c = weighted(cross[0].toFloatArray(), cross[0].grad().toFloatArray());
        float[] a = weighted(llm[0].toFloatArray(), llm[0].grad().toFloatArray());
        return new ImportanceMap(grid, grid, chain(c, cross[0].shape(), a, llm[0].shape(), in));
      }
    }
  }

  /**
   * pure-grad's pixel part: the per-pixel L2 norm over the 3 channels of dv/dpixels [S * S]
   * row-major, v = log softmax(z_t*)[argmax], through the LLM, projection, Q-Former and vision
   * tower (spec 1.3.3, at InstructBLIP's 224 px).
   */
  public float[] pixelGradientNorms(Tensor pixels, int[] qformerIds, int[] ids) {
    try (Scope scope = Scope.open(); var g = GradMode.enable()) {
      Tensor px = pixels.contiguous().detach().requiresGrad(true);
      LlavaInputs in = model.prepare(ids, qformerIds, px);
      try (DecodeState state = model.newState(1, in.length())) {
        Tensor logits = model.forward(in, state, false);
        Tensor lp = Ops.logSoftmax(logits.reshape(model.vocabSize()), -1);
        int top = (int) Ops.argmax(lp, 0, false).getLong();
        lp.select(0, top).backward();
      }
      if (px.grad() == null) {
        throw new ViCropException("pure-grad: the pixels kept no gradient");
      }
      float[] gr = px.grad().toFloatArray(); // [1, 3, S, S]
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

  /** A * relu(G) elementwise. */
  private static float[] weighted(float[] a, float[] g) {
    float[] w = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      w[i] = a[i] * Math.max(0f, g[i]);
    }
    return w;
  }

  /**
   * mean_h(a[:, T-1, columns])^T . mean_h(C[:, :, 1:]) for C [1, H, Q, N] and a [1, Hl, T, T].
   */
  private float[] chain(float[] c, int[] cShape, float[] a, int[] aShape, LlavaInputs in) {
    int h = cShape[1];
    int q = cShape[2];
    int n = cShape[3];
    int patches = n - 1;
    float[][] cbar = new float[q][patches];
    for (int qi = 0; qi < q; qi++) {
      for (int j = 0; j < patches; j++) {
        double s = 0;
        for (int hh = 0; hh < h; hh++) {
          s += c[((hh * q) + qi) * n + 1 + j];
        }
        cbar[qi][j] = (float) (s / h);
      }
    }
    int hl = aShape[1];
    int tq = aShape[2];
    int tk = aShape[3];
    int row = tq - 1; // t*, the last prompt position
    int[] columns;
    if (layers.columns() == Columns.INTENDED) {
      ImageSpan span = in.imageSpans().get(0);
      columns = new int[span.length()];
      for (int i = 0; i < columns.length; i++) {
        columns[i] = span.start() + i;
      }
    } else {
      columns = new int[Math.min(patches, tk)]; // lm_atts[LM_LAYER][0, :, -1, :NUM_IMG_TOKENS]
      for (int i = 0; i < columns.length; i++) {
        columns[i] = i;
      }
    }
    if (columns.length != q) {
      throw new ViCropException("ViCrop released-code parity: the LLM attention row sliced to its first " + columns.length
          + " key positions (NUM_IMG_TOKENS = the number of patches) cannot multiply the Q-Former map [" + q + " queries x " + patches
          + " patches]; the released blip_methods.py fails here with a shape error (its issue #30). Use the intended formulation"
          + " (the " + q + " visual positions)");
    }
    float[] abar = new float[q];
    for (int qi = 0; qi < q; qi++) {
      double s = 0;
      for (int hh = 0; hh < hl; hh++) {
        s += a[(hh * tq + row) * tk + columns[qi]];
      }
      abar[qi] = (float) (s / hl);
    }
    float[] map = new float[patches];
    for (int j = 0; j < patches; j++) {
      double s = 0;
      for (int qi = 0; qi < q; qi++) {
        s += (double) abar[qi] * cbar[qi][j];
      }
      map[j] = (float) s;
    }
    if (patches != grid * grid) {
      throw new ViCropException("the vision tower's " + patches + " patches are not its " + grid + " x " + grid + " grid: " + Arrays.toString(cShape));
    }
    return map;
  }
}
