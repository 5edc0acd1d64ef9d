package dev.fovea.methods.vicrop;

import static dev.fovea.methods.vicrop.BoxSelectionTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.fovea.vit.image.RgbImage;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link EdgeMask}'s steps on small arrays whose answers are known, and against naive twins. */
class EdgeMaskTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 150);

  @Test
  void gaussianKernelIsTorchvisionsForKernel3() {
    // torch 1.13: pdf = exp(-0.5 * ([-1, 0, 1] / 0.8)^2) = [0.457833, 1, 0.457833], / 1.915665, float32
    float[] k = EdgeMask.gaussianKernel1d(3);
    assertArrayEquals(new float[] {0.2389942705631256f, 0.5220115184783936f, 0.2389942705631256f}, k);
    assertEquals(1.0, k[0] + k[1] + k[2], 1e-6);
    // k = 5: sigma = 0.3 * (2 - 1) + 0.8 = 1.1
    float[] k5 = EdgeMask.gaussianKernel1d(5);
    double s = 0;
    double[] pdf = new double[5];
    for (int i = 0; i < 5; i++) {
      pdf[i] = Math.exp(-0.5 * Math.pow((i - 2) / 1.1, 2));
      s += pdf[i];
    }
    for (int i = 0; i < 5; i++) {
      assertEquals(pdf[i] / s, k5[i], 1e-7);
    }
  }

  @Test
  void aFlatImageHasNoEdgesAndAnEmptyMask() {
    EdgeMask.Result r = EdgeMask.compute(RgbImage.filled(50, 40, 200, 10, 99), 21, 7, 3);
    for (float v : r.filtered()) {
      assertTrue(Math.abs(v) < 1e-6f, "" + v);
    }
    assertEquals(0, r.count()); // nothing is strictly above the median
  }

  @Test
  void highPassOfAVerticalStepUsesTorchReflectPadding() {
    // columns 0..2 black, 3..5 white, one channel-equal image 6 x 4: the blur crosses the step only at
    // columns 2 and 3; at column 0 torch's reflect pad mirrors column 1 (black), so no edge there
    byte[] px = new byte[3 * 6 * 4];
    for (int y = 0; y < 4; y++) {
      for (int x = 3; x < 6; x++) {
        for (int c = 0; c < 3; c++) {
          px[3 * (y * 6 + x) + c] = (byte) 255;
        }
      }
    }
    float[] mag = EdgeMask.highPassMagnitude(RgbImage.of(6, 4, px), 3);
    float[] k = EdgeMask.gaussianKernel1d(3);
    // the vertical profile sums to 1, so blur at column 2 = k[2] (right neighbour white), at column 3 = 1 - k[0]
    double d2 = 0 - k[2];
    double d3 = 1 - (k[1] + k[2]);
    for (int y = 0; y < 4; y++) {
      assertEquals(0f, mag[y * 6], 1e-7f);
      assertEquals(0f, mag[y * 6 + 1], 1e-7f);
      assertEquals(Math.sqrt(3 * d2 * d2), mag[y * 6 + 2], 1e-6);
      assertEquals(Math.sqrt(3 * d3 * d3), mag[y * 6 + 3], 1e-6);
      assertEquals(0f, mag[y * 6 + 5], 1e-6f); // the float32 kernel sums to 1 within an ulp
    }
  }

  @Test
  void medianFilterRepeatsTheEdgeSampleLikeScipyReflect() {
    // 3 x 3 window on a 3 x 4 array; scipy mode='reflect' pads "b a | a b"
    float[] v = {
      1, 9, 2, 8,
      7, 3, 6, 4,
      5, 0, 10, 11
    };
    float[] out = EdgeMask.medianFilter(v, 3, 4, 3);
    // top-left window with the edge repeated: rows {1,1,7} x cols {1,1,9} etc.
    assertEquals(median(1, 1, 9, 1, 1, 9, 7, 7, 3), out[0]);
    assertEquals(median(1, 9, 2, 1, 9, 2, 7, 3, 6), out[1]);
    assertEquals(median(1, 9, 2, 7, 3, 6, 5, 0, 10), out[5]);
    assertEquals(median(6, 4, 4, 10, 11, 11, 10, 11, 11), out[11]);
    assertArrayEquals(naiveMedian(v, 3, 4, 3), out);
  }

  @Test
  void medianFilterMatchesANaiveTwin() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 4), integers().between(0, 12), integers().between(0, 12), longs().all())
        .checkAssert((half, eh, ew, seed) -> {
          int size = 2 * half + 1;
          int h = size + eh;
          int w = size + ew;
          Random rng = new Random(seed);
          float[] v = new float[h * w];
          for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(3) == 0 ? rng.nextInt(4) : rng.nextFloat();
          }
          assertArrayEquals(naiveMedian(v, h, w, size), EdgeMask.medianFilter(v, h, w, size), h + " x " + w + " size " + size);
        });
  }

  @Test
  void medianOfAllValuesIsNumpys() {
    assertEquals(2f, EdgeMask.median(new float[] {3, 1, 2}));
    assertEquals(2.5f, EdgeMask.median(new float[] {4, 1, 3, 2}));
    assertEquals((0.1f + 0.3f) / 2f, EdgeMask.median(new float[] {0.3f, 0.1f, 5f, -1f}));
    assertMessage("median of no values", () -> EdgeMask.median(new float[0]));
  }

  @Test
  void blockMeanIsSkimageBlockReduceWithMean() {
    float[] v = new float[4 * 6];
    for (int i = 0; i < v.length; i++) {
      v[i] = i;
    }
    // 2 x 2 blocks of a 4 x 6 array: block (0, 0) = {0, 1, 6, 7}
    assertArrayEquals(new float[] {3.5f, 5.5f, 7.5f, 15.5f, 17.5f, 19.5f}, EdgeMask.blockMean(v, 4, 6, 2));
    assertArrayEquals(v, EdgeMask.blockMean(v, 4, 6, 1));
    assertArrayEquals(new float[] {7.5f}, EdgeMask.blockMean(Arrays.copyOf(v, 16), 4, 4, 4)); // mean of 0..15
    assertMessage("a 4 x 6 array does not split into 4 x 4 blocks", () -> EdgeMask.blockMean(v, 4, 6, 4));
    assertMessage("24 values do not make a 5 x 5 array", () -> EdgeMask.blockMean(v, 5, 5, 1));
    assertMessage("block size 0 must be positive", () -> EdgeMask.blockMean(v, 4, 6, 0));
  }

  @Test
  void pureGradMapMasksThenPools() {
    int res = 28;
    float[] ratio = new float[res * res];
    boolean[] mask = new boolean[res * res];
    for (int i = 0; i < ratio.length; i++) {
      ratio[i] = 2f;
      mask[i] = (i / res) < 14 && (i % res) < 7; // half of block (0, 0)
    }
    ImportanceMap m = EdgeMask.pureGradMap(ratio, mask, res, 14);
    assertEquals(new ImportanceMap(2, 2, new float[] {1f, 0f, 0f, 0f}), m);
    // a NaN ratio under a zero mask stays NaN, as in the reference (NaN * 0)
    ratio[res * 20 + 20] = Float.NaN;
    assertTrue(Float.isNaN(EdgeMask.pureGradMap(ratio, mask, res, 14).get(1, 1)));
    assertMessage("must both be 28 x 28", () -> EdgeMask.pureGradMap(new float[10], mask, res, 14));
    assertMessage("does not split into 5 x 5 blocks", () -> EdgeMask.pureGradMap(ratio, mask, res, 5));
  }

  @Test
  void badSettingsAreRejected() {
    RgbImage img = RgbImage.filled(20, 20, 1, 2, 3);
    assertMessage("median kernel size 6 must be odd and positive", () -> EdgeMask.compute(img, 336, 6, 3));
    assertMessage("blur kernel size 0 must be odd and positive", () -> EdgeMask.compute(img, 336, 7, 0));
    assertMessage("resolution 5 must be at least the median kernel 7", () -> EdgeMask.compute(img, 5, 7, 3));
    assertMessage("smaller than the 7 x 7 window", () -> EdgeMask.medianFilter(new float[36], 6, 6, 7));
    assertFalse(EdgeMask.compute(img, 8, 7, 3).mask()[0]);
  }

  static float median(float... v) {
    float[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** The median filter written the slow way: scipy reflect by explicit mirrored indices. */
  static float[] naiveMedian(float[] v, int h, int w, int size) {
    int r = size / 2;
    float[] out = new float[v.length];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        float[] win = new float[size * size];
        int n = 0;
        for (int dy = -r; dy <= r; dy++) {
          for (int dx = -r; dx <= r; dx++) {
            int yy = y + dy;
            int xx = x + dx;
            yy = yy < 0 ? -yy - 1 : yy >= h ? 2 * h - yy - 1 : yy;
            xx = xx < 0 ? -xx - 1 : xx >= w ? 2 * w - xx - 1 : xx;
            win[n++] = v[yy * w + xx];
          }
        }
        out[y * w + x] = median(win);
      }
    }
    return out;
  }
}
