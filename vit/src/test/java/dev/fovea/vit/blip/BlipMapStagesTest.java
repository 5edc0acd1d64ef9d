package dev.fovea.vit.blip;

import static dev.fovea.vit.blip.BlipReference.assertClose;

import dev.fovea.vit.image.GaussianBlur;
import dev.fovea.vit.image.SplineZoom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The image operations of AGLA's relevance map (spec B.6) against make_blip_reference.py's float64
 * numpy versions, which compute the spline coefficients by a dense linear solve and the blur by an
 * explicit reflected sum (no SciPy): per tiny case the 6x6 map to 96x96 (sigma 1.92, radius 8), and
 * a random 24x24 map through the real 384 recipe (sigma 7.68, radius 31), every 5th row and column
 * compared. Tolerance 1e-12 absolute on values in [0, 1].
 */
class BlipMapStagesTest {
  static BlipReference ref;

  @BeforeAll
  static void load() {
    ref = new BlipReference();
  }

  @AfterAll
  static void close() {
    ref.close();
  }

  static double[] minMax(double[] r) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (double v : r) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    double[] a = new double[r.length];
    for (int i = 0; i < r.length; i++) {
      a[i] = r[i] - lo;
    }
    if (hi - lo > 0) {
      double m = 0;
      for (double v : a) {
        m = Math.max(m, v);
      }
      for (int i = 0; i < a.length; i++) {
        a[i] /= m;
      }
    }
    return a;
  }

  static double[] every5th(double[] x, int n) {
    int m = (n + 4) / 5;
    double[] out = new double[m * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        out[i * m + j] = x[5 * i * n + 5 * j];
      }
    }
    return out;
  }

  @Test
  void tinyCasesSplineAndBlurMatchTheReference() {
    for (String c : BlipReference.CASES) {
      int g = ref.stageShape(c + ".R")[0];
      int s = ref.stageShape(c + ".U")[0];
      double[] a = minMax(ref.stage(c + ".R"));
      assertClose(c + " min-max A", a, ref.stage(c + ".A"), 0, 1e-15);
      double[] u = SplineZoom.resize(ref.stage(c + ".A"), g, g, s, s);
      assertClose(c + " spline U " + g + "->" + s, u, ref.stage(c + ".U"), 0, 1e-12);
      double[] bl = GaussianBlur.blur(ref.stage(c + ".U"), s, s, 0.02 * s);
      assertClose(c + " blur Bl sigma " + 0.02 * s, bl, ref.stage(c + ".Bl"), 0, 1e-12);
    }
  }

  @Test
  void fullSizeRecipeMatchesTheReference() {
    double[] a = minMax(ref.stage("full.R"));
    assertClose("full min-max A", a, ref.stage("full.A"), 0, 1e-15);
    double[] u = SplineZoom.resize(ref.stage("full.A"), 24, 24, 384, 384);
    assertClose("full spline U 24->384 (every 5th)", every5th(u, 384), ref.stage("full.U5"), 0, 1e-12);
    double[] bl = GaussianBlur.blur(u, 384, 384, 7.68);
    assertClose("full blur Bl sigma 7.68 (every 5th)", every5th(bl, 384), ref.stage("full.Bl5"), 0, 1e-12);
  }
}
