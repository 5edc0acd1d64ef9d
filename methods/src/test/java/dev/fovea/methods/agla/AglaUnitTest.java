package dev.fovea.methods.agla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.vit.image.RgbImage;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** AGLA's pieces against closed forms: the assembly, the GradCAM reduction, the threshold and the mask, the parameter checks. */
class AglaUnitTest {
  static final float NEG = Float.NEGATIVE_INFINITY;

  @Test
  void assemblyAddsTheMaskedBranchInsideTheCut() {
    float[] lo = {2f, 1.5f, 0f, -1f};
    float[] la = {1f, -1f, 3f, 0f};
    // cut = log 0.5 + 2 = 1.3069: tokens 0 and 1 stay
    assertArrayEquals(new float[] {4f, -0.5f, NEG, NEG}, Assembly.assemble(lo, la, 2f, 0.5f));
    // beta 1 keeps only the argmax of l_o (even where l_a would prefer another token)
    assertArrayEquals(new float[] {2f + 0.5f, NEG, NEG, NEG}, Assembly.assemble(lo, la, 0.5f, 1f));
    // alpha 0: the original logits on the plausible set
    assertArrayEquals(new float[] {2f, 1.5f, NEG, NEG}, Assembly.assemble(lo, la, 0f, 0.5f));
    // the same image on both branches: (1 + alpha) l_o on the plausible set
    assertArrayEquals(new float[] {6f, 4.5f, NEG, NEG}, Assembly.assemble(lo, lo, 2f, 0.5f));
    assertThrows(AglaException.class, () -> Assembly.assemble(lo, new float[3], 2f, 0.5f));
  }

  @Test
  void theParityCombinerAssemblesOnlyTheFirstStep() {
    float[] lo = {1f, 0.8f};
    float[] la = {0f, 5f};
    LogitsCombiner c = Assembly.firstStepOnly(2f, 0.5f);
    assertArrayEquals(new float[] {1f, 10.8f}, c.combine(List.of(lo, la)));
    assertArrayEquals(new float[] {3f, 2.4f}, c.combine(List.of(lo, la)), 1e-6f); // l_a taken as l_o
    LogitsCombiner independent = Assembly.combiner(2f, 0.5f);
    independent.combine(List.of(lo, la));
    assertArrayEquals(new float[] {1f, 10.8f}, independent.combine(List.of(lo, la)));
    assertThrows(AglaException.class, () -> independent.combine(List.of(lo)));
  }

  @Test
  void gradcamIsTheHeadAndWordMeanOfAttentionTimesPositiveGradient() {
    // H 2, T 4 (words 1 and 2), G 1: keys [CLS, patch]
    int[] shape = {1, 2, 4, 2};
    float[] p = new float[16];
    float[] g = new float[16];
    for (int i = 0; i < 16; i++) {
      p[i] = 0.1f * (i + 1);
      g[i] = (i % 3 == 0 ? -1f : 1f) * (i + 1);
    }
    // patch column of (h, i): index (h*4 + i)*2 + 1
    double want = 0;
    for (int h = 0; h < 2; h++) {
      for (int i = 1; i <= 2; i++) {
        int k = (h * 4 + i) * 2 + 1;
        want += p[k] * Math.max(0, g[k]);
      }
    }
    want /= 2 * 2;
    assertEquals(want, ImagePromptMatching.gradcam(p, g, shape, 1)[0], 1e-6);
    assertThrows(AglaException.class, () -> ImagePromptMatching.gradcam(p, g, new int[] {1, 2, 4, 3}, 1));
  }

  @Test
  void thresholdKeepsTheShareRhoOfDistinctValues() {
    int n = 1000;
    double[] b = new double[n];
    Random rng = new Random(3);
    for (int i = 0; i < n; i++) {
      b[i] = i / (n - 1.0);
    }
    for (int i = n - 1; i > 0; i--) { // shuffle
      int j = rng.nextInt(i + 1);
      double t = b[i];
      b[i] = b[j];
      b[j] = t;
    }
    for (double rho : new double[] {0.5, 0.8, 0.999}) {
      double theta = ImagePromptMatching.threshold(b, rho);
      int kept = 0;
      for (double v : b) {
        kept += v >= theta ? 1 : 0;
      }
      // theta is the value of descending rank floor(n rho): that many values lie above it, plus itself
      assertEquals((int) Math.floor(n * rho) + 1, kept, "rho " + rho);
    }
    assertEquals(0.0, ImagePromptMatching.threshold(b, 1 - 1e-5), "rho near 1 keeps every pixel");
  }

  @Test
  void aConstantMapKeepsEveryPixel() {
    // no patch more relevant than another: both min-max steps leave zeros (the released code divides 0 by 0 and blacks out everything)
    double[] r = new double[36];
    java.util.Arrays.fill(r, 0.25);
    double[] b = ImagePromptMatching.relevanceMap(r, 6, 96);
    for (double v : b) {
      assertEquals(0.0, v);
    }
    double theta = ImagePromptMatching.threshold(b, 0.7);
    for (double v : b) {
      assertTrue(v >= theta);
    }
  }

  @Test
  void maskPaintsDroppedPixelsBlackAndKeepsTheOthersTo8Bits() {
    byte[] px = new byte[4 * 3];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 23 + 7);
    }
    RgbImage img = RgbImage.of(2, 2, px);
    RgbImage m = ImagePromptMatching.mask(img, new boolean[] {true, false, true, false});
    for (int i = 0; i < 4; i++) {
      for (int c = 0; c < 3; c++) {
        int v = px[3 * i + c] & 0xFF;
        int got = m.get(i % 2, i / 2, c);
        if (i % 2 == 1) {
          assertEquals(0, got);
        } else {
          assertTrue(got == v || got == v - 1, "kept value " + v + " -> " + got + " (truncation may lower it by one)");
        }
      }
    }
  }

  @Test
  void parametersOutOfRangeAreRefused() {
    assertThrows(AglaException.class, () -> AglaConfig.DEFAULT.withAlpha(-1f));
    assertThrows(AglaException.class, () -> AglaConfig.DEFAULT.withAlpha(101f));
    assertThrows(AglaException.class, () -> AglaConfig.DEFAULT.withBeta(0f));
    assertThrows(AglaException.class, () -> AglaConfig.DEFAULT.withBeta(1.5f));
    assertThrows(AglaException.class, () -> AglaConfig.DEFAULT.withLayer(-1));
    assertEquals(2f, AglaConfig.DEFAULT.alpha());
    assertEquals(0.5f, AglaConfig.DEFAULT.beta());
    assertEquals(6, AglaConfig.DEFAULT.layer());
  }
}
