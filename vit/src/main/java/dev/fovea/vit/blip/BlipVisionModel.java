package dev.fovea.vit.blip;

import dev.fovea.nn.LayerNorm;
import dev.fovea.nn.Linear;
import dev.fovea.nn.MLP;
import dev.fovea.nn.Module;
import dev.fovea.nn.ModuleList;
import dev.fovea.nn.Parameter;
import dev.fovea.nn.PatchEmbed;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.ops.Attention;
import java.util.Arrays;
import java.util.List;

/**
 * HF {@code BlipVisionModel} (transformers src/transformers/models/blip/modeling_blip.py, classes
 * BlipVisionEmbeddings, BlipAttention, BlipEncoderLayer, BlipEncoder, BlipVisionModel; LAVIS
 * lavis/models/vit.py VisionTransformer; spec methods-abs-agla.md B.9). Shapes: B batch, D width,
 * H heads, hd = D/H, P patch, G = image/P, N = G*G + 1 tokens.
 *
 * <pre>
 * x = [class_embedding ; patch_embedding(pixels)] + position_embedding       [B, N, D]
 * per layer:  x += projection(attn(qkv(layer_norm1(x))))                       pre-LN
 *             x += fc2(gelu(fc1(layer_norm2(x))))
 * V = post_layernorm(x)                                                        every token
 * </pre>
 *
 * The attention takes the fused path (no hooks: AGLA needs no gradient through the vision tower).
 */
public final class BlipVisionModel extends Module {
  public final BlipConfig.Vision config;
  public final Embeddings embeddings;
  public final Encoder encoder;
  public final LayerNorm postLayernorm;

  public BlipVisionModel(BlipConfig.Vision config) {
    this.config = config;
    this.embeddings = register("embeddings", new Embeddings(config));
    this.encoder = register("encoder", new Encoder(config));
    this.postLayernorm = register("post_layernorm", new LayerNorm(config.hiddenSize(), (float) config.layerNormEps()));
  }

  /** pixels [B, 3, S, S] to the image states V [B, N, D] (after post_layernorm). */
  public Tensor forward(Tensor pixels) {
    Tensor x = embeddings.forward(pixels);
    for (EncoderLayer layer : encoder.layers) {
      x = forwardFreeing(layer, x, layer::forward); // at inference each layer's intermediates are freed as it ends
    }
    return hooked(postLayernorm.forward(x), pixels);
  }

  /** {@code embeddings}: class_embedding [1, 1, D], patch_embedding (conv with bias), position_embedding [1, N, D]. */
  public static final class Embeddings extends Module {
    final BlipConfig.Vision config;
    public final Parameter classEmbedding;
    public final PatchEmbed patchEmbedding;
    public final Parameter positionEmbedding;

    Embeddings(BlipConfig.Vision config) {
      this.config = config;
      int d = config.hiddenSize();
      this.classEmbedding = parameter("class_embedding", Parameter.FLOAT, Parameter.Init.NORMAL, 1, 1, d);
      this.patchEmbedding = register("patch_embedding", new PatchEmbed(3, d, config.patchSize(), true));
      this.positionEmbedding = parameter("position_embedding", Parameter.FLOAT, Parameter.Init.SMALL, 1, config.numPositions(), d);
    }

    public Tensor forward(Tensor pixels) {
      int s = config.imageSize();
      if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) != s || pixels.size(3) != s) {
        throw new ShapeException("BLIP vision embeddings: pixels " + Arrays.toString(pixels.shape()) + " must be [B, 3, " + s + ", " + s
            + "] (the checkpoint's image_size; BLIP's processor resizes to it)");
      }
      int b = pixels.size(0);
      int d = config.hiddenSize();
      Tensor patches = patchEmbedding.forward(pixels); // [B, G*G, D]
      Tensor cls = Ops.to(classEmbedding.get(), DType.F32).expand(b, 1, d); // [B, 1, D]
      Tensor tokens = Ops.concat(List.of(cls, patches), 1); // [B, N, D]
      return hooked(Ops.add(tokens, Ops.to(positionEmbedding.get(), DType.F32)), pixels);
    }
  }

  /** {@code encoder}: {@code layers.N}. */
  public static final class Encoder extends Module {
    public final ModuleList<EncoderLayer> layers;

    Encoder(BlipConfig.Vision config) {
      this.layers = register("layers", new ModuleList<>());
      for (int i = 0; i < config.numHiddenLayers(); i++) {
        layers.add(new EncoderLayer(config));
      }
    }
  }

  /** {@code encoder.layers.N}: layer_norm1, self_attn (qkv, projection), layer_norm2, mlp (fc1, fc2). */
  public static final class EncoderLayer extends Module {
    public final LayerNorm layerNorm1;
    public final SelfAttention selfAttn;
    public final LayerNorm layerNorm2;
    public final MLP mlp;

    EncoderLayer(BlipConfig.Vision c) {
      float eps = (float) c.layerNormEps();
      this.layerNorm1 = register("layer_norm1", new LayerNorm(c.hiddenSize(), eps));
      this.selfAttn = register("self_attn", new SelfAttention(c));
      this.layerNorm2 = register("layer_norm2", new LayerNorm(c.hiddenSize(), eps));
      this.mlp = register("mlp", new MLP(c.hiddenSize(), c.intermediateSize(), c.activation()));
    }

    public Tensor forward(Tensor x) {
      Tensor h = Ops.add(x, selfAttn.forward(layerNorm1.forward(x))); // residual around attention
      return hooked(Ops.add(h, mlp.forward(layerNorm2.forward(h))), x); // residual around the MLP
    }
  }

  /**
   * {@code self_attn}: one fused {@code qkv} Linear(D, 3D) whose output is [q | k | v], each split
   * into H heads of hd (HF reshapes to [B, T, 3, H, hd]), softmax(q k^T / sqrt(hd)) v, then {@code
   * projection}.
   */
  public static final class SelfAttention extends Module {
    final int heads;
    final int headDim;
    public final Linear qkv;
    public final Linear projection;

    SelfAttention(BlipConfig.Vision c) {
      this.heads = c.numAttentionHeads();
      this.headDim = c.headDim();
      this.qkv = register("qkv", new Linear(c.hiddenSize(), 3 * c.hiddenSize(), true));
      this.projection = register("projection", new Linear(c.hiddenSize(), c.hiddenSize(), true));
    }

    public Tensor forward(Tensor x) {
      int b = x.size(0);
      int t = x.size(1);
      int d = heads * headDim;
      Tensor y = qkv.forward(x).reshape(b, t, 3, heads, headDim).permute(2, 0, 3, 1, 4); // [3, B, H, T, hd]
      Tensor q = y.select(0, 0);
      Tensor k = y.select(0, 1);
      Tensor v = y.select(0, 2);
      Tensor ctx = Attention.attention(q, k, v, null, false, (float) (1.0 / Math.sqrt(headDim)), false).output(); // [B, H, T, hd]
      return hooked(projection.forward(ctx.transpose(1, 2).reshape(b, t, d)), x);
    }
  }
}
