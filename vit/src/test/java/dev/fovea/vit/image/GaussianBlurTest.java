package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** GaussianBlur against closed forms (the scipy-reproducing reference values are in BlipMapStagesTest). */
class GaussianBlurTest {
  @Test
  void kernelOfAglaSigma() {
    double sigma = 0.02 * 384; // 7.68
    assertEquals(31, GaussianBlur.radius(sigma));
    double[] k = GaussianBlur.kernel(sigma);
    assertEquals(63, k.length);
    double sum = 0;
    for (double v : k) {
      sum += v;
    }
    assertEquals(1, sum, 1e-15);
    for (int i = 0; i < 31; i++) {
      assertEquals(k[i], k[62 - i], 0, "symmetric");
      // ratio of neighbours: exp((2d + 1) / 2 sigma^2) with d the distance of the inner one
      int d = 31 - i - 1;
      assertEquals(Math.exp((2.0 * d + 1) / (2 * sigma * sigma)), k[i + 1] / k[i], 1e-12);
    }
  }

  @Test
  void reflectIsHalfSampleSymmetric() {
    int n = 4; // d c b a | a b c d | d c b a
    int[] expected = {3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0};
    for (int i = -4; i < 8; i++) {
      assertEquals(expected[i + 4], GaussianBlur.reflect(i, n), "index " + i);
    }
  }

  @Test
  void constantStaysConstant() {
    double[] a = new double[17 * 23];
    java.util.Arrays.fill(a, 0.37);
    for (double v : GaussianBlur.blur(a, 17, 23, 3.1)) {
      assertEquals(0.37, v, 1e-15);
    }
  }

  @Test
  void impulseFarFromTheBordersGivesTheOuterProductOfTheKernel() {
    int n = 41;
    int c = 20;
    double sigma = 2.3; // radius 9
    double[] a = new double[n * n];
    a[c * n + c] = 1;
    double[] b = GaussianBlur.blur(a, n, n, sigma);
    double[] k = GaussianBlur.kernel(sigma);
    int r = k.length / 2;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double e = Math.abs(i - c) <= r && Math.abs(j - c) <= r ? k[i - c + r] * k[j - c + r] : 0;
        assertEquals(e, b[i * n + j], 1e-17, "(" + i + ", " + j + ")");
      }
    }
  }

  @Test
  void aRampIsKeptAwayFromTheBorders() {
    int h = 30;
    int w = 30;
    double sigma = 1.5; // radius 6
    double[] a = new double[h * w];
    for (int i = 0; i < h; i++) {
      for (int j = 0; j < w; j++) {
        a[i * w + j] = 0.5 * i - 0.25 * j;
      }
    }
    double[] b = GaussianBlur.blur(a, h, w, sigma);
    for (int i = 6; i < h - 6; i++) {
      for (int j = 6; j < w - 6; j++) {
        assertEquals(a[i * w + j], b[i * w + j], 1e-13);
      }
    }
  }

  @Test
  void badSigmaIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> GaussianBlur.kernel(0));
    assertThrows(IllegalArgumentException.class, () -> GaussianBlur.kernel(Double.NaN));
  }
}
