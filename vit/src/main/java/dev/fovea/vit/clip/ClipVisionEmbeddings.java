package dev.fovea.vit.clip;

import dev.fovea.nn.Embedding;
import dev.fovea.nn.Module;
import dev.fovea.nn.Parameter;
import dev.fovea.nn.PatchEmbed;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.ops.Interpolate;
import java.util.Arrays;
import java.util.List;

/**
 * HF {@code CLIPVisionEmbeddings} (transformers src/transformers/models/clip/modeling_clip.py at
 * 000f1ffdbf1ce6190cc8863af9a2fff817590937, class CLIPVisionEmbeddings): patch conv without bias,
 * CLS prepended, position table added. Shapes: B batch, D width, P patch, g the checkpoint's grid
 * (image_size / P), N = g*g + 1 positions, h x w the grid of the input (H/P x W/P).
 *
 * <p>An input whose grid differs from g x g gets its position table resized as HF's {@code
 * interpolate_pos_encoding} does: the g x g patch rows are resized to h x w with
 * {@code interpolate(size=(h, w), mode="bicubic", align_corners=False)} (no antialias), the CLS row
 * is kept. (HF raises unless {@code interpolate_pos_encoding=True}; here the size decides.)
 */
public final class ClipVisionEmbeddings extends Module {
  public final ClipVisionConfig config;
  /** [D]. */
  public final Parameter classEmbedding;
  /** weight [D, C, P, P], no bias. */
  public final PatchEmbed patchEmbedding;
  /** weight [N, D]. */
  public final Embedding positionEmbedding;

  public ClipVisionEmbeddings(ClipVisionConfig config) {
    this.config = config;
    int d = config.hiddenSize();
    this.classEmbedding = parameter("class_embedding", Parameter.FLOAT, Parameter.Init.NORMAL, d);
    this.patchEmbedding = register("patch_embedding", new PatchEmbed(config.numChannels(), d, config.patchSize(), false));
    this.positionEmbedding = register("position_embedding", new Embedding(config.numPositions(), d));
  }

  /** pixels [B, C, H, W] (H, W multiples of P) to embeddings [B, 1 + h*w, D]. */
  public Tensor forward(Tensor pixels) {
    int p = config.patchSize();
    if (pixels.dim() != 4 || pixels.size(2) % p != 0 || pixels.size(3) % p != 0 || pixels.size(2) == 0 || pixels.size(3) == 0) {
      throw new ShapeException("CLIP vision embeddings '" + path() + "': pixels " + Arrays.toString(pixels.shape())
          + " must be [B, " + config.numChannels() + ", H, W] with H and W positive multiples of patch_size " + p);
    }
    int b = pixels.size(0);
    int d = config.hiddenSize();
    int h = pixels.size(2) / p;
    int w = pixels.size(3) / p;
    Tensor patches = patchEmbedding.forward(pixels); // [B, h*w, D]
    Tensor cls = Ops.to(classEmbedding.get(), dev.fovea.tensor.DType.F32).reshape(1, 1, d).expand(b, 1, d); // [B, 1, D]
    Tensor tokens = Ops.concat(List.of(cls, patches), 1); // [B, 1 + h*w, D]
    Tensor pos = positionEmbedding.forward(Tensor.ofInts(range(config.numPositions()), config.numPositions())); // [N, D]
    int g = config.gridSize();
    if (h != g || w != g) {
      pos = interpolate(pos, g, h, w, d);
    }
    return hooked(Ops.add(tokens, pos), pixels);
  }

  /** Position table [N, D] for a g x g grid to [1 + h*w, D] for an h x w grid (bicubic, align_corners=False). */
  static Tensor interpolate(Tensor pos, int g, int h, int w, int d) {
    Tensor clsPos = pos.slice(0, 0, 1); // [1, D]
    Tensor grid = pos.slice(0, 1, 1 + g * g).reshape(1, g, g, d).permute(0, 3, 1, 2); // [1, D, g, g]
    Tensor resized = Ops.interpolate(grid, h, w, Interpolate.Mode.BICUBIC, false); // [1, D, h, w]
    Tensor patchPos = resized.permute(0, 2, 3, 1).reshape(h * w, d); // [h*w, D]
    return Ops.concat(List.of(clsPos, patchPos), 0);
  }

  static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }
}
