package dev.fovea.vit.clip;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.ops.Interpolate;
import java.util.Arrays;
import java.util.List;

/**
 * Edits of a ViT token sequence [1 + g*g, D] (row 0 CLS, then the g x g patches row-major) in the
 * space of its patch grid (spec methods-abs-agla.md A.6 step 3): a window of cells resized back to
 * the full grid with PyTorch's tensor bicubic ({@code F.interpolate(mode="bicubic",
 * align_corners=False)}: source {@code (o + 0.5) * in / out - 0.5} unclamped, Keys cubic a = -0.75,
 * taps clamped to the border, rows and columns scaled independently; not PIL's antialiased bicubic),
 * the original CLS row kept. No position is re-added.
 */
public final class TokenGrid {
  private TokenGrid() {}

  /** A window of grid cells: rows [r0, r1), columns [c0, c1). */
  public record Window(int r0, int c0, int r1, int c1) {
    public int height() {
      return r1 - r0;
    }

    public int width() {
      return c1 - c0;
    }
  }

  /**
   * grid [h, w, D] resized to [oh, ow, D] per channel with PyTorch's bicubic (align_corners=False),
   * through {@link Ops#interpolate} (separable interpolation matrices with weights computed in
   * double). PyTorch evaluates the Keys weights in float32, where {@code cc2(t + 1)} loses about
   * 2e-7 to cancellation, so the two agree to about 1e-6 of the grid's largest magnitude, not to the
   * last bit ({@code TokenGridTest} measures it).
   */
  public static Tensor resize(Tensor grid, int oh, int ow) {
    if (grid.dim() != 3 || oh < 1 || ow < 1) {
      throw new ShapeException("token grid " + Arrays.toString(grid.shape()) + " must be [h, w, D] and the output size positive ("
          + oh + ", " + ow + ")");
    }
    Tensor chw = grid.permute(2, 0, 1).unsqueeze(0); // [1, D, h, w]
    Tensor out = Ops.interpolate(chw, oh, ow, Interpolate.Mode.BICUBIC, false); // [1, D, oh, ow]
    return out.select(0, 0).permute(1, 2, 0); // [oh, ow, D]
  }

  /**
   * The sequence whose patches are {@code window} of {@code tokens} [1 + g*g, D] resized to g x g,
   * behind the original CLS row: [1 + g*g, D].
   */
  public static Tensor cropResize(Tensor tokens, int g, Window window) {
    int d = tokens.size(tokens.dim() - 1);
    if (tokens.dim() != 2 || tokens.size(0) != 1 + g * g) {
      throw new ShapeException("token sequence " + Arrays.toString(tokens.shape()) + " must be [1 + " + g + "*" + g + ", D]");
    }
    if (window.r0() < 0 || window.c0() < 0 || window.r1() > g || window.c1() > g || window.height() <= 0 || window.width() <= 0) {
      throw new ShapeException("window " + window + " is not inside the " + g + " x " + g + " grid");
    }
    Tensor grid = tokens.slice(0, 1, 1 + g * g).reshape(g, g, d); // [g, g, D]
    Tensor sub = grid.slice(0, window.r0(), window.r1()).slice(1, window.c0(), window.c1());
    Tensor resized = resize(sub, g, g).contiguous().reshape(g * g, d);
    return Ops.concat(List.of(tokens.slice(0, 0, 1), resized), 0);
  }
}
