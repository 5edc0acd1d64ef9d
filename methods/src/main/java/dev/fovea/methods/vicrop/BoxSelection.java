package dev.fovea.methods.vicrop;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * ViCrop's choice of one square crop box from an importance map: {@code bbox_from_att_image_adaptive}
 * of saccharomycetes/mllms_know {@code utils.py} (spec {@code methods-vicrop-avc-vcd.md} 1.4), with
 * the reference's arithmetic kept step for step.
 *
 * <ol>
 *   <li>Block size in image pixels {@code bw = W / Wm}, {@code bh = H / Hm} (doubles): the map is
 *       spread over the whole image.
 *   <li>For each ratio r, in order: window side {@code S = S0 · r}; window in map cells {@code nx =
 *       min((int) (S / bw), Wm)}, {@code ny = min((int) (S / bh), Hm)}. A window that covers the
 *       whole map ({@code nx == Wm && ny == Hm}) returns the full image for the first ratio and is
 *       skipped for later ones. Otherwise every window position is scored with the sum of the map
 *       inside it (in double), x as the outer loop and y as the inner, and the best one is the first
 *       strictly greater score. Sharpness = (best − mean of the 2 to 4 left/right/up/down neighbour
 *       scores) / (nx · ny).
 *   <li>The ratio with the largest sharpness wins (the first on ties); {@code S* = S0 · r*}.
 *   <li>Centre {@code cx = (int) (x · bw + bw · nx / 2)}, {@code cy} likewise; {@code half =
 *       floor(S* / 2)} (403.2 gives 201); {@code cx = half} if {@code cx < half}, then {@code cx = W −
 *       half} if {@code cx > W − half}; same for y.
 *   <li>Box {@code (max(0, cx − half), max(0, cy − half), min(W, cx + half), min(H, cy + half))}.
 * </ol>
 *
 * <p>What the reference does vs what we do:
 *
 * <ul>
 *   <li>A window of 0 cells. When one map cell is wider (or taller) than {@code S} (an image wider
 *       than about Wm · S0 pixels), the reference computes {@code nx = 0} and slides empty windows
 *       whose scores are all 0. We widen such a window to 1 cell ({@code nx = max(1, ...)}, same for
 *       ny): a deliberate deviation.
 *   <li>The full-image rule. The reference returns the full image when the window of {@code r == 1}
 *       covers the whole map; 1 is the first of its ratios. We apply the rule to the first ratio of
 *       the list, whatever its value, which is the same thing for the default ratios. (With the
 *       reference's literal test, a list without 1 whose windows all cover the map would end in an
 *       argmax over nothing.)
 *   <li>Ratios must be ascending, so the evaluated ratios are a prefix of the list (windows only
 *       grow); the reference relies on the same fact when it indexes its ratios with the position
 *       among the evaluated ones.
 * </ul>
 */
public final class BoxSelection {
  private static final double[] DEFAULT_RATIOS = {1.0, 1.2, 1.4, 1.6, 1.8, 2.0};

  private BoxSelection() {}

  /** The reference's window ratios 1.0, 1.2, 1.4, 1.6, 1.8, 2.0 (a copy). */
  public static double[] defaultRatios() {
    return DEFAULT_RATIOS.clone();
  }

  /**
   * What one ratio's sliding window found: window size in map cells, the best window's top-left
   * cell, its score, the mean score of its neighbours and the sharpness that ranks the ratios.
   */
  public record Trial(double ratio, int nx, int ny, int bestX, int bestY, double bestScore, double neighbourMean, double sharpness) {
    @Override
    public String toString() {
      return "ratio " + ratio + ": window " + nx + " x " + ny + " cells, best at (x " + bestX + ", y " + bestY + ") score " + bestScore
          + ", neighbour mean " + neighbourMean + ", sharpness " + sharpness;
    }
  }

  /**
   * The chosen box and why.
   *
   * @param box the crop box in image pixels
   * @param ratio the chosen ratio (the first ratio when the full image is returned)
   * @param ratioIndex its index in the ratio list
   * @param fullImage whether the first ratio's window already covered the whole map, so the box is
   *     the whole image and no window was slid
   * @param trials one entry per ratio, in order: the ratio's {@link Trial}, or {@code null} for a
   *     ratio that was skipped because its window covered the whole map (all entries are null for a
   *     full image); unmodifiable
   */
  public record Selection(Box box, double ratio, int ratioIndex, boolean fullImage, List<Trial> trials) {
    /** A few lines saying which ratio won and what each ratio saw. */
    public String describe() {
      StringBuilder sb = new StringBuilder("box " + box);
      if (fullImage) {
        sb.append(": the full image (the window of ratio ").append(ratio).append(" covers the whole map)");
        return sb.toString();
      }
      sb.append(": ratio ").append(ratio).append(" has the sharpest window");
      for (Trial t : trials) {
        sb.append('\n').append(t == null ? "skipped: window covers the whole map" : t.toString());
      }
      return sb.toString();
    }
  }

  /** {@link #select(ImportanceMap, int, int, int, double[])} with the default ratios. */
  public static Selection select(ImportanceMap map, int width, int height, int baseSize) {
    return select(map, width, height, baseSize, DEFAULT_RATIOS);
  }

  /**
   * The crop box for a {@code width} x {@code height} image from {@code map} (spread over the whole
   * image), with windows of {@code baseSize · ratio} pixels (336 for LLaVA-1.5, 224 for
   * InstructBLIP).
   *
   * @throws ViCropException for sizes that are not positive, ratios that are empty, not positive
   *     and finite, not strictly ascending or give a window under 2 pixels or over 2^31 pixels, and
   *     for a map value that is NaN or infinite (naming the cell)
   */
  public static Selection select(ImportanceMap map, int width, int height, int baseSize, double[] ratios) {
    validate(map, width, height, baseSize, ratios);
    int rows = map.rows();
    int cols = map.cols();
    float[] m = map.values();
    double bw = (double) width / cols;
    double bh = (double) height / rows;

    Trial[] trials = new Trial[ratios.length];
    for (int i = 0; i < ratios.length; i++) {
      double side = baseSize * ratios[i];
      // (int) truncates like Python's int(); max(1, ...) is our guard against empty windows
      int nx = Math.max(1, Math.min((int) (side / bw), cols));
      int ny = Math.max(1, Math.min((int) (side / bh), rows));
      if (nx == cols && ny == rows) {
        if (i == 0) {
          return new Selection(new Box(0, 0, width, height), ratios[0], 0, true, Collections.unmodifiableList(Arrays.asList(trials)));
        }
        continue; // skipped: trials[i] stays null
      }
      trials[i] = slide(m, rows, cols, nx, ny, ratios[i]);
    }

    int best = 0; // trials[0] is never null here
    for (int i = 1; i < trials.length; i++) {
      if (trials[i] != null && trials[i].sharpness() > trials[best].sharpness()) {
        best = i;
      }
    }
    Trial t = trials[best];
    long half = (long) Math.floor(baseSize * ratios[best] / 2.0); // Python: selected_bbox_size // 2
    long cx = (long) (t.bestX() * bw + bw * t.nx() / 2.0);
    long cy = (long) (t.bestY() * bh + bh * t.ny() / 2.0);
    cx = cx < half ? half : cx;
    cy = cy < half ? half : cy;
    cx = cx > width - half ? width - half : cx;
    cy = cy > height - half ? height - half : cy;
    Box box = new Box(
        (int) Math.max(0, cx - half), (int) Math.max(0, cy - half), (int) Math.min(width, cx + half), (int) Math.min(height, cy + half));
    return new Selection(box, ratios[best], best, false, Collections.unmodifiableList(Arrays.asList(trials)));
  }

  /** Scores every nx x ny window position and measures how sharply the best one stands out. */
  private static Trial slide(float[] m, int rows, int cols, int nx, int ny, double ratio) {
    int gw = cols - nx + 1;
    int gh = rows - ny + 1;
    double[] scores = new double[gh * gw];
    double best = Double.NEGATIVE_INFINITY;
    int bx = 0;
    int by = 0;
    for (int x = 0; x < gw; x++) { // x outer, y inner, strictly greater: the reference's tie order
      for (int y = 0; y < gh; y++) {
        double s = 0;
        for (int r = y; r < y + ny; r++) {
          for (int c = x; c < x + nx; c++) {
            s += m[r * cols + c];
          }
        }
        scores[y * gw + x] = s;
        if (s > best) {
          best = s;
          bx = x;
          by = y;
        }
      }
    }
    // neighbours in the reference's order: left, right, up, down (the order of the mean's sum)
    double sum = 0;
    int n = 0;
    if (bx > 0) {
      sum += scores[by * gw + bx - 1];
      n++;
    }
    if (bx < gw - 1) {
      sum += scores[by * gw + bx + 1];
      n++;
    }
    if (by > 0) {
      sum += scores[(by - 1) * gw + bx];
      n++;
    }
    if (by < gh - 1) {
      sum += scores[(by + 1) * gw + bx];
      n++;
    }
    // n >= 1: a 1 x 1 score grid means the window covers the map, which is never slid
    double mean = sum / n;
    double sharpness = (best - mean) / (nx * ny);
    return new Trial(ratio, nx, ny, bx, by, best, mean, sharpness);
  }

  private static void validate(ImportanceMap map, int width, int height, int baseSize, double[] ratios) {
    if (map == null) {
      throw new ViCropException("box selection needs an importance map, got null");
    }
    if (width <= 0 || height <= 0) {
      throw new ViCropException("image size " + width + " x " + height + " must be positive");
    }
    if (baseSize <= 0) {
      throw new ViCropException("base size " + baseSize + " must be positive (336 for LLaVA-1.5, 224 for InstructBLIP)");
    }
    if (ratios == null || ratios.length == 0) {
      throw new ViCropException("box selection needs at least one window ratio");
    }
    for (int i = 0; i < ratios.length; i++) {
      double r = ratios[i];
      if (!(r > 0) || !Double.isFinite(r)) {
        throw new ViCropException("window ratio " + r + " (index " + i + ") must be positive and finite");
      }
      if (i > 0 && !(r > ratios[i - 1])) {
        throw new ViCropException("window ratios must be strictly ascending, got " + Arrays.toString(ratios));
      }
    }
    if (baseSize * ratios[0] < 2) {
      throw new ViCropException("window side " + baseSize + " x " + ratios[0] + " is under 2 pixels: the box would be empty");
    }
    if (baseSize * ratios[ratios.length - 1] > Integer.MAX_VALUE) {
      throw new ViCropException("window side " + baseSize + " x " + ratios[ratios.length - 1] + " pixels is too large");
    }
    map.requireFinite("box selection");
  }
}
