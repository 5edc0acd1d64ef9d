package dev.fovea.vit.clip;

import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * HF {@code CLIPModel} (modeling_clip.py at 000f1ffdbf1ce6190cc8863af9a2fff817590937): both towers,
 * the projections and the learnt temperature, under the checkpoint's names ({@code vision_model},
 * {@code text_model}, {@code visual_projection}, {@code text_projection}, {@code logit_scale}).
 * Shapes: Bi images, Bt texts, D vision width, W text width, E projection.
 *
 * <pre>
 * img    = visual_projection(vision_model(pixels).pooled)    [Bi, E]   no bias
 * txt    = text_projection(text_model(ids).pooled)           [Bt, E]   no bias
 * img, txt /= their L2 norms
 * logits_per_text  = exp(logit_scale) * txt img^T            [Bt, Bi]
 * logits_per_image = logits_per_text^T                       [Bi, Bt]
 * </pre>
 */
public final class ClipModel extends Module {
  public final ClipConfig config;
  public final ClipTextTransformer textModel;
  public final ClipVisionTransformer visionModel;
  /** [E, D]. */
  public final Linear visualProjection;
  /** [E, W]. */
  public final Linear textProjection;
  /** [] (0-dim): log of the temperature's inverse. */
  public final Parameter logitScale;

  public ClipModel(ClipConfig config) {
    this.config = config;
    int e = config.projectionDim();
    this.textModel = register("text_model", new ClipTextTransformer(config.textConfig()));
    this.visionModel = register("vision_model", new ClipVisionTransformer(config.visionConfig()));
    this.visualProjection = register("visual_projection", new Linear(config.visionConfig().hiddenSize(), e, false));
    this.textProjection = register("text_projection", new Linear(config.textConfig().hiddenSize(), e, false));
    this.logitScale = parameter("logit_scale", Parameter.FLOAT, Parameter.Init.NEAR_ONE);
  }

  /** Builds the model from the checkpoint's config.json and loads its weights strictly. */
  public static ClipModel load(ClipCheckpoint ckpt) {
    ClipConfig config = ClipConfig.parse(ckpt.configJson(), ckpt.describe("config.json"));
    ckpt.refuse(config.disagreements(ckpt.weights())); // before building: a million layers fail here, in one line
    ClipModel m = new ClipModel(config);
    ckpt.load(m, "");
    return m;
  }

  /** Everything a joint forward returns; embeddings are [B, E], logits as in the class comment. */
  public record Output(TowerOutput vision, TowerOutput text, Tensor imageEmbedsUnnormalized, Tensor textEmbedsUnnormalized,
      Tensor imageEmbeds, Tensor textEmbeds, Tensor logitScale, Tensor logitsPerImage, Tensor logitsPerText) {}

  /** Image features: projected pooled CLS, not normalized (HF get_image_features). */
  public Tensor imageFeatures(TowerOutput vision) {
    return visualProjection.forward(vision.pooled());
  }

  /** Text features: projected pooled EOS, not normalized (HF get_text_features). */
  public Tensor textFeatures(TowerOutput text) {
    return textProjection.forward(text.pooled());
  }

  /** L2-normalized image embeddings [B, E] of pixels [B, 3, H, W]. */
  public Tensor encodeImage(Tensor pixels) {
    return normalize(imageFeatures(visionModel.forward(pixels)));
  }

  /**
   * L2-normalized image embeddings [B', E] of token sequences entering vision layer {@code layer}
   * (split execution: {@link ClipVisionTransformer#hiddenStateBefore} once, then this on a batch of
   * edited sequences).
   */
  public Tensor encodeImageFrom(Tensor hidden, int layer) {
    return normalize(visualProjection.forward(visionModel.pooledFrom(hidden, layer)));
  }

  /** L2-normalized text embeddings [B, E]. */
  public Tensor encodeText(int[][] ids, int[][] attentionMask) {
    return normalize(textFeatures(textModel.forward(ids, attentionMask)));
  }

  /** exp(logit_scale) as a 0-dim F32 tensor. */
  public Tensor temperature() {
    return Ops.exp(Ops.to(logitScale.get(), DType.F32));
  }

  public Output forward(Tensor pixels, int[][] ids, int[][] attentionMask, ClipOutputs outputs) {
    TowerOutput vision = visionModel.forward(pixels, outputs);
    TowerOutput text = textModel.forward(ids, attentionMask, outputs);
    Tensor img = imageFeatures(vision); // [Bi, E]
    Tensor txt = textFeatures(text); // [Bt, E]
    Tensor imgN = normalize(img);
    Tensor txtN = normalize(txt);
    Tensor scale = Ops.to(logitScale.get(), DType.F32);
    Tensor perText = Ops.mul(Ops.matmul(txtN, imgN.transpose(0, 1)), Ops.exp(scale)); // [Bt, Bi]
    return new Output(vision, text, img, txt, imgN, txtN, scale, perText.transpose(0, 1), perText);
  }

  /** x / ||x||_2 over the last dimension (HF divides by the norm without an epsilon). */
  public static Tensor normalize(Tensor x) {
    if (x.dim() < 1) {
      throw new ShapeException("normalize: needs at least one dimension, got " + Arrays.toString(x.shape()));
    }
    return Ops.div(x, Ops.sqrt(Ops.sum(Ops.square(x), -1, true)));
  }

  /** Opens a model folder or archive; the returned pair must be closed when done. */
  public static Loaded open(Path path) {
    ClipCheckpoint ckpt = ClipCheckpoint.open(path);
    try {
      return new Loaded(ckpt, load(ckpt));
    } catch (RuntimeException e) {
      ckpt.close();
      throw e;
    }
  }

  /** A model with the checkpoint whose mapped weights it uses. */
  public record Loaded(ClipCheckpoint checkpoint, ClipModel model) implements AutoCloseable {
    @Override
    public void close() {
      checkpoint.close();
    }
  }
}
