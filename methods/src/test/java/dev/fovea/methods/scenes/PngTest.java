package dev.fovea.methods.scenes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** Our PNG encoder and deflate, checked by the JDK's decoders (ImageIO, Inflater), which we do not use to write. */
class PngTest {
  /** The pixels ImageIO decodes from {@code png}. */
  private static int[] decode(byte[] png, int width, int height) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(width, img.getWidth());
    assertEquals(height, img.getHeight());
    int[] px = new int[width * height];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        px[y * width + x] = img.getRGB(x, y) & 0xFFFFFF;
      }
    }
    return px;
  }

  private static void roundTrip(String what, int width, int height, int[] rgb) throws Exception {
    int[] masked = Arrays.stream(rgb).map(v -> v & 0xFFFFFF).toArray();
    assertArrayEquals(masked, decode(Png.encodeRgb(width, height, rgb), width, height), what);
  }

  @Test
  void picturesOfEveryKindDecodeToTheirPixels() throws Exception {
    Random r = new Random(5);
    // noise: no filter helps, literals everywhere
    roundTrip("noise", 37, 23, r.ints(37 * 23).toArray());
    // flat: one long run (matches of 258 and shorter tails)
    int[] flat = new int[301 * 17];
    Arrays.fill(flat, 0x123456);
    roundTrip("flat", 301, 17, flat);
    // gradients: Sub, Up, Average and Paeth residuals
    int[] grad = new int[64 * 48];
    for (int y = 0; y < 48; y++) {
      for (int x = 0; x < 64; x++) {
        grad[y * 64 + x] = (x * 4) << 16 | (y * 5) << 8 | (x + y) * 2;
      }
    }
    roundTrip("gradient", 64, 48, grad);
    // repeated rows (previous-row matches) with noise in the high byte, which must be ignored
    int[] rows = new int[50 * 9];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (i % 50) * 0x030507 | r.nextInt(256) << 24;
    }
    roundTrip("repeated rows", 50, 9, rows);
    roundTrip("one pixel", 1, 1, new int[] {0xABCDEF});
    roundTrip("one column", 1, 40, r.ints(40).toArray());
  }

  @Test
  void theStreamIsValidZlibWithTheFilteredRows() throws Exception {
    // 2 x 2: red, green / blue, white. Rows are filter byte + RGB RGB; the inflated IDAT has 2 * 7 bytes
    byte[] png = Png.encodeRgb(2, 2, new int[] {0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF});
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, Arrays.copyOf(png, 8));
    int idat = indexOf(png, "IDAT");
    int length = (png[idat - 4] & 255) << 24 | (png[idat - 3] & 255) << 16 | (png[idat - 2] & 255) << 8 | png[idat - 1] & 255;
    Inflater inf = new Inflater();
    inf.setInput(Arrays.copyOfRange(png, idat + 4, idat + 4 + length));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[64];
    while (!inf.finished()) {
      int n = inf.inflate(buf);
      assertTrue(n > 0 || inf.finished(), "inflater stuck: needs input " + inf.needsInput());
      out.write(buf, 0, n);
    }
    byte[] rows = out.toByteArray();
    assertEquals(14, rows.length);
    assertTrue(rows[0] >= 0 && rows[0] <= 4 && rows[7] >= 0 && rows[7] <= 4, "filter types");
  }

  @Test
  void codeLengthsStayWithinTheLimitAndFormACompleteCode() {
    // Fibonacci frequencies make Huffman's code as deep as there are symbols (29 here): the limit must cut it to 15
    int[] freq = new int[30];
    freq[0] = 1;
    freq[1] = 1;
    for (int i = 2; i < freq.length; i++) {
      freq[i] = freq[i - 1] + freq[i - 2];
    }
    int[] len = Deflate.codeLengths(freq, 15);
    assertTrue(Arrays.stream(len).max().getAsInt() <= 15, Arrays.toString(len));
    assertEquals(1.0, Arrays.stream(len).mapToDouble(l -> Math.pow(2, -l)).sum(), 0, "Kraft sum of a complete code");
    // a single used symbol still gets a two-symbol code (inflate refuses an incomplete code-length code)
    int[] one = new int[19];
    one[7] = 40;
    int[] lengths = Deflate.codeLengths(one, 7);
    assertEquals(1, lengths[7]);
    assertEquals(2, Arrays.stream(lengths).filter(l -> l > 0).count());
  }

  @Test
  void badPicturesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Png.encodeRgb(0, 3, new int[0]));
    assertThrows(IllegalArgumentException.class, () -> Png.encodeRgb(2, 2, new int[3]));
  }

  private static int indexOf(byte[] data, String ascii) {
    outer:
    for (int i = 0; i + ascii.length() <= data.length; i++) {
      for (int k = 0; k < ascii.length(); k++) {
        if (data[i + k] != ascii.charAt(k)) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError(ascii + " not found");
  }
}
