package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;

/**
 * Draws a {@link Scene} into {@code 0xRRGGBB} pixels, row by row from the top left, with our own
 * rasterization: no java.awt, no platform font, no {@code Math} function whose last bit may differ
 * between machines ({@link StrictMath} for the trigonometry, {@code +, *, /} and {@code sqrt}, which
 * Java rounds exactly). The same scene therefore gives the same pixels on every JVM.
 *
 * <p>Edges are antialiased by coverage: a pixel {@code (x, y)} is the square {@code [x, x+1] x [y, y+1]};
 * squares, crosses, glyph cells and frames get the exact area they cover, circles, triangles and stars
 * {@code clamp(0.5 - d)} where {@code d} is the signed distance from the pixel centre to the outline.
 * Coverage becomes an alpha in 1/256 steps and is blended in integers, so a fully covered pixel has the
 * fill colour exactly.
 *
 * <p>The background is grey: a base level with two octaves of smooth value noise, faint blobs and line
 * segments a little lighter or darker, and single-pixel speckles, all drawn from {@link
 * Scene#clutterSeed()}. Sizes scale with the canvas (a 448 px canvas is the reference).
 */
public final class SceneRenderer {
  /** The canvas side the clutter's pixel sizes refer to. */
  static final double REFERENCE_SIDE = 448;

  /**
   * The smooth noise is rounded to multiples of this many grey levels: invisible at its low contrast,
   * and it makes runs of equal pixels that halve the PNG's size (46 KB instead of 82 KB at 448 px).
   */
  static final int NOISE_STEP = 3;

  /** A framed glyph: the card, its border and the ink. */
  static final int CARD_RGB = 0xF5F5F5;
  static final int BORDER_RGB = 0x282828;
  static final int FRAMED_INK_RGB = 0x141414;

  /** The star's inner radius over its outer one (a regular pentagram has 0.382; a fatter star reads better when small). */
  static final double STAR_INNER = 0.45;

  /** The unit star: ten vertices, point up, normalized to its own bounding box [0, 1] x [0, 1]. */
  private static final double[] STAR_X = new double[10];
  private static final double[] STAR_Y = new double[10];

  /** A star's height over its width at {@link #STAR_INNER}: its box is this much taller than wide. */
  static final double STAR_ASPECT;

  static {
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY;
    double maxY = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < 10; i++) {
      double radius = i % 2 == 0 ? 1 : STAR_INNER;
      double angle = -StrictMath.PI / 2 + i * StrictMath.PI / 5;
      STAR_X[i] = radius * StrictMath.cos(angle);
      STAR_Y[i] = radius * StrictMath.sin(angle);
      minX = Math.min(minX, STAR_X[i]);
      maxX = Math.max(maxX, STAR_X[i]);
      minY = Math.min(minY, STAR_Y[i]);
      maxY = Math.max(maxY, STAR_Y[i]);
    }
    for (int i = 0; i < 10; i++) {
      STAR_X[i] = (STAR_X[i] - minX) / (maxX - minX);
      STAR_Y[i] = (STAR_Y[i] - minY) / (maxY - minY);
    }
    STAR_ASPECT = (maxY - minY) / (maxX - minX);
  }

  private SceneRenderer() {}

  /** The scene's pixels, {@code 0xRRGGBB}, {@code width * height} of them, row-major. */
  public static int[] render(Scene scene) {
    Canvas c = new Canvas(scene.width(), scene.height());
    clutter(c, scene.clutterSeed());
    for (Shape s : scene.shapes()) {
      shape(c, s);
    }
    for (Glyph g : scene.glyphs()) {
      glyph(c, g);
    }
    return c.px;
  }

  // ---------------------------------------------------------------------------------------------
  // Background

  private static void clutter(Canvas c, long seed) {
    SceneRandom r = new SceneRandom(seed);
    double scale = Math.min(c.width, c.height) / REFERENCE_SIDE;
    int base = r.between(150, 200);
    // smooth value noise: a coarse octave (64 px cells, +-14 levels) and a fine one (16 px, +-5)
    double[] noise = new double[c.width * c.height];
    valueNoise(noise, c.width, c.height, Math.max(8, (int) Math.round(64 * scale)), 14, r);
    valueNoise(noise, c.width, c.height, Math.max(4, (int) Math.round(16 * scale)), 5, r);
    for (int i = 0; i < noise.length; i++) {
      c.px[i] = grey(base + NOISE_STEP * (int) Math.round(noise[i] / NOISE_STEP));
    }
    int blobs = r.between(3, 7);
    for (int b = 0; b < blobs; b++) {
      double cx = r.between(0.0, c.width);
      double cy = r.between(0.0, c.height);
      double rx = r.between(0.03, 0.12) * Math.min(c.width, c.height);
      double ry = r.between(0.03, 0.12) * Math.min(c.width, c.height);
      int tone = grey(base + signedBetween(r, 15, 30));
      double alpha = r.between(0.35, 0.6);
      // a 2 px feathered edge
      c.paint(cx - rx - 2, cy - ry - 2, cx + rx + 2, cy + ry + 2, tone,
          (x, y) -> alpha * clamp01(0.5 - ellipseDistance(x + 0.5 - cx, y + 0.5 - cy, rx, ry) / 2));
    }
    int lines = r.between(6, 12);
    for (int l = 0; l < lines; l++) {
      double x0 = r.between(0.0, c.width);
      double y0 = r.between(0.0, c.height);
      double angle = r.between(0.0, 2 * StrictMath.PI);
      double length = r.between(0.1, 0.5) * Math.min(c.width, c.height);
      double x1 = x0 + length * StrictMath.cos(angle);
      double y1 = y0 + length * StrictMath.sin(angle);
      double halfWidth = Math.max(0.5, r.between(0.5, 1.25) * scale);
      int tone = grey(base + signedBetween(r, 20, 45));
      double alpha = r.between(0.4, 0.7);
      double pad = halfWidth + 1;
      c.paint(Math.min(x0, x1) - pad, Math.min(y0, y1) - pad, Math.max(x0, x1) + pad, Math.max(y0, y1) + pad, tone,
          (x, y) -> alpha * clamp01(halfWidth + 0.5 - segmentDistance(x + 0.5, y + 0.5, x0, y0, x1, y1)));
    }
    int speckles = c.width * c.height / 800;
    for (int s = 0; s < speckles; s++) {
      int i = r.nextInt(c.px.length);
      c.px[i] = grey(base + signedBetween(r, 25, 60));
    }
  }

  /** Adds bilinear value noise with smoothstep weights: random levels in [-amplitude, amplitude] on a lattice of {@code cell} px. */
  private static void valueNoise(double[] out, int width, int height, int cell, double amplitude, SceneRandom r) {
    int gw = width / cell + 2;
    int gh = height / cell + 2;
    double[] lattice = new double[gw * gh];
    for (int i = 0; i < lattice.length; i++) {
      lattice[i] = r.between(-amplitude, amplitude);
    }
    int[] ix = new int[width];
    double[] tx = new double[width];
    for (int x = 0; x < width; x++) {
      double f = (x + 0.5) / cell;
      ix[x] = (int) f;
      tx[x] = smoothstep(f - ix[x]);
    }
    for (int y = 0; y < height; y++) {
      double f = (y + 0.5) / cell;
      int iy = (int) f;
      double ty = smoothstep(f - iy);
      int row0 = iy * gw;
      int row1 = row0 + gw;
      for (int x = 0; x < width; x++) {
        int i = ix[x];
        double top = lattice[row0 + i] + (lattice[row0 + i + 1] - lattice[row0 + i]) * tx[x];
        double bottom = lattice[row1 + i] + (lattice[row1 + i + 1] - lattice[row1 + i]) * tx[x];
        out[y * width + x] += top + (bottom - top) * ty;
      }
    }
  }

  private static double smoothstep(double t) {
    return t * t * (3 - 2 * t);
  }

  /** Uniform in [lo, hi] with a random sign. */
  private static int signedBetween(SceneRandom r, int lo, int hi) {
    int v = r.between(lo, hi);
    return r.nextBoolean() ? v : -v;
  }

  private static int grey(int level) {
    int g = Math.clamp(level, 0, 255);
    return g << 16 | g << 8 | g;
  }

  // ---------------------------------------------------------------------------------------------
  // Shapes and glyphs

  private static void shape(Canvas c, Shape s) {
    BoundingBox b = s.box();
    int rgb = s.colour().rgb();
    switch (s.kind()) {
      case SQUARE -> c.fillRect(b.x1(), b.y1(), b.x2(), b.y2(), rgb);
      case CIRCLE -> {
        double cx = (b.x1() + b.x2()) / 2;
        double cy = (b.y1() + b.y2()) / 2;
        c.paint(b.x1(), b.y1(), b.x2(), b.y2(), rgb,
            (x, y) -> clamp01(0.5 - ellipseDistance(x + 0.5 - cx, y + 0.5 - cy, b.width() / 2, b.height() / 2)));
      }
      case TRIANGLE -> {
        double[] xs = {(b.x1() + b.x2()) / 2, b.x2(), b.x1()};
        double[] ys = {b.y1(), b.y2(), b.y2()};
        c.paint(b.x1(), b.y1(), b.x2(), b.y2(), rgb, (x, y) -> clamp01(0.5 - polygonDistance(x + 0.5, y + 0.5, xs, ys)));
      }
      case STAR -> {
        double[] xs = new double[STAR_X.length];
        double[] ys = new double[STAR_Y.length];
        for (int i = 0; i < xs.length; i++) {
          xs[i] = b.x1() + STAR_X[i] * b.width();
          ys[i] = b.y1() + STAR_Y[i] * b.height();
        }
        c.paint(b.x1(), b.y1(), b.x2(), b.y2(), rgb, (x, y) -> clamp01(0.5 - polygonDistance(x + 0.5, y + 0.5, xs, ys)));
      }
      case CROSS -> {
        // two bars a third of the box wide: coverage(A or B) = cov(A) + cov(B) - cov(A and B), all exact
        double ax1 = b.x1() + b.width() / 3;
        double ax2 = b.x2() - b.width() / 3;
        double by1 = b.y1() + b.height() / 3;
        double by2 = b.y2() - b.height() / 3;
        c.paint(b.x1(), b.y1(), b.x2(), b.y2(), rgb, (x, y) -> overlap(x, y, ax1, b.y1(), ax2, b.y2())
            + overlap(x, y, b.x1(), by1, b.x2(), by2) - overlap(x, y, ax1, by1, ax2, by2));
      }
    }
  }

  private static void glyph(Canvas c, Glyph g) {
    BoundingBox b = g.box();
    int ink;
    if (g.isFramed()) {
      BoundingBox f = g.footprint();
      int t = g.frameStroke();
      c.fillRect(f.x1(), f.y1(), f.x2(), f.y2(), BORDER_RGB);
      c.fillRect(f.x1() + t, f.y1() + t, f.x2() - t, f.y2() - t, CARD_RGB);
      ink = FRAMED_INK_RGB;
    } else {
      ink = g.ink().orElseThrow().rgb();
    }
    // each ink cell adds the exact area it covers of each pixel; cells do not overlap, so the sum is at most 1
    int px1 = (int) Math.floor(b.x1());
    int py1 = (int) Math.floor(b.y1());
    int cols = (int) Math.ceil(b.x2()) - px1;
    int rows = (int) Math.ceil(b.y2()) - py1;
    double[] cover = new double[cols * rows];
    double cw = b.width() / GlyphFont.COLUMNS;
    double ch = b.height() / GlyphFont.ROWS;
    for (int r = 0; r < GlyphFont.ROWS; r++) {
      for (int k = 0; k < GlyphFont.COLUMNS; k++) {
        if (!GlyphFont.ink(g.ch(), r, k)) {
          continue;
        }
        double x1 = b.x1() + k * cw;
        double y1 = b.y1() + r * ch;
        // the last column and row end on the box exactly, whatever (k + 1) * cw rounds to
        double x2 = k + 1 == GlyphFont.COLUMNS ? b.x2() : b.x1() + (k + 1) * cw;
        double y2 = r + 1 == GlyphFont.ROWS ? b.y2() : b.y1() + (r + 1) * ch;
        for (int y = (int) Math.floor(y1); y < Math.ceil(y2); y++) {
          for (int x = (int) Math.floor(x1); x < Math.ceil(x2); x++) {
            cover[(y - py1) * cols + x - px1] += overlap(x, y, x1, y1, x2, y2);
          }
        }
      }
    }
    for (int y = 0; y < rows; y++) {
      for (int x = 0; x < cols; x++) {
        c.blend(px1 + x, py1 + y, ink, cover[y * cols + x]);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Geometry

  /** The area of pixel (x, y)'s unit square inside the rectangle [x1, x2] x [y1, y2]. */
  static double overlap(int x, int y, double x1, double y1, double x2, double y2) {
    double w = Math.min(x + 1, x2) - Math.max(x, x1);
    double h = Math.min(y + 1, y2) - Math.max(y, y1);
    return w > 0 && h > 0 ? w * h : 0;
  }

  /**
   * Signed distance (negative inside) from (dx, dy), relative to the centre, to the ellipse of half-axes
   * rx, ry: exact for a circle, else the radial approximation {@code (|p / r| - 1) * min(rx, ry)}.
   */
  static double ellipseDistance(double dx, double dy, double rx, double ry) {
    if (rx == ry) {
      return Math.sqrt(dx * dx + dy * dy) - rx;
    }
    double u = dx / rx;
    double v = dy / ry;
    return (Math.sqrt(u * u + v * v) - 1) * Math.min(rx, ry);
  }

  /** Signed distance (negative inside, even-odd rule) from (px, py) to the closed polygon (xs, ys). */
  static double polygonDistance(double px, double py, double[] xs, double[] ys) {
    double best = Double.POSITIVE_INFINITY;
    boolean inside = false;
    for (int i = 0, j = xs.length - 1; i < xs.length; j = i++) {
      double ex = xs[i] - xs[j];
      double ey = ys[i] - ys[j];
      double wx = px - xs[j];
      double wy = py - ys[j];
      double t = clamp01((wx * ex + wy * ey) / (ex * ex + ey * ey));
      double dx = wx - ex * t;
      double dy = wy - ey * t;
      best = Math.min(best, dx * dx + dy * dy);
      if ((ys[i] > py) != (ys[j] > py) && px < ex * (py - ys[j]) / ey + xs[j]) {
        inside = !inside;
      }
    }
    double d = Math.sqrt(best);
    return inside ? -d : d;
  }

  /** Distance from (px, py) to the segment (x0, y0)-(x1, y1). */
  static double segmentDistance(double px, double py, double x0, double y0, double x1, double y1) {
    double ex = x1 - x0;
    double ey = y1 - y0;
    double len2 = ex * ex + ey * ey;
    double t = len2 == 0 ? 0 : clamp01(((px - x0) * ex + (py - y0) * ey) / len2);
    double dx = px - x0 - ex * t;
    double dy = py - y0 - ey * t;
    return Math.sqrt(dx * dx + dy * dy);
  }

  static double clamp01(double v) {
    return v < 0 ? 0 : v > 1 ? 1 : v;
  }

  /** Coverage of pixel (x, y) by a figure, in [0, 1]. */
  @FunctionalInterface
  interface Coverage {
    double at(int x, int y);
  }

  /** The pixels being drawn, with blending in integers. */
  static final class Canvas {
    final int width;
    final int height;
    final int[] px;

    Canvas(int width, int height) {
      this.width = width;
      this.height = height;
      this.px = new int[width * height];
    }

    /** Blends {@code rgb} over every pixel that meets [x1, x2] x [y1, y2] by its coverage. */
    void paint(double x1, double y1, double x2, double y2, int rgb, Coverage coverage) {
      int xa = Math.max(0, (int) Math.floor(x1));
      int ya = Math.max(0, (int) Math.floor(y1));
      int xb = Math.min(width, (int) Math.ceil(x2));
      int yb = Math.min(height, (int) Math.ceil(y2));
      for (int y = ya; y < yb; y++) {
        for (int x = xa; x < xb; x++) {
          blend(x, y, rgb, coverage.at(x, y));
        }
      }
    }

    /** Fills the rectangle [x1, x2] x [y1, y2], edge pixels by the area they have inside it. */
    void fillRect(double x1, double y1, double x2, double y2, int rgb) {
      paint(x1, y1, x2, y2, rgb, (x, y) -> overlap(x, y, x1, y1, x2, y2));
    }

    /** {@code out = (bg * (256 - a) + fg * a + 128) >> 8} per channel, {@code a = round(256 * coverage)}. */
    void blend(int x, int y, int rgb, double coverage) {
      if (x < 0 || y < 0 || x >= width || y >= height) {
        return;
      }
      int a = (int) (clamp01(coverage) * 256 + 0.5);
      if (a == 0) {
        return;
      }
      int i = y * width + x;
      if (a == 256) {
        px[i] = rgb;
        return;
      }
      int bg = px[i];
      int r = (((bg >>> 16) & 255) * (256 - a) + ((rgb >>> 16) & 255) * a + 128) >> 8;
      int g = (((bg >>> 8) & 255) * (256 - a) + ((rgb >>> 8) & 255) * a + 128) >> 8;
      int b = ((bg & 255) * (256 - a) + (rgb & 255) * a + 128) >> 8;
      px[i] = r << 16 | g << 8 | b;
    }
  }
}
