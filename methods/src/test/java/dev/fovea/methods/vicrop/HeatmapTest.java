package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.vit.image.RgbImage;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Heatmap}: the written PNG, its frame, and atomic failure. */
class HeatmapTest {
  @TempDir Path dir;

  static ImportanceMap gradient(int rows, int cols) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = i % cols; // rises left to right
    }
    return new ImportanceMap(rows, cols, v);
  }

  @Test
  void writesAPngWithTheFrameAndTheColours() throws IOException {
    RgbImage img = RgbImage.filled(120, 90, 128, 128, 128);
    Box box = new Box(20, 10, 80, 70);
    Path file = dir.resolve("heat.png");
    Heatmap.write(file, img, gradient(24, 24), box);
    BufferedImage back = ImageIO.read(file.toFile());
    assertEquals(120, back.getWidth());
    assertEquals(90, back.getHeight());
    for (int t = 0; t < Heatmap.BOX_THICKNESS; t++) {
      for (int x = box.x1(); x < box.x2(); x++) {
        assertEquals(Heatmap.BOX_RGB, back.getRGB(x, box.y1() + t) & 0xFFFFFF, "top edge at x " + x);
        assertEquals(Heatmap.BOX_RGB, back.getRGB(x, box.y2() - 1 - t) & 0xFFFFFF, "bottom edge at x " + x);
      }
      for (int y = box.y1(); y < box.y2(); y++) {
        assertEquals(Heatmap.BOX_RGB, back.getRGB(box.x1() + t, y) & 0xFFFFFF, "left edge at y " + y);
        assertEquals(Heatmap.BOX_RGB, back.getRGB(box.x2() - 1 - t, y) & 0xFFFFFF, "right edge at y " + y);
      }
    }
    // inside and outside the frame: the blend, not the frame colour
    assertNotEquals(Heatmap.BOX_RGB, back.getRGB(box.x1() + Heatmap.BOX_THICKNESS, 40) & 0xFFFFFF);
    assertNotEquals(Heatmap.BOX_RGB, back.getRGB(box.x1() - 1, 40) & 0xFFFFFF);
    // low values on the left are blue-ish, high on the right red-ish (jet over grey, alpha 0.5)
    int left = back.getRGB(0, 45);
    int right = back.getRGB(119, 45);
    assertTrue((left & 0xFF) > ((left >> 16) & 0xFF), Integer.toHexString(left));
    assertTrue(((right >> 16) & 0xFF) > (right & 0xFF), Integer.toHexString(right));
    assertEquals(0xFF, back.getRGB(0, 0) >>> 24); // opaque
    assertEquals(List.of(file), listing());
  }

  @Test
  void renderWithoutABoxAndWithAConstantMap() {
    float[] v = new float[16];
    java.util.Arrays.fill(v, 3f);
    BufferedImage b = Heatmap.render(RgbImage.filled(10, 10, 0, 0, 0), new ImportanceMap(4, 4, v), null);
    // constant map: t = 0 everywhere, jet(0) = (0, 0, 0.5): blue 64 over black
    assertEquals(0x000040, b.getRGB(5, 5) & 0xFFFFFF);
  }

  @Test
  void anUnwritablePathFailsNamingTheFileAndLeavesNothing() throws IOException {
    Path notADir = Files.writeString(dir.resolve("plain.txt"), "x");
    Path file = notADir.resolve("heat.png");
    ViCropException e = assertThrows(ViCropException.class,
        () -> Heatmap.write(file, RgbImage.filled(8, 8, 1, 2, 3), gradient(2, 2), new Box(0, 0, 8, 8)));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertEquals(List.of(notADir), listing());
  }

  @Test
  void missingFoldersAreCreatedAndTheFileIsReadableLikeAnyNewFile() throws IOException {
    Path file = dir.resolve("no/such/folder/heat.png");
    Heatmap.write(file, RgbImage.filled(8, 8, 1, 2, 3), gradient(2, 2), null);
    assertEquals(8, ImageIO.read(file.toFile()).getWidth());
    assertEquals(List.of(file), listing(file.getParent()), "no temporary file left");
    // the permissions of a new file under this process's umask (rw-r--r-- under 022), not rw-------
    Path plain = Files.createFile(dir.resolve("plain"));
    assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)),
        PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    Heatmap.write(file, RgbImage.filled(8, 8, 1, 2, 3), gradient(2, 2), null);
    assertEquals(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)),
        PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), "replacing it too");
  }

  @Test
  void aFailedRenderLeavesAnExistingFileAlone() throws IOException {
    Path file = dir.resolve("heat.png");
    Files.write(file, new byte[] {1, 2, 3});
    float[] v = new float[4];
    v[2] = Float.NaN;
    ViCropException e = assertThrows(ViCropException.class,
        () -> Heatmap.write(file, RgbImage.filled(8, 8, 1, 2, 3), new ImportanceMap(2, 2, v), null));
    assertTrue(e.getMessage().contains("(row 1, col 0)"), e.getMessage());
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
    e = assertThrows(ViCropException.class,
        () -> Heatmap.write(file, RgbImage.filled(8, 8, 1, 2, 3), gradient(2, 2), new Box(4, 4, 9, 8)));
    assertTrue(e.getMessage().contains("lies outside the 8 x 8 image"), e.getMessage());
    assertEquals(List.of(file), listing());
  }

  private List<Path> listing() throws IOException {
    return listing(dir);
  }

  private static List<Path> listing(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.sorted().toList();
    }
  }
}
