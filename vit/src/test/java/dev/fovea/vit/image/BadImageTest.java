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

  /** Bytes the current thread allocates while {@code run} runs. */
  static long allocated(Runnable run) {
    var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    run.run();
    return mx.getCurrentThreadAllocatedBytes() - before;
  }

  /**
   * Found by bench/fuzz.sh: a header within the limits but claiming more pixels than the file can
   * encode made ImageIO allocate the whole raster before reading the data (432 MB for this 1.7 KB
   * PNG; a 2 KB JPEG then decoded gray for seconds).
   */
  @Test
  void aHeaderClaimingMorePixelsThanTheFileCanHoldIsRefusedBeforeAllocating() throws IOException {
    // a real PNG whose IHDR (CRC made right) says 12000 x 12000: 144 M pixels, under the limit of 179 M
    byte[] png = Files.readAllBytes(Reference.ROOT.resolve("fixtures/rgb_33x17.png"));
    ByteBuffer.wrap(png).putInt(16, 12_000).putInt(20, 12_000);
    CRC32 crc = new CRC32();
    crc.update(png, 12, 17);
    ByteBuffer.wrap(png).putInt(29, (int) crc.getValue());
    Path big = dir.resolve("big.png");
    Files.write(big, png);
    long bytes = allocated(() -> fails(big, "12000x12000 = 144000000 pixels, more than a file of " + png.length + " bytes can encode"));
    assertTrue(bytes < 10 << 20, bytes + " bytes allocated");

    byte[] jpeg = Files.readAllBytes(Reference.ROOT.resolve("fixtures/smooth_80x60.jpg"));
    int sof = indexOfSof(jpeg);
    ByteBuffer.wrap(jpeg).putShort(sof + 5, (short) 13_000).putShort(sof + 7, (short) 13_000); // height, width
    Path bigJpeg = dir.resolve("big.jpg");
    Files.write(bigJpeg, jpeg);
    bytes = allocated(() -> fails(bigJpeg, "13000x13000 = 169000000 pixels, more than a file of " + jpeg.length + " bytes can encode"));
    assertTrue(bytes < 10 << 20, bytes + " bytes allocated");
  }

  /**
   * Found by bench/fuzz.sh: an APP2 marker (FF E2) written into the scan data makes the decoder warn
   * "Missing EOI marker" thousands of times; joined, the message was 280 KB. It keeps the first
   * warnings and a count.
   */
  @Test
  void thousandsOfDecoderWarningsMakeAShortMessage() throws IOException {
    byte[] jpeg = Files.readAllBytes(Reference.ROOT.resolve("fixtures/smooth_80x60.jpg"));
    jpeg[2009] = (byte) 0xFF; // 86 bytes before the end, inside the scan
    jpeg[2010] = (byte) 0xE2;
    Path tall = dir.resolve("marker.jpg");
    Files.write(tall, jpeg);
    ImageException e = fails(tall, "JPEG data is corrupt or truncated: ");
    assertTrue(e.getMessage().length() < 1000 && e.getMessage().endsWith(" more warnings"), e.getMessage().length() + " chars: "
        + e.getMessage().substring(0, Math.min(2000, e.getMessage().length())));
  }

  /** The offset of the first SOF0/SOF2 marker (FF C0 or FF C2) of a JPEG. */
  static int indexOfSof(byte[] b) {
    for (int i = 2; i + 1 < b.length; i++) {
      if ((b[i] & 0xFF) == 0xFF && ((b[i + 1] & 0xFF) == 0xC0 || (b[i + 1] & 0xFF) == 0xC2)) {
        return i;
      }
    }
    throw new AssertionError("no SOF marker");
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
