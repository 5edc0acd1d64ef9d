package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.arbitrary;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/** Properties of {@link Resample} and of the processors' plans, over random sizes and pixels. */
class ResamplePropertiesTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 150);

  static RgbImage random(long seed, int w, int h) {
    byte[] px = new byte[3 * w * h];
    new Random(seed).nextBytes(px);
    return RgbImage.of(w, h, px);
  }

  /** (width, height) pairs in [1, max]. */
  static Gen<int[]> sizes(int max) {
    return integers().between(1, max).zip(integers().between(1, max), (w, h) -> new int[] {w, h});
  }

  @Test
  void constantImagesStayConstant() {
    qt().withExamples(EXAMPLES)
        .forAll(sizes(70), sizes(70), integers().between(0, 255 * 256 * 256 + 255 * 256 + 255),
            arbitrary().enumValues(Resample.Filter.class))
        .checkAssert((src, dst, colour, f) -> {
          int w = src[0];
          int h = src[1];
          int tw = dst[0];
          int th = dst[1];
          int r = colour >> 16;
          int g = (colour >> 8) & 0xFF;
          int b = colour & 0xFF;
          RgbImage out = Resample.resize(RgbImage.filled(w, h, r, g, b), tw, th, f);
          assertEquals(RgbImage.filled(tw, th, r, g, b), out, w + "x" + h + " -> " + tw + "x" + th + " " + f);
        });
  }

  @Test
  void sameSizeIsIdentity() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 50), integers().between(1, 50), longs().all(), arbitrary().enumValues(Resample.Filter.class))
        .checkAssert((w, h, seed, f) -> {
          RgbImage in = random(seed, w, h);
          assertSame(in, Resample.resize(in, w, h, f));
        });
  }

  @Test
  void outputHasTheRequestedSizeAndStaysInRangeForPositiveKernels() {
    qt().withExamples(EXAMPLES)
        .forAll(sizes(40), sizes(90), longs().all(), arbitrary().enumValues(Resample.Filter.class))
        .checkAssert((src, dst, seed, f) -> {
          int w = src[0];
          int h = src[1];
          int tw = dst[0];
          int th = dst[1];
          RgbImage in = random(seed, w, h);
          RgbImage out = Resample.resize(in, tw, th, f);
          assertEquals(tw, out.width());
          assertEquals(th, out.height());
          if (f == Resample.Filter.BOX || f == Resample.Filter.BILINEAR) {
            // non-negative weights: a convex combination per pass, within the input's range per channel
            for (int c = 0; c < 3; c++) {
              int lo = 255;
              int hi = 0;
              for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                  lo = Math.min(lo, in.get(x, y, c));
                  hi = Math.max(hi, in.get(x, y, c));
                }
              }
              for (int y = 0; y < th; y++) {
                for (int x = 0; x < tw; x++) {
                  int v = out.get(x, y, c);
                  assertTrue(v >= lo && v <= hi, f + " value " + v + " outside the input range [" + lo + ", " + hi + "]");
                }
              }
            }
          }
        });
  }

  @Test
  void fixedPointWeightsSumToOneWithinRounding() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 3000), integers().between(1, 3000), arbitrary().enumValues(Resample.Filter.class))
        .checkAssert((in, out, f) -> {
          Resample.Coeffs c = Resample.coeffs(in, out, f);
          for (int i = 0; i < out; i++) {
            long sum = 0;
            for (int k = 0; k < c.size()[i]; k++) {
              sum += c.k()[i * c.ksize() + k];
            }
            assertTrue(c.start()[i] >= 0 && c.start()[i] + c.size()[i] <= in, "taps inside the input");
            assertTrue(Math.abs(sum - (1L << Resample.PRECISION_BITS)) <= c.ksize(), in + "->" + out + " " + f + " sum " + sum);
          }
        });
  }

  @Test
  void clipPlanGivesAnSxSCropInsideTheResizedImage() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 5000), integers().between(1, 5000), integers().between(1, 400))
        .checkAssert((w, h, s) -> {
          ImageProcessor.Plan p = new ImageProcessor(PreprocessorConfig.clip(s)).plan(w, h);
          assertEquals(s, Math.min(p.resizeWidth(), p.resizeHeight()), "short side is S");
          long longSide = Math.max(w, h);
          long shortSide = Math.min(w, h);
          // new_long = floor(S * long / short): the exact rational floor (doubles agree here)
          assertEquals(s * longSide / shortSide, Math.max(p.resizeWidth(), p.resizeHeight()), "long side truncated");
          assertEquals(s, p.outputWidth());
          assertEquals(s, p.outputHeight());
          assertTrue(p.cropX0() >= 0 && p.cropX1() <= p.resizeWidth() && p.cropY0() >= 0 && p.cropY1() <= p.resizeHeight());
          assertEquals((p.resizeWidth() - s) / 2, p.cropX0(), "HF floors the offset");
        });
  }

  @Test
  void torchvisionCropRoundsHalfToEven() {
    // (H - S) = 3 -> 1.5 -> 2 (torchvision) vs 1 (HF); (H - S) = 5 -> 2.5 -> 2 for both
    assertEquals(2, ImageProcessor.cropOffset(227, 224, PreprocessorConfig.CropRounding.ROUND_HALF_EVEN));
    assertEquals(1, ImageProcessor.cropOffset(227, 224, PreprocessorConfig.CropRounding.FLOOR));
    assertEquals(2, ImageProcessor.cropOffset(229, 224, PreprocessorConfig.CropRounding.ROUND_HALF_EVEN));
    assertEquals(2, ImageProcessor.cropOffset(229, 224, PreprocessorConfig.CropRounding.FLOOR));
    assertEquals(4, ImageProcessor.cropOffset(231, 224, PreprocessorConfig.CropRounding.ROUND_HALF_EVEN));
  }

  @Test
  void cropThenPasteBackIsIdentityInside() {
    qt().withExamples(EXAMPLES)
        .forAll(sizes(30), integers().between(-10, 40), integers().between(-10, 40), longs().all())
        .checkAssert((size, x0, y0, seed) -> {
          int w = size[0];
          int h = size[1];
          RgbImage in = random(seed, w, h);
          RgbImage c = in.crop(x0, y0, x0 + 7, y0 + 5);
          for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
              int sx = x0 + x;
              int sy = y0 + y;
              boolean inside = sx >= 0 && sx < w && sy >= 0 && sy < h;
              for (int ch = 0; ch < 3; ch++) {
                assertEquals(inside ? in.get(sx, sy, ch) : 0, c.get(x, y, ch), "crop pixel (" + x + ", " + y + ")");
              }
            }
          }
        });
  }
}
