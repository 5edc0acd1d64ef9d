package dev.fovea.vit.instructblip;

import dev.fovea.nn.Embedding;
import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.nn.ModuleList;
import dev.fovea.nn.MultiHeadAttention;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * HF {@code InstructBlipQFormerModel} (transformers src/transformers/models/instructblip/modeling_instructblip.py;
 * LAVIS lavis/models/blip2_models/Qformer.py; spec models-formats.md 4.3): BLIP-2's querying
 * transformer that also reads the instruction. Shapes: B batch, Q learned queries, T instruction
 * tokens, C width, N image tokens, E image width.
 *
 * <pre>
 * x = layernorm([query_tokens ; word_embeddings[ids] + position_embeddings[0..T-1]])   [B, Q+T, C]; queries get no position
 * per layer i (post-LN, eps 1e-12):
 *   a  = LayerNorm(dense(selfattn(x, mask)) + x)                   all Q+T positions, bidirectional
 *   aq = a[:, :Q]
 *   aq = LayerNorm(dense(crossattn(aq, V)) + aq)                   only when i % cross_attention_frequency == 0
 *   x  = [ffn_query(aq) ; ffn(a[:, Q:])]                           intermediate_query/output_query vs intermediate/output
 * </pre>
 *
 * Every attention is a {@link MultiHeadAttention} at {@code encoder.layer.i.attention.attention} or
 * {@code encoder.layer.i.crossattention.attention}, so attention hooks reach the cross-attention
 * probabilities [B, H, Q, N] (ViCrop's chained map reads them) and their gradients.
 */
public final class InstructBlipQFormerModel extends Module {
  /** BERT's additive value for masked keys ((1 - mask) * -10000, LAVIS). */
  public static final float MASKED = -10000f;

  public final QFormerConfig config;
  public final Embeddings embeddings;
  public final Encoder encoder;

  public InstructBlipQFormerModel(QFormerConfig config) {
    this.config = config;
    this.embeddings = register("embeddings", new Embeddings(config));
    this.encoder = register("encoder", new Encoder(config));
  }

  /**
   * @param queries the learned queries [B, Q, C] (the checkpoint's {@code query_tokens}, expanded)
   * @param ids [B][T] instruction ids ([CLS] ... [SEP]); rows of one length; T may be 0
   * @param mask [B][T] 1 for tokens, 0 for padding; null: all ones (queries are never masked)
   * @param image the image states V [B, N, E]
   * @return the last hidden state [B, Q + T, C]; the first Q rows feed the language projection
   */
  public Tensor forward(Tensor queries, int[][] ids, int[][] mask, Tensor image) {
    int b = queries.dim() == 3 ? queries.size(0) : -1;
    if (b <= 0 || queries.size(2) != config.hiddenSize()) {
      throw new ShapeException("Q-Former: queries " + Arrays.toString(queries.shape()) + " must be [B, Q, " + config.hiddenSize() + "]");
    }
    int q = queries.size(1);
    if (ids.length != b) {
      throw new ShapeException("Q-Former: " + ids.length + " instruction rows for a batch of " + b);
    }
    int t = ids[0].length;
    if (t > config.maxPositionEmbeddings()) {
      throw new ShapeException("Q-Former: the instruction has " + t + " tokens, more than max_position_embeddings " + config.maxPositionEmbeddings()
          + " (LAVIS truncates it from the left to 128)");
    }
    if (image == null || image.dim() != 3 || image.size(0) != b || image.size(2) != config.encoderHiddenSize()) {
      throw new ShapeException("Q-Former: image states " + (image == null ? "null" : Arrays.toString(image.shape())) + " must be [" + b + ", N, "
          + config.encoderHiddenSize() + "] (qformer_config.encoder_hidden_size)");
    }
    int[] flat = new int[b * t];
    float[] bias = new float[b * (q + t)];
    boolean masked = false;
    for (int i = 0; i < b; i++) {
      if (ids[i].length != t || (mask != null && mask[i].length != t)) {
        throw new ShapeException("Q-Former: row " + i + " has " + ids[i].length + " ids, row 0 has " + t + " (pad to one length)");
      }
      for (int j = 0; j < t; j++) {
        int id = ids[i][j];
        if (id < 0 || id >= config.vocabSize()) {
          throw new ShapeException("Q-Former: token id " + id + " at [" + i + ", " + j + "] outside the vocabulary [0, " + config.vocabSize()
              + ") of qformer_config.vocab_size");
        }
        flat[i * t + j] = id;
        if (mask != null && mask[i][j] == 0) {
          bias[i * (q + t) + q + j] = MASKED;
          masked = true;
        }
      }
    }
    Tensor x = embeddings.forward(queries, t == 0 ? null : Tensor.ofInts(flat, b, t)); // [B, Q+T, C]
    Tensor attnBias = masked ? Tensor.of(bias, b, 1, 1, q + t) : null; // all ones: no bias, as (1 - 1) * min = 0
    for (Layer layer : encoder.layer) {
      x = forwardFreeing(layer, x, in -> layer.forward(in, q, attnBias, image)); // at inference each layer's intermediates are freed as it ends
    }
    return hooked(x);
  }

  /** {@code embeddings}: word_embeddings, position_embeddings, layernorm. */
  public static final class Embeddings extends Module {
    public final Embedding wordEmbeddings;
    public final Embedding positionEmbeddings;
    public final LayerNorm layernorm;

    Embeddings(QFormerConfig c) {
      this.wordEmbeddings = register("word_embeddings", new Embedding(c.vocabSize(), c.hiddenSize()));
      this.positionEmbeddings = register("position_embeddings", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize()));
      this.layernorm = register("layernorm", new LayerNorm(c.hiddenSize(), (float) c.layerNormEps()));
    }

    /** queries [B, Q, C], ids [B, T] or null to layernorm([queries ; words + positions]) [B, Q+T, C]. */
    public Tensor forward(Tensor queries, Tensor ids) {
      Tensor x = Ops.to(queries, DType.F32);
      if (ids != null) {
        int t = ids.size(1);
        int[] positions = new int[t];
        for (int i = 0; i < t; i++) {
          positions[i] = i;
        }
        Tensor words = Ops.to(wordEmbeddings.forward(ids), DType.F32);
        Tensor pos = Ops.to(positionEmbeddings.forward(Tensor.ofInts(positions, t)), DType.F32); // [T, C]
        x = Ops.concat(List.of(x, Ops.add(words, pos)), 1);
      }
      return hooked(layernorm.forward(x), queries, ids);
    }
  }

  /** {@code encoder}: {@code layer.N}. */
  public static final class Encoder extends Module {
    public final ModuleList<Layer> layer;

    Encoder(QFormerConfig c) {
      this.layer = register("layer", new ModuleList<>());
      for (int i = 0; i < c.numHiddenLayers(); i++) {
        layer.add(new Layer(c, i));
      }
    }
  }

  /** {@code encoder.layer.N}: attention, crossattention (some layers), intermediate/output, intermediate_query/output_query. */
  public static final class Layer extends Module {
    public final AttentionBlock attention;
    /** Null in layers without cross-attention. */
    public final AttentionBlock crossattention;
    public final Intermediate intermediate;
    public final Output output;
    public final Intermediate intermediateQuery;
    public final Output outputQuery;

    Layer(QFormerConfig c, int index) {
      this.attention = register("attention", new AttentionBlock(c, c.hiddenSize()));
      this.crossattention = c.hasCrossAttention(index) ? register("crossattention", new AttentionBlock(c, c.encoderHiddenSize())) : null;
      this.intermediate = register("intermediate", new Intermediate(c));
      this.output = register("output", new Output(c, c.intermediateSize()));
      this.intermediateQuery = register("intermediate_query", new Intermediate(c));
      this.outputQuery = register("output_query", new Output(c, c.intermediateSize()));
    }

    /** x [B, Q+T, C]; q queries; attnBias [B, 1, 1, Q+T] or null; image [B, N, E]. */
    public Tensor forward(Tensor x, int q, Tensor attnBias, Tensor image) {
      Tensor a = attention.forward(x, null, attnBias);
      int total = a.size(1);
      Tensor aq = total == q ? a : a.narrow(1, 0, q).contiguous();
      if (crossattention != null) {
        aq = crossattention.forward(aq, image, null); // the image mask is all ones
      }
      Tensor y = outputQuery.forward(intermediateQuery.forward(aq), aq);
      if (total > q) {
        Tensor at = a.narrow(1, q, total - q).contiguous();
        y = Ops.concat(List.of(y, output.forward(intermediate.forward(at), at)), 1);
      }
      return hooked(y, x, attnBias, image);
    }
  }

  /** {@code attention} / {@code crossattention}: attention (query, key, value) and output (dense, LayerNorm). */
  public static final class AttentionBlock extends Module {
    public final MultiHeadAttention attention;
    public final Output output;

    AttentionBlock(QFormerConfig c, int kvInputDim) {
      MultiHeadAttention.Config ac = MultiHeadAttention.Config.of(c.hiddenSize(), c.numAttentionHeads()).withKvInputDim(kvInputDim).withOutProjName(null);
      this.attention = register("attention", new MultiHeadAttention(ac, "query", "key", "value"));
      this.output = register("output", new Output(c, c.hiddenSize()));
    }

    /** LayerNorm(dense(attn(x, context)) + x); context null for self-attention. */
    public Tensor forward(Tensor x, Tensor context, Tensor attnBias) {
      Tensor ctx = attention.forward(x, context, attnBias, null); // merged heads [B, T, C]
      return hooked(output.forward(ctx, x), x, context, attnBias);
    }
  }

  /** {@code intermediate} / {@code intermediate_query}: dense then the activation. */
  public static final class Intermediate extends Module {
    final QFormerConfig config;
    public final Linear dense;

    Intermediate(QFormerConfig c) {
      this.config = c;
      this.dense = register("dense", new Linear(c.hiddenSize(), c.intermediateSize(), true));
    }

    public Tensor forward(Tensor x) {
      return hooked(config.activation().apply(dense.forward(x)), x);
    }
  }

  /** {@code output}, {@code output_query} and {@code attention.output}: LayerNorm(dense(x) + residual). */
  public static final class Output extends Module {
    public final Linear dense;
    public final LayerNorm layerNorm;

    Output(QFormerConfig c, int in) {
      this.dense = register("dense", new Linear(in, c.hiddenSize(), true));
      this.layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), (float) c.layerNormEps()));
    }

    public Tensor forward(Tensor x, Tensor residual) {
      return hooked(layerNorm.forward(Ops.add(dense.forward(x), residual)), x, residual);
    }
  }
}
