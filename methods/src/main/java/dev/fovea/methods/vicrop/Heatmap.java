package dev.fovea.methods.vicrop;

import dev.fovea.vit.image.RgbImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import javax.imageio.ImageIO;

/**
 * A picture of what ViCrop looked at: the original image with the importance map blended over it and
 * the chosen box drawn on top, written as a PNG.
 *
 * <ul>
 *   <li>The map is stretched over the whole image (as {@link BoxSelection} spreads it), upsampled
 *       bilinearly with pixel centres aligned (the outermost half cells are flat), normalised so its
 *       minimum is 0 and its maximum 1 (a constant map is all 0).
 *   <li>Colours are the jet colormap (dark blue, blue, cyan, yellow, red, dark red), blended with
 *       {@link #ALPHA} over the image.
 *   <li>The box is a {@link #BOX_THICKNESS}-pixel frame in {@link #BOX_RGB} (magenta, a colour jet
 *       never takes) drawn just inside the box's edges.
 * </ul>
 */
public final class Heatmap {
  /** Names of temporary files; CREATE_NEW refuses a name that exists. */
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The frame colour, 0xRRGGBB: magenta. */
  public static final int BOX_RGB = 0xFF00FF;
  /** Frame thickness in pixels, inside the box. */
  public static final int BOX_THICKNESS = 3;
  /** Weight of the colormap in the blend; the image gets {@code 1 − ALPHA}. */
  public static final double ALPHA = 0.5;

  private Heatmap() {}

  /**
   * The overlay as an RGB image of the original's size.
   *
   * @param box the frame to draw, or null for none; it must lie inside the image
   * @throws ViCropException for a map with NaN or infinite values or a box outside the image
   */
  public static BufferedImage render(RgbImage image, ImportanceMap map, Box box) {
    if (image == null || map == null) {
      throw new ViCropException("a heatmap needs an image and an importance map");
    }
    map.requireFinite("heatmap");
    int w = image.width();
    int h = image.height();
    if (box != null) {
      box.requireInside(w, h);
    }
    float[] m = map.values();
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (float v : m) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    double range = (double) hi - lo;
    int rows = map.rows();
    int cols = map.cols();

    // source coordinates and weights of the bilinear upsampling, per column and per row
    int[] x0 = new int[w];
    int[] x1 = new int[w];
    double[] fx = new double[w];
    axis(cols, w, x0, x1, fx);
    int[] y0 = new int[h];
    int[] y1 = new int[h];
    double[] fy = new double[h];
    axis(rows, h, y0, y1, fy);

    BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] px = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    for (int y = 0; y < h; y++) {
      int ra = y0[y] * cols;
      int rb = y1[y] * cols;
      for (int x = 0; x < w; x++) {
        double top = m[ra + x0[x]] + fx[x] * (m[ra + x1[x]] - m[ra + x0[x]]);
        double bottom = m[rb + x0[x]] + fx[x] * (m[rb + x1[x]] - m[rb + x0[x]]);
        double v = top + fy[y] * (bottom - top);
        double t = range > 0 ? Math.clamp((v - lo) / range, 0.0, 1.0) : 0.0;
        int r = blend(image.get(x, y, 0), jet(t, 3));
        int g = blend(image.get(x, y, 1), jet(t, 2));
        int b = blend(image.get(x, y, 2), jet(t, 1));
        px[y * w + x] = (r << 16) | (g << 8) | b;
      }
    }
    if (box != null) {
      for (int y = box.y1(); y < box.y2(); y++) {
        for (int x = box.x1(); x < box.x2(); x++) {
          boolean edge = x < box.x1() + BOX_THICKNESS || x >= box.x2() - BOX_THICKNESS || y < box.y1() + BOX_THICKNESS
              || y >= box.y2() - BOX_THICKNESS;
          if (edge) {
            px[y * w + x] = BOX_RGB;
          }
        }
      }
    }
    return out;
  }

  /**
   * Renders the overlay and writes it as a PNG at {@code file}, atomically: the picture goes to a
   * temporary file in the same folder, which is then moved over {@code file}. Missing parent
   * folders are created. The file gets the permissions of any new file (0666 less the umask, so
   * 0644 under the usual 022), not the owner-only ones of {@link Files#createTempFile}. On failure
   * no new file remains and an existing {@code file} is left as it was.
   *
   * @throws ViCropException naming the file when it cannot be written, and for the inputs {@link
   *     #render} rejects
   */
  public static void write(Path file, RgbImage image, ImportanceMap map, Box box) {
    BufferedImage picture = render(image, map, box);
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      // Files.createTempFile would make it 0600; a plain new file gets 0666 less the umask
      Path fresh = dir.resolve("." + target.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
      try (OutputStream os = Files.newOutputStream(fresh, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        tmp = fresh;
        if (!ImageIO.write(picture, "png", os)) {
          throw new IOException("no PNG writer in javax.imageio");
        }
      }
      try {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
      tmp = null;
    } catch (IOException | RuntimeException e) {
      throw new ViCropException("cannot write heatmap " + file + ": " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the original failure is the one to report
        }
      }
    }
  }

  /**
   * Bilinear sampling positions for {@code out} pixels over {@code in} cells with aligned pixel
   * centres: source coordinate {@code (i + 0.5) · in / out − 0.5}, clamped to [0, in − 1].
   */
  private static void axis(int in, int out, int[] lo, int[] hi, double[] frac) {
    double scale = (double) in / out;
    for (int i = 0; i < out; i++) {
      double s = Math.clamp((i + 0.5) * scale - 0.5, 0.0, in - 1.0);
      int a = (int) Math.floor(s);
      lo[i] = a;
      hi[i] = Math.min(a + 1, in - 1);
      frac[i] = s - a;
    }
  }

  /** One channel of jet at t in [0, 1]: {@code clamp(1.5 − |4t − c|, 0, 1)} with c = 3 (red), 2 (green), 1 (blue). */
  private static double jet(double t, int c) {
    return Math.clamp(1.5 - Math.abs(4 * t - c), 0.0, 1.0);
  }

  private static int blend(int image, double colour) {
    return (int) Math.round((1 - ALPHA) * image + ALPHA * 255 * colour);
  }
}
