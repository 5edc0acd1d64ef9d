package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** SplineZoom against closed forms (the scipy-reproducing reference values are in BlipMapStagesTest). */
class SplineZoomTest {
  @Test
  void cubicBSplineKernelValues() {
    assertEquals(2.0 / 3, SplineZoom.beta3(0), 0);
    assertEquals(1.0 / 6, SplineZoom.beta3(1), 1e-16);
    assertEquals(1.0 / 6, SplineZoom.beta3(-1), 1e-16);
    assertEquals(1.0 / 48, SplineZoom.beta3(1.5), 1e-16);
    assertEquals(23.0 / 48, SplineZoom.beta3(0.5), 1e-16);
    assertEquals(0, SplineZoom.beta3(2), 0);
    // partition of unity at any shift
    for (double t = 0; t < 1; t += 0.0625) {
      double s = 0;
      for (int k = -2; k <= 2; k++) {
        s += SplineZoom.beta3(t - k);
      }
      assertEquals(1, s, 1e-15, "sum of beta3 at shift " + t);
    }
  }

  @Test
  void coefficientsOfAnImpulseAreTheCardinalSplineSqrt3TimesZToTheDistance() {
    int n = 81;
    int m = 40;
    double[] s = new double[n];
    s[m] = 1;
    SplineZoom.coefficients(s, n);
    double z = Math.sqrt(3) - 2;
    for (int k = 0; k < n; k++) {
      // far from both ends (40 samples): the boundary terms are below z^40 ~ 1e-23
      assertEquals(Math.sqrt(3) * Math.pow(z, Math.abs(k - m)), s[k], 1e-15, "c[" + k + "]");
    }
  }

  @Test
  void coefficientsInterpolateTheSamplesWithMirrorEnds() {
    Random rng = new Random(5);
    for (int n : new int[] {2, 3, 7, 48}) {
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = rng.nextDouble() * 2 - 1;
      }
      double[] c = s.clone();
      SplineZoom.coefficients(c, n);
      for (int k = 0; k < n; k++) {
        double left = c[k == 0 ? 1 : k - 1];
        double right = c[k == n - 1 ? n - 2 : k + 1];
        assertEquals(s[k], (left + 4 * c[k] + right) / 6, 1e-14, "n " + n + " sample " + k);
      }
    }
  }

  @Test
  void resizingToTheSameSizeReturnsTheInput() {
    // out = in: every output coordinate is a knot (x = o + 12), where the spline equals the sample
    Random rng = new Random(7);
    double[] a = new double[24 * 24];
    for (int i = 0; i < a.length; i++) {
      a[i] = rng.nextDouble();
    }
    double[] r = SplineZoom.resize(a, 24, 24, 24, 24);
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], r[i], 1e-14, "pixel " + i);
    }
  }

  @Test
  void outputStaysWithinTheInputRangeAndZero() {
    double[] a = {0, 1, 0, 1, 0, 1, 0, 1, 0};
    for (double v : SplineZoom.resize(a, 3, 3, 40, 40)) {
      assertEquals(true, v >= 0 && v <= 1, "clipped to [0, 1]: " + v);
    }
  }

  @Test
  void badSizesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> SplineZoom.resize(new double[5], 2, 2, 4, 4));
    assertThrows(IllegalArgumentException.class, () -> SplineZoom.resize(new double[4], 2, 2, 0, 4));
  }
}
