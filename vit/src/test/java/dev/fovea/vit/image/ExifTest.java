package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ExifTest {
  @Test
  void readsTheOrientationTag() {
    assertEquals(6, Exif.orientation(Reference.ROOT.resolve("fixtures/exif6_24x16.jpg")));
    assertEquals(1, Exif.orientation(Reference.ROOT.resolve("fixtures/smooth_80x60.jpg")), "no Exif");
    assertEquals(1, Exif.orientation(Reference.ROOT.resolve("fixtures/rgb_33x17.png")), "not a JPEG");
    // Confusing-Pictures.jpg carries Exif but no orientation tag
    assertEquals(1, Exif.orientation(Reference.sharedImages().resolve("Confusing-Pictures.jpg")));
  }

  /** Pixel order after PIL's Image.transpose for each orientation, on a 3x2 image numbered 0..5 row by row. */
  @Test
  void transposeMatchesPil() {
    int[][] expected = { // orientation -> {width, height, pixel numbers row by row}, from Pillow 9.4
      {3, 2, 0, 1, 2, 3, 4, 5}, {3, 2, 2, 1, 0, 5, 4, 3}, {3, 2, 5, 4, 3, 2, 1, 0}, {3, 2, 3, 4, 5, 0, 1, 2},
      {2, 3, 0, 3, 1, 4, 2, 5}, {2, 3, 3, 0, 4, 1, 5, 2}, {2, 3, 5, 2, 4, 1, 3, 0}, {2, 3, 2, 5, 1, 4, 0, 3}};
    byte[] px = new byte[18];
    for (int i = 0; i < 6; i++) {
      px[3 * i] = (byte) i;
    }
    RgbImage in = RgbImage.of(3, 2, px);
    for (int o = 1; o <= 8; o++) {
      RgbImage out = Exif.transpose(in, o);
      int[] e = expected[o - 1];
      assertEquals(e[0], out.width(), "orientation " + o + " width");
      assertEquals(e[1], out.height(), "orientation " + o + " height");
      for (int i = 0; i < 6; i++) {
        assertEquals(e[2 + i], out.get(i % out.width(), i / out.width(), 0), "orientation " + o + " pixel " + i);
      }
    }
  }
}
