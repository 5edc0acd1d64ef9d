package dev.fovea.vit.image;

import dev.fovea.tensor.ErrorList;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DirectColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG, JPEG, BMP and GIF (first frame) with the JDK's ImageIO into an {@link RgbImage}, the way
 * PIL's {@code Image.open(f).convert("RGB")} does (Pillow 9.4, checked by {@code
 * tools/reference/image/make_reference.py}):
 *
 * <ul>
 *   <li>alpha is dropped, never composited (RGBA, LA, tRNS);
 *   <li>palette images are looked up in their palette (its transparency is ignored);
 *   <li>gray ("L", and 1/2/4-bit gray scaled to 0..255) is replicated to R = G = B;
 *   <li>16-bit gray opens in PIL as mode "I", whose convert("RGB") <b>clips</b> to 255 (a value of 300
 *       becomes 255, not 1); 16-bit RGB, RGBA and gray+alpha keep the <b>high byte</b>.
 * </ul>
 *
 * Samples are read from the raster, never through {@code BufferedImage.getRGB}, which would convert a
 * gray (linear) colour space with the sRGB curve. No EXIF orientation is applied (neither does the HF
 * processor; HF's {@code load_image} does, see {@link Exif}).
 *
 * <p>The size is read from the header before any pixel is decoded, and checked against the limits and
 * against what the file's size can encode ({@link #MAX_PIXELS_PER_BYTE}), so a hostile header cannot
 * cause an OutOfMemoryError; a truncated or corrupt file (any ImageIO warning, e.g. "Premature end of JPEG
 * file", which PIL reports as "image file is truncated") is an {@link ImageException}.
 */
public final class ImageDecoder {
  /** Size limits checked against the header before decoding. */
  public record Limits(int maxSide, long maxPixels) {
    /**
     * 100,000 pixels on a side, and PIL's DecompressionBombError threshold of 2 · 89,478,485 pixels
     * (Pillow {@code Image.MAX_IMAGE_PIXELS}), which is about 537 MB of RGB.
     */
    public static final Limits DEFAULT = new Limits(100_000, 2L * 89_478_485L);
  }

  static {
    ImageIO.setUseCache(false); // decode in memory, no temporary files
  }

  /**
   * The most pixels one byte of a file can encode, per format: a header claiming more describes
   * data the file cannot hold (ImageIO would allocate the whole raster, up to the limits' 537 MB,
   * before finding out; bench/fuzz.sh found 2 KB files doing so, and JPEG then decoding for seconds).
   * PNG: deflate expands at most 1032 times and a pixel takes at least one bit, 8 x 1032. JPEG: each
   * 8x8 block costs at least one bit of Huffman code, and the blocks of all components together
   * cover at least 1/128 of the pixels' 8x8 blocks (sampling factors 4x1 and 1x4), so 1024; 2048 is
   * used. GIF: an LZW code of at least 3 bits stands for at most 4096 pixels, under 11000; 16384 is used.
   * BMP has no bound (its RLE skips pixels at no cost): only the limits apply.
   */
  static final java.util.Map<String, Long> MAX_PIXELS_PER_BYTE = java.util.Map.of("PNG", 8L * 1032, "JPEG", 2048L, "GIF", 16384L);

  private ImageDecoder() {}

  /** Reads {@code path} with the default limits. */
  public static RgbImage read(Path path) {
    return read(path, Limits.DEFAULT);
  }

  public static RgbImage read(Path path, Limits limits) {
    String name = path.toString();
    if (!Files.isRegularFile(path)) {
      throw new ImageException(name, Files.exists(path) ? "not a regular file" : "no such file");
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
      if (in == null) {
        throw new ImageException(name, "cannot open the file for reading");
      }
      return decode(in, name, limits, Files.size(path));
    } catch (IOException e) {
      throw new ImageException(name, "cannot read: " + e.getMessage(), e);
    }
  }

  /** Decodes in-memory file contents; {@code label} names the data in error messages. */
  public static RgbImage decode(byte[] bytes, String label) {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      return decode(in, label, Limits.DEFAULT, bytes.length);
    } catch (IOException e) {
      throw new ImageException(label, "cannot read: " + e.getMessage(), e);
    }
  }

  private static RgbImage decode(ImageInputStream in, String name, Limits limits, long fileBytes) {
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    if (!readers.hasNext()) {
      throw new ImageException(name, "not an image this decoder reads (PNG, JPEG, BMP, GIF): no ImageIO reader"
          + " recognises its first bytes");
    }
    ImageReader reader = readers.next();
    String format = formatName(reader);
    try {
      reader.setInput(in, true, true);
      // 1. the size, from the header only
      int w;
      int h;
      try {
        w = reader.getWidth(0);
        h = reader.getHeight(0);
      } catch (IOException | RuntimeException e) {
        throw new ImageException(name, format + " header is unreadable (corrupt or truncated file): " + e.getMessage(), e);
      }
      checkSize(name, format, w, h, limits);
      Long densest = MAX_PIXELS_PER_BYTE.get(format);
      if (densest != null && (long) w * h > densest * fileBytes) {
        throw new ImageException(name, format + " header says " + w + "x" + h + " = " + (long) w * h + " pixels, more than a file of "
            + fileBytes + " bytes can encode (" + format + " holds at most " + densest + " pixels per byte): corrupt or truncated");
      }
      // 2. the pixels; any warning means corrupt or truncated data
      List<String> warnings = new ArrayList<>();
      reader.addIIOReadWarningListener((src, warning) -> warnings.add(warning));
      BufferedImage img;
      try {
        img = reader.read(0, rawColourParam(reader));
      } catch (IOException | RuntimeException e) {
        throw new ImageException(name, format + " data is corrupt or truncated: " + ErrorList.abbreviate(String.valueOf(e.getMessage()), 300), e);
      }
      if (!warnings.isEmpty()) {
        // a damaged file can warn thousands of times (a 600 KB message): the first few and a count
        throw new ImageException(name, format + " data is corrupt or truncated: " + ErrorList.abbreviate(String.join("; ", warnings.subList(0,
            Math.min(3, warnings.size()))), 300) + (warnings.size() > 3 ? "; and " + (warnings.size() - 3) + " more warnings" : ""));
      }
      if (img.getWidth() != w || img.getHeight() != h) {
        throw new ImageException(name, format + " header says " + w + "x" + h + " but the decoded image is "
            + img.getWidth() + "x" + img.getHeight());
      }
      return toRgb(img, name, format);
    } finally {
      reader.dispose();
    }
  }

  /**
   * The JDK's JPEG reader converts pixels from an embedded ICC profile (e.g. Adobe RGB) to sRGB; PIL
   * ignores the profile. Asking for the image type in the profile's own colour space keeps the decoded
   * values as they are.
   */
  private static ImageReadParam rawColourParam(ImageReader reader) throws IOException {
    ImageReadParam param = reader.getDefaultReadParam();
    for (Iterator<ImageTypeSpecifier> it = reader.getImageTypes(0); it.hasNext(); ) {
      ImageTypeSpecifier t = it.next();
      ColorSpace cs = t.getColorModel().getColorSpace();
      if (cs instanceof ICC_ColorSpace && !cs.isCS_sRGB() && cs.getType() == ColorSpace.TYPE_RGB
          && reader.getFormatName().equalsIgnoreCase("jpeg")) {
        param.setDestinationType(t);
        break;
      }
    }
    return param;
  }

  private static String formatName(ImageReader reader) {
    try {
      return reader.getFormatName().toUpperCase(java.util.Locale.ROOT);
    } catch (IOException e) {
      return "image";
    }
  }

  static void checkSize(String name, String format, int w, int h, Limits limits) {
    if (w <= 0 || h <= 0) {
      throw new ImageException(name, format + " header gives an empty image, " + w + "x" + h);
    }
    if (w > limits.maxSide() || h > limits.maxSide()) {
      throw new ImageException(name, format + " image is " + w + "x" + h + ", more than "
          + limits.maxSide() + " pixels on a side");
    }
    if ((long) w * h > limits.maxPixels()) {
      throw new ImageException(name, format + " image is " + w + "x" + h + " = " + (long) w * h
          + " pixels, more than the limit of " + limits.maxPixels() + " (a decompression bomb?)");
    }
  }

  /** PIL's convert("RGB") on the raster's samples; see the class comment for the rules. */
  static RgbImage toRgb(BufferedImage img, String name, String format) {
    int w = img.getWidth();
    int h = img.getHeight();
    ColorModel cm = img.getColorModel();
    Raster r = img.getRaster();
    byte[] out = new byte[Math.multiplyExact(3, Math.multiplyExact(w, h))];
    int bands = r.getNumBands();
    int[] row = new int[w * bands];
    if (cm instanceof IndexColorModel icm) {
      // palette (also 1/2/4-bit gray, which ImageIO gives a gray-ramp palette): look each index up
      int n = icm.getMapSize();
      for (int y = 0; y < h; y++) {
        r.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          int idx = row[x];
          int o = 3 * (y * w + x);
          if (idx >= n) { // PIL's palette has 256 entries, the missing ones black
            continue;
          }
          out[o] = (byte) icm.getRed(idx);
          out[o + 1] = (byte) icm.getGreen(idx);
          out[o + 2] = (byte) icm.getBlue(idx);
        }
      }
    } else if (cm instanceof ComponentColorModel) {
      int colours = cm.getNumColorComponents();
      int csType = cm.getColorSpace().getType();
      int bits = cm.getComponentSize(0);
      boolean gray = colours == 1 && csType == ColorSpace.TYPE_GRAY;
      boolean rgb = colours == 3 && csType == ColorSpace.TYPE_RGB;
      if (!gray && !rgb) {
        throw new ImageException(name, format + " colour space with " + colours + " components (type " + csType
            + ") is not converted to RGB (only gray, RGB and palette images are)");
      }
      int dataType = r.getTransferType();
      if (dataType != DataBuffer.TYPE_BYTE && dataType != DataBuffer.TYPE_USHORT) {
        throw new ImageException(name, format + " samples of data type " + dataType + " are not converted to RGB");
      }
      // 16-bit gray without alpha is PIL mode "I": clip; any other 16-bit layout: the high byte
      boolean clipI = gray && bits == 16 && !cm.hasAlpha();
      int shift = bits > 8 ? bits - 8 : 0;
      int maxIn = (1 << bits) - 1;
      for (int y = 0; y < h; y++) {
        r.getPixels(0, y, w, 1, row);
        for (int x = 0; x < w; x++) {
          int o = 3 * (y * w + x);
          int p = x * bands;
          if (gray) {
            int v = row[p];
            v = clipI ? Math.min(v, 255) : bits < 8 ? v * 255 / maxIn : v >>> shift;
            out[o] = out[o + 1] = out[o + 2] = (byte) v;
          } else {
            out[o] = (byte) (row[p] >>> shift);
            out[o + 1] = (byte) (row[p + 1] >>> shift);
            out[o + 2] = (byte) (row[p + 2] >>> shift);
          }
        }
      }
    } else if (cm instanceof DirectColorModel dcm && dcm.getColorSpace().isCS_sRGB()) {
      // packed pixels (BMP 16/32-bit): the colour model scales each field to 8 bits
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          Object px = r.getDataElements(x, y, null);
          int o = 3 * (y * w + x);
          out[o] = (byte) dcm.getRed(px);
          out[o + 1] = (byte) dcm.getGreen(px);
          out[o + 2] = (byte) dcm.getBlue(px);
        }
      }
    } else {
      throw new ImageException(name, format + " colour model " + cm.getClass().getSimpleName()
          + " is not converted to RGB");
    }
    return RgbImage.wrap(w, h, out);
  }
}
