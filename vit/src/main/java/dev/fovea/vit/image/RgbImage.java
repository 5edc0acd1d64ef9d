package dev.fovea.vit.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.Arrays;

/**
 * An 8-bit RGB image, row-major and interleaved: the bytes of pixel (x, y) are at {@code 3 * (y * width
 * + x)} + 0 (R), 1 (G), 2 (B). This is PIL's mode "RGB" and numpy's {@code uint8 [H, W, 3]}.
 *
 * <p>Immutable: every operation returns a new image, and {@link #toByteArray()} copies.
 */
public final class RgbImage {
  private final int width;
  private final int height;
  private final byte[] rgb; // [H, W, 3]

  private RgbImage(int width, int height, byte[] rgb, boolean unused) {
    this.width = width;
    this.height = height;
    this.rgb = rgb;
  }

  /** An image over a copy of {@code rgb} ({@code 3 * width * height} bytes, HWC). */
  public static RgbImage of(int width, int height, byte[] rgb) {
    checkSize(width, height);
    if (rgb.length != 3L * width * height) {
      throw new IllegalArgumentException(
          "RgbImage " + width + "x" + height + " needs " + 3L * width * height + " bytes, got " + rgb.length);
    }
    return new RgbImage(width, height, rgb.clone(), false);
  }

  /** Takes ownership of {@code rgb} (no copy); for this package's producers only. */
  static RgbImage wrap(int width, int height, byte[] rgb) {
    return new RgbImage(width, height, rgb, false);
  }

  /** A {@code width x height} image of one colour (PIL {@code Image.new("RGB", size, (r, g, b))}). */
  public static RgbImage filled(int width, int height, int r, int g, int b) {
    checkSize(width, height);
    byte[] d = new byte[Math.multiplyExact(3, Math.multiplyExact(width, height))];
    for (int i = 0; i < d.length; i += 3) {
      d[i] = (byte) r;
      d[i + 1] = (byte) g;
      d[i + 2] = (byte) b;
    }
    return new RgbImage(width, height, d, false);
  }

  private static void checkSize(int width, int height) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("RgbImage size must be positive, got " + width + "x" + height);
    }
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** Channel {@code c} (0 = R, 1 = G, 2 = B) of pixel (x, y), 0..255. */
  public int get(int x, int y, int c) {
    if (x < 0 || x >= width || y < 0 || y >= height || c < 0 || c > 2) {
      throw new IndexOutOfBoundsException("pixel (" + x + ", " + y + ") channel " + c + " outside " + width + "x" + height);
    }
    return rgb[3 * (y * width + x) + c] & 0xFF;
  }

  /** A copy of the pixels, HWC. */
  public byte[] toByteArray() {
    return rgb.clone();
  }

  /** The pixels without a copy; callers in this package must not write to them. */
  byte[] raw() {
    return rgb;
  }

  /**
   * The box [x0, x1) x [y0, y1), like PIL's {@code Image.crop((x0, y0, x1, y1))}: the box may reach
   * outside the image, and what lies outside is black (0, 0, 0).
   */
  public RgbImage crop(int x0, int y0, int x1, int y1) {
    if (x1 <= x0 || y1 <= y0) {
      throw new IllegalArgumentException("crop box (" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + ") is empty");
    }
    int w = x1 - x0;
    int h = y1 - y0;
    byte[] out = new byte[Math.multiplyExact(3, Math.multiplyExact(w, h))];
    int sx0 = Math.max(x0, 0);
    int sx1 = Math.min(x1, width);
    for (int y = Math.max(y0, 0); y < Math.min(y1, height); y++) {
      if (sx1 > sx0) {
        System.arraycopy(rgb, 3 * (y * width + sx0), out, 3 * ((y - y0) * w + (sx0 - x0)), 3 * (sx1 - sx0));
      }
    }
    return new RgbImage(w, h, out, false);
  }

  /**
   * This image pasted onto a {@code width x height} canvas of colour (r, g, b) with its top-left corner
   * at (x, y); parts outside the canvas are cut off (PIL {@code Image.new(...).paste(im, (x, y))}).
   */
  public RgbImage pasteOnto(int canvasWidth, int canvasHeight, int r, int g, int b, int x, int y) {
    RgbImage canvas = filled(canvasWidth, canvasHeight, r, g, b);
    byte[] out = canvas.rgb;
    int sx0 = Math.max(0, -x);
    int sx1 = Math.min(width, canvasWidth - x);
    for (int sy = Math.max(0, -y); sy < Math.min(height, canvasHeight - y); sy++) {
      if (sx1 > sx0) {
        System.arraycopy(rgb, 3 * (sy * width + sx0), out, 3 * ((sy + y) * canvasWidth + sx0 + x), 3 * (sx1 - sx0));
      }
    }
    return canvas;
  }

  /**
   * LLaVA-1.5's {@code expand2square} (haotian-liu/LLaVA {@code llava/mm_utils.py}): a square of side
   * max(W, H) in colour (r, g, b) with this image pasted at offset (max − min) // 2 along the short
   * side. A square image is returned as it is.
   */
  public RgbImage expandToSquare(int r, int g, int b) {
    if (width == height) {
      return this;
    }
    int side = Math.max(width, height);
    return width > height
        ? pasteOnto(side, side, r, g, b, 0, (width - height) / 2)
        : pasteOnto(side, side, r, g, b, (height - width) / 2, 0);
  }

  /** A TYPE_3BYTE_BGR copy, e.g. to write a PNG with {@code ImageIO.write(img, "png", file)}. */
  public BufferedImage toBufferedImage() {
    BufferedImage bi = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < rgb.length; i += 3) {
      bgr[i] = rgb[i + 2];
      bgr[i + 1] = rgb[i + 1];
      bgr[i + 2] = rgb[i];
    }
    return bi;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RgbImage other && other.width == width && other.height == height && Arrays.equals(other.rgb, rgb);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * width + height) + Arrays.hashCode(rgb);
  }

  @Override
  public String toString() {
    return "RgbImage[" + width + "x" + height + "]";
  }
}
