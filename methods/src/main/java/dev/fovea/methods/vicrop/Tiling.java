package dev.fovea.methods.vicrop;

import dev.fovea.vit.image.RgbImage;
import java.util.ArrayList;
import java.util.List;

/**
 * ViCrop's high-resolution variant (saccharomycetes/mllms_know {@code utils.py}
 * {@code high_res_split_threshold} and {@code high_res}; spec {@code methods-vicrop-avc-vcd.md} 1.5):
 * split the image into tiles, compute an importance map per tile, stitch the maps, and run {@link
 * BoxSelection} on the stitched map with the original image size. Also the final crop.
 *
 * <ol>
 *   <li>{@code rows = ceil(H / threshold)}; {@code cols = max(1, floor(rows · W / H))}.
 *   <li>Tile size {@code tw = ceil(W / cols)}, {@code th = ceil(H / rows)}; tile (row j, column i) is
 *       the box {@code (i·tw, j·th, (i+1)·tw, (j+1)·th)}, in row-major order. Boxes may run past the
 *       right and bottom borders; {@link #cropTile} fills what lies outside with black, as PIL's
 *       {@code crop} does.
 *   <li>{@link #stitch} puts tile (j, i)'s map at block row j, block column i, unnormalised.
 * </ol>
 *
 * <p>What the reference does vs what we do: the reference computes {@code cols = int(rows · W / H)},
 * which is 0 for a portrait image under the threshold (800 x 1000 gives 0.8) and then divides by
 * zero. We use at least one column ({@code max(1, ...)}), so such an image is one tile of its own
 * size. The rest is the reference's arithmetic (with integer ceil/floor, equal to numpy's float
 * results for any image size an int can hold), including one oddity we keep: for extreme aspect
 * ratios ({@code W < cols · (cols − 1)}, e.g. 11 x 2 at threshold 2) the last column of tiles starts
 * past the right border and is all black.
 */
public final class Tiling {
  /** The reference's {@code res_threshold}: tiles are at most this tall (rows = ceil(H / 1024)). */
  public static final int DEFAULT_THRESHOLD = 1024;

  /**
   * The most tiles {@link ViCrop#run} maps for one image: each tile costs a full map pass (two
   * prefills for rel-att), so 64 tiles already make one question take 64 times as long. The default
   * threshold stays under it up to about 8000 x 8000 pixels.
   */
  public static final int MAX_TILES = 64;

  private Tiling() {}

  /**
   * A tiling of a {@code width} x {@code height} image into {@code rows} x {@code cols} tiles of
   * {@code tileWidth} x {@code tileHeight} pixels.
   */
  public record Plan(int width, int height, int rows, int cols, int tileWidth, int tileHeight) {
    /** Number of tiles, {@code rows · cols}. */
    public int count() {
      return Math.multiplyExact(rows, cols);
    }

    /** Tile (row j, column i) in image pixels; may run past the right and bottom borders. */
    public Box box(int row, int col) {
      if (row < 0 || row >= rows || col < 0 || col >= cols) {
        throw new ViCropException("tile (row " + row + ", col " + col + ") is outside the " + rows + " x " + cols + " tiling");
      }
      return new Box(col * tileWidth, row * tileHeight, (col + 1) * tileWidth, (row + 1) * tileHeight);
    }

    /** All tile boxes, row-major: (0, 0), (0, 1), ..., (1, 0), ... (the order {@link #stitch} expects). */
    public List<Box> boxes() {
      List<Box> out = new ArrayList<>(count());
      for (int j = 0; j < rows; j++) {
        for (int i = 0; i < cols; i++) {
          out.add(box(j, i));
        }
      }
      return List.copyOf(out);
    }
  }

  /** {@link #plan(int, int, int)} with the reference's threshold 1024. */
  public static Plan plan(int width, int height) {
    return plan(width, height, DEFAULT_THRESHOLD);
  }

  /**
   * The tiling of a {@code width} x {@code height} image with tiles at most {@code threshold} pixels
   * tall (2246 x 1582 gives 2 x 2 tiles of 1123 x 791; 3000 x 1000 one row of 3 tiles of 1000 x 1000).
   */
  public static Plan plan(int width, int height, int threshold) {
    if (width <= 0 || height <= 0) {
      throw new ViCropException("image size " + width + " x " + height + " must be positive");
    }
    if (threshold <= 0) {
      throw new ViCropException("tiling threshold " + threshold + " must be positive");
    }
    int rows = (int) ((height + (long) threshold - 1) / threshold); // np.ceil(H / threshold)
    int cols = (int) Math.max(1, (long) rows * width / height); // int(rows * W / H); 0 -> 1 is our guard
    int tileWidth = (int) ((width + (long) cols - 1) / cols);
    int tileHeight = (int) ((height + (long) rows - 1) / rows);
    return new Plan(width, height, rows, cols, tileWidth, tileHeight);
  }

  /**
   * The smallest threshold at which a {@code width} x {@code height} image gets at most {@code
   * maxTiles} tiles, or 0 when none does (an image more than {@code maxTiles} times as wide as it
   * is tall always gets {@code floor(W / H)} columns). The tile count never grows with the
   * threshold, so this is a bisection.
   */
  public static int leastThreshold(int width, int height, int maxTiles) {
    if (maxTiles < 1) {
      throw new ViCropException("the tile limit " + maxTiles + " must be positive");
    }
    if (tiles(width, height, height) > maxTiles) {
      return 0; // at threshold >= H there is one row, and more threshold changes nothing
    }
    int lo = 1; // lo - 1 gives too many tiles (or is 0)
    int hi = height; // hi gives few enough
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      if (tiles(width, height, mid) <= maxTiles) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return hi;
  }

  /** The tile count of {@link #plan(int, int, int)}, as a long: at small thresholds it passes 2^31. */
  static long tiles(int width, int height, int threshold) {
    Plan p = plan(width, height, threshold);
    return (long) p.rows() * p.cols();
  }

  /** The tiles of {@code image} under {@code plan}, row-major ({@link #cropTile} of each box). */
  public static List<RgbImage> tiles(RgbImage image, Plan plan) {
    if (image.width() != plan.width() || image.height() != plan.height()) {
      throw new ViCropException("the tiling is for a " + plan.width() + " x " + plan.height() + " image, got " + image.width() + " x "
          + image.height());
    }
    List<RgbImage> out = new ArrayList<>(plan.count());
    for (Box b : plan.boxes()) {
      out.add(cropTile(image, b));
    }
    return List.copyOf(out);
  }

  /**
   * PIL's {@code image.crop(box)} for a tile: the box may reach outside the image, and what lies
   * outside is black (0, 0, 0).
   */
  public static RgbImage cropTile(RgbImage image, Box box) {
    return image.crop(box.x1(), box.y1(), box.x2(), box.y2());
  }

  /**
   * The final ViCrop crop, PIL's {@code image.crop(box)}; the box must lie inside the image (a box
   * from {@link BoxSelection} always does).
   *
   * @throws ViCropException naming the box and the image size when the box reaches outside
   */
  public static RgbImage crop(RgbImage image, Box box) {
    box.requireInside(image.width(), image.height());
    return image.crop(box.x1(), box.y1(), box.x2(), box.y2());
  }

  /**
   * One map of {@code (rows · m) x (cols · n)} cells from {@code rows · cols} tile maps of {@code m x
   * n} cells given row-major (tile (j, i) at index {@code j · cols + i}), like numpy's {@code
   * np.block}: tile (j, i) fills block row j, block column i. Values are not normalised per tile.
   *
   * @throws ViCropException for an empty list, a count other than {@code rows · cols}, or tiles of
   *     different sizes
   */
  public static ImportanceMap stitch(List<ImportanceMap> tiles, int rows, int cols) {
    if (tiles == null || tiles.isEmpty()) {
      throw new ViCropException("stitching needs at least one tile map, got none");
    }
    if (rows <= 0 || cols <= 0) {
      throw new ViCropException("tiling " + rows + " x " + cols + " must be positive");
    }
    if (tiles.size() != (long) rows * cols) {
      throw new ViCropException("a " + rows + " x " + cols + " tiling needs " + ((long) rows * cols) + " tile maps, got " + tiles.size());
    }
    int m = tiles.get(0).rows();
    int n = tiles.get(0).cols();
    for (int k = 0; k < tiles.size(); k++) {
      ImportanceMap t = tiles.get(k);
      if (t == null) {
        throw new ViCropException("tile map " + k + " (row " + k / cols + ", col " + k % cols + ") is null");
      }
      t.requireSize(m, n, "tile map " + k + " (row " + k / cols + ", col " + k % cols + ") must match tile 0");
    }
    int outCols = Math.multiplyExact(cols, n);
    int outRows = Math.multiplyExact(rows, m);
    float[] out = new float[Math.multiplyExact(outRows, outCols)];
    for (int j = 0; j < rows; j++) {
      for (int i = 0; i < cols; i++) {
        float[] v = tiles.get(j * cols + i).values();
        for (int r = 0; r < m; r++) {
          System.arraycopy(v, r * n, out, (j * m + r) * outCols + i * n, n);
        }
      }
    }
    return new ImportanceMap(outRows, outCols, out);
  }
}
