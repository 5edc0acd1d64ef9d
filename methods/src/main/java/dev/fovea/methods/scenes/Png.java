package dev.fovea.methods.scenes;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.Adler32;
import java.util.zip.CRC32;

/**
 * Encodes 8-bit RGB pictures as PNG (ISO/IEC 15948) with nothing from the platform but the CRC-32
 * and Adler-32 checksums, which are fixed functions: the filters and the compression ({@link Deflate})
 * are ours, so the same pixels give the same bytes on every machine (ImageIO's writer hands its
 * compression to the platform's zlib). One {@code IHDR}, one {@code IDAT}, one {@code IEND}; no
 * gamma, colour or time chunk.
 *
 * <p>Each row takes the filter (None, Sub, Up, Average, Paeth) whose residuals have the smallest sum of
 * absolute values as signed bytes, libpng's heuristic; the lowest filter type wins a tie.
 */
public final class Png {
  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  private static final int BYTES_PER_PIXEL = 3;

  private Png() {}

  /**
   * The PNG of a {@code width x height} picture of {@code 0xRRGGBB} pixels, row-major (the high byte of
   * each int is ignored).
   */
  public static byte[] encodeRgb(int width, int height, int[] rgb) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("picture size " + width + " x " + height + " must be positive");
    }
    if (rgb.length != (long) width * height) {
      throw new IllegalArgumentException(rgb.length + " pixels for a " + width + " x " + height + " picture");
    }
    int rowBytes = width * BYTES_PER_PIXEL;
    int stride = rowBytes + 1;
    if ((long) stride * height > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a " + width + " x " + height + " picture is too large for one buffer");
    }
    byte[] filtered = new byte[stride * height];
    byte[] prev = new byte[rowBytes];
    byte[] cur = new byte[rowBytes];
    for (int y = 0; y < height; y++) {
      for (int x = 0, i = y * width; x < width; x++, i++) {
        cur[3 * x] = (byte) (rgb[i] >>> 16);
        cur[3 * x + 1] = (byte) (rgb[i] >>> 8);
        cur[3 * x + 2] = (byte) rgb[i];
      }
      int type = bestFilter(cur, prev);
      filtered[y * stride] = (byte) type;
      filter(type, cur, prev, filtered, y * stride + 1);
      byte[] t = prev;
      prev = cur;
      cur = t;
    }
    byte[] deflated = Deflate.compress(filtered, new int[] {1, BYTES_PER_PIXEL, stride});
    Adler32 adler = new Adler32();
    adler.update(filtered);

    ByteArrayOutputStream idat = new ByteArrayOutputStream(deflated.length + 6);
    idat.write(0x78); // zlib CMF: deflate, 32 KiB window
    idat.write(0x01); // FLG: no dictionary, FLEVEL 0; (0x78 << 8 | 0x01) % 31 == 0
    idat.writeBytes(deflated);
    writeInt(idat, (int) adler.getValue());

    ByteArrayOutputStream ihdr = new ByteArrayOutputStream(13);
    writeInt(ihdr, width);
    writeInt(ihdr, height);
    ihdr.write(8); // bit depth
    ihdr.write(2); // colour type: RGB
    ihdr.write(0); // compression: deflate
    ihdr.write(0); // filter method: adaptive
    ihdr.write(0); // no interlace

    ByteArrayOutputStream png = new ByteArrayOutputStream(idat.size() + 64);
    png.writeBytes(SIGNATURE);
    chunk(png, "IHDR", ihdr.toByteArray());
    chunk(png, "IDAT", idat.toByteArray());
    chunk(png, "IEND", new byte[0]);
    return png.toByteArray();
  }

  /** The filter type whose residuals of {@code cur} (above it {@code prev}) have the smallest sum of |signed byte|. */
  private static int bestFilter(byte[] cur, byte[] prev) {
    long none = 0;
    long sub = 0;
    long up = 0;
    long average = 0;
    long paeth = 0;
    for (int i = 0; i < cur.length; i++) {
      int x = cur[i] & 255;
      int a = i >= BYTES_PER_PIXEL ? cur[i - BYTES_PER_PIXEL] & 255 : 0;
      int b = prev[i] & 255;
      int c = i >= BYTES_PER_PIXEL ? prev[i - BYTES_PER_PIXEL] & 255 : 0;
      none += Math.abs((byte) x);
      sub += Math.abs((byte) (x - a));
      up += Math.abs((byte) (x - b));
      average += Math.abs((byte) (x - ((a + b) >>> 1)));
      paeth += Math.abs((byte) (x - paeth(a, b, c)));
    }
    long[] cost = {none, sub, up, average, paeth};
    int best = 0;
    for (int f = 1; f < cost.length; f++) {
      if (cost[f] < cost[best]) {
        best = f;
      }
    }
    return best;
  }

  /** Writes {@code cur} filtered by {@code type} into {@code out} from {@code at}. */
  private static void filter(int type, byte[] cur, byte[] prev, byte[] out, int at) {
    for (int i = 0; i < cur.length; i++) {
      int x = cur[i] & 255;
      int a = i >= BYTES_PER_PIXEL ? cur[i - BYTES_PER_PIXEL] & 255 : 0;
      int b = prev[i] & 255;
      int c = i >= BYTES_PER_PIXEL ? prev[i - BYTES_PER_PIXEL] & 255 : 0;
      int predicted = switch (type) {
        case 0 -> 0;
        case 1 -> a;
        case 2 -> b;
        case 3 -> (a + b) >>> 1;
        default -> paeth(a, b, c);
      };
      out[at + i] = (byte) (x - predicted);
    }
  }

  /** The PNG specification's Paeth predictor. */
  private static int paeth(int a, int b, int c) {
    int p = a + b - c;
    int pa = Math.abs(p - a);
    int pb = Math.abs(p - b);
    int pc = Math.abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    writeInt(out, data.length);
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    writeInt(out, (int) crc.getValue());
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }
}
