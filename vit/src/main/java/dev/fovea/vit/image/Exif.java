package dev.fovea.vit.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Optional EXIF orientation, as HF's {@code load_image} applies with PIL's {@code
 * ImageOps.exif_transpose}. The processors never apply it (neither do HF's): call {@link
 * #transpose(RgbImage, int)} with {@link #orientation(Path)} yourself when a model was fed upright
 * pictures. Only JPEG's APP1 "Exif" segment is read.
 */
public final class Exif {
  private Exif() {}

  /** The EXIF orientation tag (0x0112) of a JPEG file, 1..8; 1 (as stored) when absent or not a JPEG. */
  public static int orientation(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return orientation(in.readNBytes(1 << 20)); // APP1 sits in the first 64 KiB; 1 MiB is plenty
    } catch (IOException e) {
      throw new ImageException(file.toString(), "cannot read: " + e.getMessage(), e);
    }
  }

  static int orientation(byte[] b) {
    if (b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
      return 1;
    }
    int p = 2;
    while (p + 4 <= b.length && (b[p] & 0xFF) == 0xFF) {
      int marker = b[p + 1] & 0xFF;
      int len = ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
      if (marker == 0xDA || len < 2) { // start of scan: no more headers
        return 1;
      }
      int seg = p + 4;
      if (marker == 0xE1 && seg + 14 <= b.length && b[seg] == 'E' && b[seg + 1] == 'x' && b[seg + 2] == 'i'
          && b[seg + 3] == 'f' && b[seg + 4] == 0 && b[seg + 5] == 0) {
        return tiffOrientation(b, seg + 6, Math.min(b.length, p + 2 + len));
      }
      p += 2 + len;
    }
    return 1;
  }

  /** IFD0 of the TIFF structure at {@code t}; entries are 12 bytes: tag, type, count, value. */
  private static int tiffOrientation(byte[] b, int t, int end) {
    boolean le = b[t] == 'I' && b[t + 1] == 'I';
    int ifd = t + u32(b, t + 4, le);
    if (ifd < t || ifd + 2 > end) {
      return 1;
    }
    int n = u16(b, ifd, le);
    for (int i = 0; i < n; i++) {
      int e = ifd + 2 + 12 * i;
      if (e + 12 > end) {
        return 1;
      }
      if (u16(b, e, le) == 0x0112) {
        int v = u16(b, e + 8, le);
        return v >= 1 && v <= 8 ? v : 1;
      }
    }
    return 1;
  }

  private static int u16(byte[] b, int i, boolean le) {
    return le ? (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 : (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
  }

  private static int u32(byte[] b, int i, boolean le) {
    return le ? u16(b, i, true) | u16(b, i + 2, true) << 16 : u16(b, i, false) << 16 | u16(b, i + 2, false);
  }

  /**
   * The image turned upright for an EXIF orientation, as PIL's exif_transpose: 2 FLIP_LEFT_RIGHT, 3
   * ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270 (clockwise), 7 TRANSVERSE, 8 ROTATE_90;
   * 1 returns the image itself.
   */
  public static RgbImage transpose(RgbImage in, int orientation) {
    if (orientation < 1 || orientation > 8) {
      throw new IllegalArgumentException("EXIF orientation must be 1..8, got " + orientation);
    }
    if (orientation == 1) {
      return in;
    }
    int w = in.width();
    int h = in.height();
    boolean swap = orientation >= 5;
    int ow = swap ? h : w;
    int oh = swap ? w : h;
    byte[] src = in.raw();
    byte[] out = new byte[src.length];
    for (int y = 0; y < oh; y++) {
      for (int x = 0; x < ow; x++) {
        // (sx, sy): the input pixel that lands on output (x, y)
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> { sx = w - 1 - x; sy = y; }
          case 3 -> { sx = w - 1 - x; sy = h - 1 - y; }
          case 4 -> { sx = x; sy = h - 1 - y; }
          case 5 -> { sx = y; sy = x; }
          case 6 -> { sx = y; sy = h - 1 - x; }
          case 7 -> { sx = w - 1 - y; sy = h - 1 - x; }
          default -> { sx = w - 1 - y; sy = x; } // 8
        }
        System.arraycopy(src, 3 * (sy * w + sx), out, 3 * (y * ow + x), 3);
      }
    }
    return RgbImage.wrap(ow, oh, out);
  }
}
