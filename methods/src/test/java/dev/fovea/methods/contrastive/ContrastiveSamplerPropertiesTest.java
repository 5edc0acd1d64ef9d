package dev.fovea.methods.contrastive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.llm.generate.Uniforms;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Properties of the contrastive sampler (spec 5, "property tests worth writing"), over random
 * logit vectors. Logits are multiples of 1/8 in [-8, 8] and shifts multiples of 1/8, with alpha in
 * {0, 0.5, 1, 2, 3}: every contrasted value and every shift is then exact in float32 and float64, so
 * "changes nothing" can be asserted as equality of tokens.
 */
class ContrastiveSamplerPropertiesTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 200);
  static final float[] ALPHAS = {0f, 0.5f, 1f, 2f, 3f};
  static final float[] BETAS = {0.01f, 0.1f, 0.2f, 0.5f, 1f};

  /** Logits of V in [2, 60] entries, multiples of 1/8 (ties happen). */
  static float[] logits(long seed, int v) {
    Random r = new Random(seed);
    float[] z = new float[v];
    for (int i = 0; i < v; i++) {
      z[i] = (r.nextInt(129) - 64) / 8f;
    }
    return z;
  }

  static Gen<int[]> cases() {
    // vocabulary, alpha index, beta index
    return integers().between(2, 60).zip(integers().between(0, ALPHAS.length - 1), integers().between(0, BETAS.length - 1),
        (v, a, b) -> new int[] {v, a, b});
  }

  static ContrastiveConfig config(int[] c, SamplingConfig s) {
    return new ContrastiveConfig(ALPHAS[c[1]], BETAS[c[2]], s, 0);
  }

  static int draw(ContrastiveConfig config, double u, float[] z, float[] zc) {
    return new ContrastiveSampler(config, Uniforms.of(u)).next(z, zc, new int[0]);
  }

  @Test
  void alphaZeroIsPlainSamplingOnThePlausibleSet() {
    qt().withExamples(EXAMPLES).forAll(cases(), longs().all(), doubles().between(0, 0.999999)).checkAssert((c, seed, u) -> {
      float[] z = logits(seed, c[0]);
      float[] zc = logits(seed + 1, c[0]);
      float beta = BETAS[c[2]];
      float max = Float.NEGATIVE_INFINITY;
      for (float x : z) {
        max = Math.max(max, x);
      }
      float cut = (float) Math.log(beta) + max;
      float[] plausible = new float[z.length];
      for (int j = 0; j < z.length; j++) {
        plausible[j] = z[j] < cut ? Float.NEGATIVE_INFINITY : z[j];
      }
      SamplingConfig s = SamplingConfig.sampling(1f);
      int want = new Sampler(s, Uniforms.of(u)).sample(plausible, new int[0]);
      assertEquals(want, draw(new ContrastiveConfig(0f, beta, s, 0), u, z, zc));
    });
  }

  @Test
  void constantShiftsOfEitherBranchChangeNothing() {
    qt().withExamples(EXAMPLES).forAll(cases(), longs().all(), doubles().between(0, 0.999999), integers().between(-64, 64))
        .checkAssert((c, seed, u, k) -> {
          float[] z = logits(seed, c[0]);
          float[] zc = logits(seed + 1, c[0]);
          float shift = k / 8f;
          float[] zs = z.clone();
          float[] zcs = zc.clone();
          for (int j = 0; j < z.length; j++) {
            zs[j] += shift;
            zcs[j] -= 2 * shift;
          }
          for (SamplingConfig s : new SamplingConfig[] {SamplingConfig.sampling(1f), SamplingConfig.GREEDY, SamplingConfig.sampling(0.5f).withTopP(0.9f)}) {
            ContrastiveConfig conf = config(c, s);
            int base = draw(conf, u, z, zc);
            assertEquals(base, draw(conf, u, zs, zc), "z shifted by " + shift);
            assertEquals(base, draw(conf, u, z, zcs), "z' shifted by " + (-2 * shift));
          }
        });
  }

  @Test
  void thePlausibleSetAlwaysHoldsTheArgmaxOfTheFirstBranch() {
    qt().withExamples(EXAMPLES).forAll(cases(), longs().all()).checkAssert((c, seed) -> {
      float[] z = logits(seed, c[0]);
      float[] zc = logits(seed + 7, c[0]);
      float[] d = new ContrastiveSampler(config(c, SamplingConfig.GREEDY)).contrast(z, zc);
      int arg = 0;
      for (int j = 1; j < z.length; j++) {
        if (z[j] > z[arg]) {
          arg = j;
        }
      }
      assertTrue(d[arg] > Float.NEGATIVE_INFINITY, "argmax z = " + arg + " was cut");
      // and whatever is drawn is plausible
      int t = draw(config(c, SamplingConfig.sampling(1f)), 0.5, z, zc);
      assertTrue(d[t] > Float.NEGATIVE_INFINITY);
    });
  }

  @Test
  void theSameSeedGivesTheSameTokens() {
    qt().withExamples(EXAMPLES / 4).forAll(cases(), longs().all(), longs().all()).checkAssert((c, logitSeed, seed) -> {
      ContrastiveConfig conf = new ContrastiveConfig(ALPHAS[c[1]], BETAS[c[2]], SamplingConfig.sampling(1f), seed);
      int[] a = run(conf, logitSeed, c[0]);
      int[] b = run(conf, logitSeed, c[0]);
      assertArrayEquals(a, b);
    });
  }

  static int[] run(ContrastiveConfig conf, long logitSeed, int v) {
    ContrastiveSampler s = new ContrastiveSampler(conf);
    int[] out = new int[12];
    for (int i = 0; i < out.length; i++) {
      out[i] = s.next(logits(logitSeed + 2 * i, v), logits(logitSeed + 2 * i + 1, v), java.util.Arrays.copyOf(out, i));
    }
    return out;
  }

  /** A NaN anywhere in the second branch: the whole step uses z (AvisC's fallback), i.e. plain sampling on the plausible set. */
  @Test
  void aNanInTheSecondBranchFallsBackToTheFirst() {
    float[] z = {1f, 3f, 2f, -1f};
    float[] zc = {0f, Float.NaN, 5f, 0f};
    float[] d = new ContrastiveSampler(new ContrastiveConfig(1f, 0.5f, SamplingConfig.GREEDY, 0)).contrast(z, zc);
    // cut = log(0.5) + 3 = 2.3069: only z[1] = 3 survives
    assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 3f, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, d);
    // without the NaN, z' = (0, 4, 5, 0): d = 2z - z' = (2, 2, -1, -2), and the same cut keeps index 1 only
    float[] d2 = new ContrastiveSampler(new ContrastiveConfig(1f, 0.5f, SamplingConfig.GREEDY, 0)).contrast(z, new float[] {0f, 4f, 5f, 0f});
    assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, 2f, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, d2);
  }

  @Test
  void parametersOutOfRangeAreRefusedByName() {
    assertTrue(assertThrows(ContrastiveException.class, () -> new ContrastiveConfig(-1f, 0.1f, SamplingConfig.GREEDY, 0)).getMessage().contains("alpha"));
    assertTrue(assertThrows(ContrastiveException.class, () -> new ContrastiveConfig(1f, 0f, SamplingConfig.GREEDY, 0)).getMessage().contains("beta"));
    assertTrue(assertThrows(ContrastiveException.class, () -> new ContrastiveConfig(Float.NaN, 0.1f, SamplingConfig.GREEDY, 0)).getMessage().contains("alpha"));
  }
}
