package dev.fovea.vit.blip;

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

/**
 * HF {@code BlipTextModel} with {@code add_pooling_layer=False} (transformers
 * src/transformers/models/blip/modeling_blip_text.py; LAVIS lavis/models/med.py BertModel; spec
 * methods-abs-agla.md B.9): BLIP's BERT with a cross-attention over the image states in every layer.
 * Shapes: B batch, T tokens, C width, N image tokens, E image width.
 *
 * <pre>
 * x  = LayerNorm(word_embeddings[ids] + position_embeddings[0..T-1])           no token types
 * per layer (post-LN, eps 1e-12):
 *   h1 = LayerNorm(dense(selfattn(x, bias)) + x)                               bidirectional
 *   h2 = LayerNorm(dense(crossattn(h1, V)) + h1)                               multimodal mode only
 *   x  = LayerNorm(dense(gelu(dense(h2))) + h2)
 * </pre>
 *
 * Both attentions are {@link MultiHeadAttention}s at {@code encoder.layer.N.attention.self} and
 * {@code encoder.layer.N.crossattention.self}, so attention hooks reach them (AGLA reads layer 6's
 * cross-attention probabilities and their gradient that way).
 */
public final class BlipTextModel extends Module {
  /** BERT's additive mask value for padded keys ((1 - mask) * -10000). */
  public static final float MASKED = -10000f;

  public final BlipConfig.Text config;
  public final Embeddings embeddings;
  public final Encoder encoder;

  public BlipTextModel(BlipConfig.Text config) {
    this.config = config;
    this.embeddings = register("embeddings", new Embeddings(config));
    this.encoder = register("encoder", new Encoder(config));
  }

  /**
   * @param ids [B][T] token ids (rows of one length)
   * @param mask [B][T] 1 for tokens, 0 for padding; null: all ones
   * @param image the image states V [B, N, E] for the multimodal mode, or null for the text mode
   *     (no cross-attention)
   * @return [B, T, C]
   */
  public Tensor forward(int[][] ids, int[][] mask, Tensor image) {
    int b = ids.length;
    int t = b == 0 ? 0 : ids[0].length;
    if (b == 0 || t == 0 || t > config.maxPositionEmbeddings()) {
      throw new ShapeException("BLIP text encoder: needs 1 to " + config.maxPositionEmbeddings() + " tokens per row, got " + t + " in " + b + " rows");
    }
    int[] flat = new int[b * t];
    float[] bias = new float[b * t];
    for (int i = 0; i < b; i++) {
      if (ids[i].length != t || (mask != null && mask[i].length != t)) {
        throw new ShapeException("BLIP text encoder: row " + i + " has " + ids[i].length + " ids, row 0 has " + t + " (pad to one length)");
      }
      for (int j = 0; j < t; j++) {
        int id = ids[i][j];
        if (id < 0 || id >= config.vocabSize()) {
          throw new ShapeException("BLIP text encoder: token id " + id + " at [" + i + ", " + j + "] outside the vocabulary [0, " + config.vocabSize() + ")");
        }
        flat[i * t + j] = id;
        bias[i * t + j] = mask == null || mask[i][j] != 0 ? 0f : MASKED;
      }
    }
    if (image != null && (image.dim() != 3 || image.size(0) != b || image.size(2) != config.encoderHiddenSize())) {
      throw new ShapeException("BLIP text encoder: image states " + Arrays.toString(image.shape()) + " must be [" + b + ", N, " + config.encoderHiddenSize() + "]");
    }
    Tensor x = embeddings.forward(Tensor.ofInts(flat, b, t));
    Tensor attnBias = Tensor.of(bias, b, 1, 1, t);
    for (Layer layer : encoder.layer) {
      x = layer.forward(x, attnBias, image);
    }
    return hooked(x);
  }

  /** {@code embeddings}: word_embeddings, position_embeddings, LayerNorm. */
  public static final class Embeddings extends Module {
    public final Embedding wordEmbeddings;
    public final Embedding positionEmbeddings;
    public final LayerNorm layerNorm;

    Embeddings(BlipConfig.Text c) {
      this.wordEmbeddings = register("word_embeddings", new Embedding(c.vocabSize(), c.hiddenSize()));
      this.positionEmbeddings = register("position_embeddings", new Embedding(c.maxPositionEmbeddings(), c.hiddenSize()));
      this.layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), (float) c.layerNormEps()));
    }

    /** ids [B, T] to [B, T, C]. */
    public Tensor forward(Tensor ids) {
      Tensor words = Ops.to(wordEmbeddings.forward(ids), DType.F32);
      int t = ids.size(1);
      int[] positions = new int[t];
      for (int i = 0; i < t; i++) {
        positions[i] = i;
      }
      Tensor pos = Ops.to(positionEmbeddings.forward(Tensor.ofInts(positions, t)), DType.F32); // [T, C]
      return hooked(layerNorm.forward(Ops.add(words, pos)), ids);
    }
  }

  /** {@code encoder}: {@code layer.N}. */
  public static final class Encoder extends Module {
    public final ModuleList<Layer> layer;

    Encoder(BlipConfig.Text c) {
      this.layer = register("layer", new ModuleList<>());
      for (int i = 0; i < c.numHiddenLayers(); i++) {
        layer.add(new Layer(c));
      }
    }
  }

  /** {@code encoder.layer.N}: attention, crossattention, intermediate, output. */
  public static final class Layer extends Module {
    public final AttentionBlock attention;
    public final AttentionBlock crossattention;
    public final Intermediate intermediate;
    public final Output output;

    Layer(BlipConfig.Text c) {
      this.attention = register("attention", new AttentionBlock(c, c.hiddenSize()));
      this.crossattention = register("crossattention", new AttentionBlock(c, c.encoderHiddenSize()));
      this.intermediate = register("intermediate", new Intermediate(c));
      this.output = register("output", new Output(c, c.intermediateSize()));
    }

    /** x [B, T, C]; attnBias [B, 1, 1, T]; image [B, N, E] or null (text mode). */
    public Tensor forward(Tensor x, Tensor attnBias, Tensor image) {
      Tensor h = attention.forward(x, null, attnBias);
      if (image != null) {
        h = crossattention.forward(h, image, null); // the image mask is all ones: no bias
      }
      Tensor y = output.forward(intermediate.forward(h), h);
      return hooked(y, x, attnBias, image);
    }
  }

  /** {@code attention} / {@code crossattention}: self (query, key, value; no out projection) and output (dense, LayerNorm). */
  public static final class AttentionBlock extends Module {
    public final MultiHeadAttention self;
    public final Output output;

    AttentionBlock(BlipConfig.Text c, int kvInputDim) {
      MultiHeadAttention.Config ac = MultiHeadAttention.Config.of(c.hiddenSize(), c.numAttentionHeads()).withKvInputDim(kvInputDim).withOutProjName(null);
      this.self = register("self", new MultiHeadAttention(ac, "query", "key", "value"));
      this.output = register("output", new Output(c, c.hiddenSize()));
    }

    /** LayerNorm(dense(attn(x, context)) + x); context null for self-attention. */
    public Tensor forward(Tensor x, Tensor context, Tensor attnBias) {
      Tensor ctx = self.forward(x, context, attnBias, null); // merged heads [B, T, C]
      return hooked(output.forward(ctx, x), x, context, attnBias);
    }
  }

  /** {@code intermediate}: dense then the activation. */
  public static final class Intermediate extends Module {
    final BlipConfig.Text config;
    public final Linear dense;

    Intermediate(BlipConfig.Text c) {
      this.config = c;
      this.dense = register("dense", new Linear(c.hiddenSize(), c.intermediateSize(), true));
    }

    public Tensor forward(Tensor x) {
      return hooked(config.activation().apply(dense.forward(x)), x);
    }
  }

  /** {@code output} (and {@code attention.output}): LayerNorm(dense(x) + residual). */
  public static final class Output extends Module {
    public final Linear dense;
    public final LayerNorm layerNorm;

    Output(BlipConfig.Text c, int in) {
      this.dense = register("dense", new Linear(in, c.hiddenSize(), true));
      this.layerNorm = register("LayerNorm", new LayerNorm(c.hiddenSize(), (float) c.layerNormEps()));
    }

    public Tensor forward(Tensor x, Tensor residual) {
      return hooked(layerNorm.forward(Ops.add(dense.forward(x), residual)), x, residual);
    }
  }
}
