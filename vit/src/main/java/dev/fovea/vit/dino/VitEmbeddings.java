package dev.fovea.vit.dino;

import dev.fovea.nn.Module;
import dev.fovea.nn.Parameter;
import dev.fovea.nn.PatchEmbed;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * HF {@code ViTEmbeddings} (transformers src/transformers/models/vit/modeling_vit.py, class
 * ViTEmbeddings, without mask token and without {@code interpolate_pos_encoding}): patch conv with
 * bias, CLS prepended, position table added. Shapes: B batch, D width, g grid side, N = g*g + 1.
 *
 * <pre>
 * patches = patch_embeddings.projection(pixels)   [B, g*g, D]  conv k=P s=P, flattened row-major
 * x       = cat(cls_token, patches) + position_embeddings   [B, N, D]
 * </pre>
 */
public final class VitEmbeddings extends Module {
  public final VitConfig config;
  /** [1, 1, D]. */
  public final Parameter clsToken;
  /** [1, N, D]. */
  public final Parameter positionEmbeddings;
  /** weight [D, C, P, P], bias [D]. */
  public final PatchEmbed projection;

  public VitEmbeddings(VitConfig config) {
    this.config = config;
    int d = config.hiddenSize();
    this.clsToken = parameter("cls_token", Parameter.FLOAT, Parameter.Init.NORMAL, 1, 1, d);
    this.positionEmbeddings = parameter("position_embeddings", Parameter.FLOAT, Parameter.Init.SMALL, 1, config.numPositions(), d);
    this.projection = registerAt("patch_embeddings.projection", new PatchEmbed(config.numChannels(), d, config.patchSize(), true));
  }

  /** pixels [B, C, S, S] with S = image_size (HF raises on other sizes unless interpolate_pos_encoding). */
  public Tensor forward(Tensor pixels) {
    int s = config.imageSize();
    if (pixels.dim() != 4 || pixels.size(1) != config.numChannels() || pixels.size(2) != s || pixels.size(3) != s) {
      throw new ShapeException("ViT embeddings '" + path() + "': pixels " + Arrays.toString(pixels.shape()) + " must be [B, "
          + config.numChannels() + ", " + s + ", " + s + "] (image_size " + s + "; other sizes would need interpolate_pos_encoding)");
    }
    int b = pixels.size(0);
    int d = config.hiddenSize();
    Tensor patches = projection.forward(pixels); // [B, g*g, D]
    Tensor cls = Ops.to(clsToken.get(), DType.F32).expand(b, 1, d); // [B, 1, D]
    Tensor tokens = Ops.concat(List.of(cls, patches), 1); // [B, N, D]
    Tensor pos = Ops.to(positionEmbeddings.get(), DType.F32); // [1, N, D]
    return hooked(Ops.add(tokens, pos), pixels);
  }
}
