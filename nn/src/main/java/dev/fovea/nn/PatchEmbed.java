package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import java.util.Arrays;

/**
 * Non-overlapping patch embedding: a conv with stride = kernel = patch (CLIP's {@code
 * patch_embedding}, no bias; BLIP/EVA with bias). Pixels [B, C, H, W] become tokens [B, N, D] in
 * row-major patch order, N = (H/P)(W/P).
 */
public final class PatchEmbed extends Module {
  public final int channels;
  public final int dim;
  public final int patch;
  /** [D, C, P, P]. */
  public final Parameter weight;
  /** [D], or null. */
  public final Parameter bias;

  public PatchEmbed(int channels, int dim, int patch, boolean bias) {
    this.channels = channels;
    this.dim = dim;
    this.patch = patch;
    this.weight = parameter("weight", Parameter.FLOAT, Parameter.Init.FAN_IN, dim, channels, patch, patch);
    this.bias = bias ? parameter("bias", Parameter.FLOAT, Parameter.Init.SMALL, dim) : null;
  }

  public Tensor forward(Tensor pixels) {
    if (pixels.dim() != 4 || pixels.size(1) != channels || pixels.size(2) % patch != 0 || pixels.size(3) % patch != 0) {
      throw new ShapeException("PatchEmbed '" + path() + "': pixels " + Arrays.toString(pixels.shape()) + " must be [B, " + channels
          + ", H, W] with H and W multiples of the patch " + patch);
    }
    int b = pixels.size(0);
    // [B, D, H/P, W/P] -> [B, D, N] -> [B, N, D]
    Tensor y = Ops.conv2d(pixels, weight.get(), bias == null ? null : bias.get(), patch, 0);
    Tensor tokens = y.reshape(b, dim, y.size(2) * y.size(3)).transpose(1, 2);
    return hooked(tokens, pixels);
  }

  @Override
  protected String extraRepr() {
    return "(" + channels + " -> " + dim + ", patch=" + patch + ")";
  }
}
