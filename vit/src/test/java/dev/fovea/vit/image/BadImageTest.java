package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken, hostile and non-image inputs: each an ImageException naming the file and the problem, never an OOM. */
class BadImageTest {
  @TempDir Path dir;

  private static ImageException fails(Path file, String expectedProblem) {
    ImageException e = assertThrows(ImageException.class, () -> ImageDecoder.read(file));
    assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
    assertTrue(e.getMessage().contains(expectedProblem), "message says '" + expectedProblem + "': " + e.getMessage());
    assertEquals(file.toString(), e.source());
    return e;
  }

  @Test
  void truncatedJpegFromTheSharedFolder() {
    Path f = Reference.sharedImages().resolve("truncated.jpg");
    fails(f, "corrupt or truncated");
  }

  @Test
  void truncatedPng() throws IOException {
    byte[] whole = Files.readAllBytes(Reference.ROOT.resolve("fixtures/rgb_97x61.png"));
    Path f = dir.resolve("cut.png");
    Files.write(f, Arrays.copyOf(whole, whole.length / 2));
    fails(f, "corrupt or truncated");
  }

  @Test
  void truncatedJpegFixture() throws IOException {
    byte[] whole = Files.readAllBytes(Reference.ROOT.resolve("fixtures/smooth_80x60.jpg"));
    Path f = dir.resolve("cut.jpg");
    Files.write(f, Arrays.copyOf(whole, whole.length * 2 / 3));
    fails(f, "corrupt or truncated");
  }

  @Test
  void zeroWidthPngHeader() throws IOException {
    Path f = dir.resolve("zero.png");
    Files.write(f, pngHeaderOnly(0, 10));
    fails(f, "PNG");
  }

  @Test
  void pngWiderThan100000() throws IOException {
    Path f = dir.resolve("wide.png");
    Files.write(f, pngHeaderOnly(100_001, 1));
    fails(f, "100001x1, more than 100000 pixels on a side");
  }

  @Test
  void bmpHeaderTallerThan100000() throws IOException {
    // a 54-byte BMP header claiming 3 x 100,001 pixels and no data
    Path f = dir.resolve("tall.bmp");
    Files.write(f, bmpHeaderOnly(3, 100_001));
    fails(f, "3x100001, more than 100000 pixels on a side");
  }

  @Test
  void bmpHeaderOf100001Squared() throws IOException {
    // 30 GB of pixels claimed: the JDK's BMP reader itself refuses the header, still an ImageException
    Path f = dir.resolve("huge.bmp");
    Files.write(f, bmpHeaderOnly(100_001, 100_001));
    fails(f, "BMP header is unreadable");
  }

  @Test
  void bmpDecompressionBomb() throws IOException {
    // within the side limit but 2 * 10^8 pixels (600 MB): refused by the pixel limit, before any allocation
    Path f = dir.resolve("bomb.bmp");
    Files.write(f, bmpHeaderOnly(20_000, 10_000));
    fails(f, "decompression bomb");
  }

  @Test
  void pngDecompressionBomb() throws IOException {
    Path f = dir.resolve("bomb.png");
    Files.write(f, pngHeaderOnly(100_000, 100_000));
    fails(f, "100000x100000 = 10000000000 pixels");
  }

  @Test
  void zeroHeightBmp() throws IOException {
    Path f = dir.resolve("flat.bmp");
    Files.write(f, bmpHeaderOnly(10, 0));
    fails(f, "BMP");
  }

  @Test
  void textFile() throws IOException {
    Path f = dir.resolve("notes.png");
    Files.writeString(f, "this is not an image, whatever its name says\n");
    fails(f, "not an image");
  }

  @Test
  void emptyFile() throws IOException {
    Path f = dir.resolve("empty.jpg");
    Files.write(f, new byte[0]);
    fails(f, "not an image");
  }

  @Test
  void missingFileAndDirectory() {
    fails(dir.resolve("absent.png"), "no such file");
    fails(dir, "not a regular file");
  }

  @Test
  void inMemoryDataIsNamedByItsLabel() {
    ImageException e = assertThrows(ImageException.class,
        () -> ImageDecoder.decode("GIF89a but no more".getBytes(StandardCharsets.US_ASCII), "upload #7"));
    assertTrue(e.getMessage().startsWith("upload #7: "), e.getMessage());
  }

  /** PNG signature and a valid IHDR (8-bit RGB) with nothing after it. */
  static byte[] pngHeaderOnly(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    ByteBuffer ihdr = ByteBuffer.allocate(17); // big-endian, as PNG
    ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height)
        .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    CRC32 crc = new CRC32();
    crc.update(ihdr.array());
    out.writeBytes(ByteBuffer.allocate(4).putInt(13).array());
    out.writeBytes(ihdr.array());
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    return out.toByteArray();
  }

  /** BITMAPFILEHEADER + BITMAPINFOHEADER for 24-bit BI_RGB, no pixel data. */
  static byte[] bmpHeaderOnly(int width, int height) {
    ByteBuffer b = ByteBuffer.allocate(54).order(ByteOrder.LITTLE_ENDIAN);
    long rowBytes = ((3L * width + 3) / 4) * 4;
    b.put((byte) 'B').put((byte) 'M').putInt((int) Math.min(Integer.MAX_VALUE, 54 + rowBytes * height)).putInt(0).putInt(54);
    b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 24).putInt(0)
        .putInt((int) Math.min(Integer.MAX_VALUE, rowBytes * height)).putInt(2835).putInt(2835).putInt(0).putInt(0);
    return b.array();
  }
}
