package dev.fovea.methods.contrastive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.methods.avc.Avc;
import dev.fovea.methods.avc.AvcConfig;
import dev.fovea.methods.avc.BlindTokens;
import dev.fovea.methods.vcd.Vcd;
import dev.fovea.methods.vcd.VcdConfig;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AVC and VCD on the tiny LLaVA of the ViCrop fixtures against tools/reference/contrastive/
 * make_contrastive_reference.py (float32 torch, written from the AvisC and VCD sampling code, every
 * step a full forward without cache): the same pixels, noise and uniform draws give the same blind
 * set and selected layers, the same contrasted logits at every step (within {@link #LOGIT_TOL}, the
 * cut's -inf entries identical) and the same tokens, as one batch and as two separate states.
 */
class ContrastiveReferenceTest {
  /**
   * Contrasted logits (2z - z'), relative to max(1, |d|): float32 forwards, cached (Java) vs
   * recomputed every step (torch). Measured: at most about 3e-6; the reference's smallest distance
   * of a logit to the plausibility cut is 2.8e-5 (reference.json), so the cut cannot flip within it.
   */
  static final float LOGIT_TOL = 2e-5f;

  static LlavaForConditionalGeneration model;
  static WeightSource ref;
  static JsonNode meta;

  static Path dir(String resource) {
    try {
      return Path.of(ContrastiveReferenceTest.class.getResource(resource).toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @BeforeAll
  static void load() throws IOException {
    model = LlavaForConditionalGeneration.load(dir("/vicrop-reference/tiny/config.json"));
    Path here = dir("/contrastive-reference/reference.json");
    ref = WeightFiles.open(here.resolve("reference.safetensors"));
    meta = new ObjectMapper().readTree(here.resolve("reference.json").toFile());
  }

  @AfterAll
  static void close() {
    model.close();
    ref.close();
  }

  static int[] ints(String name) {
    long[] v = ref.get(name).toLongArray();
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }

  static Uniforms uniforms(String c) {
    float[] u = ref.get(c + ".uniforms").toFloatArray();
    double[] d = new double[u.length];
    for (int i = 0; i < u.length; i++) {
      d[i] = u[i];
    }
    return Uniforms.of(d);
  }

  static GenerationConfig generation(boolean batched) {
    return GenerationConfig.maxNewTokens(meta.get("max_new_tokens").asInt()).withBatchBranches(batched);
  }

  static ContrastiveConfig contrast() {
    return ContrastiveConfig.DEFAULT.withAlpha((float) meta.get("alpha").asDouble()).withBeta((float) meta.get("beta").asDouble());
  }

  /** Every step's contrasted logits against the reference's rows; -inf where the reference cut. */
  static void assertSteps(String what, float[] want, int vocab, List<float[]> got) {
    int steps = want.length / vocab;
    assertEquals(steps, got.size(), what + ": steps");
    for (int s = 0; s < steps; s++) {
      for (int j = 0; j < vocab; j++) {
        float w = want[s * vocab + j];
        float g = got.get(s)[j];
        if (w == Float.NEGATIVE_INFINITY) {
          assertEquals(Float.NEGATIVE_INFINITY, g, what + " step " + s + " token " + j + ": the reference cut it");
        } else {
          assertTrue(Math.abs(w - g) <= LOGIT_TOL * Math.max(1, Math.abs(w)), what + " step " + s + " token " + j + ": " + g + " vs " + w);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}, batched {1}")
  @CsvSource({"cats, true", "cats, false", "chelsea, true", "coffee, true", "coffee, false"})
  void avcMatchesTheReference(String c, boolean batched) {
    Tensor pixels = ref.get(c + ".pixels");
    int[] ids = ints(c + ".ids");
    AvcConfig config = AvcConfig.DEFAULT.withContrast(contrast()).withLayerP((float) meta.get("layer_p").asDouble())
        .withLambda((float) meta.get("lambda").asDouble());
    List<float[]> steps = new ArrayList<>();
    Avc.Result r = new Avc(model, config).observed((l, d) -> steps.add(d.clone())).run(ids, pixels, uniforms(c), generation(batched), null, null);
    BlindTokens b = r.blind();
    assertArrayEquals(ints(c + ".avc.layers"), b.layers(), "selected layers");
    assertArrayEquals(ints(c + ".avc.blind"), b.blind(), "blind tokens");
    float[] shares = ref.get(c + ".avc.layer_shares").toFloatArray();
    float[] att = ref.get(c + ".avc.attention").toFloatArray();
    for (int l = 0; l < shares.length; l++) {
      assertEquals(shares[l], b.layerShares()[l], 1e-5, "layer share " + l);
    }
    for (int i = 0; i < att.length; i++) {
      assertEquals(att[i], b.attention()[i], 1e-5 * Math.max(1e-3, att[i]) + 1e-7, "attention " + i);
    }
    int span = meta.get("cases").get(c).get("image_span").get(0).asInt();
    assertEquals(span, b.positions()[0], "the image span comes from the prompt");
    assertArrayEquals(ints(c + ".avc.tokens"), r.generation().tokens(), "tokens");
    assertEquals(batched, r.generation().batched());
    assertSteps("AVC " + c, ref.get(c + ".avc.logits").toFloatArray(), model.vocabSize(), steps);
  }

  @ParameterizedTest(name = "{0}, batched {1}")
  @CsvSource({"cats, true", "cats, false", "chelsea, true", "coffee, true"})
  void vcdMatchesTheReference(String c, boolean batched) {
    List<float[]> steps = new ArrayList<>();
    VcdConfig config = VcdConfig.DEFAULT.withContrast(contrast()).withNoiseStep(meta.get("noise_step").asInt());
    Vcd.Result r = new Vcd(model, config).observed((l, d) -> steps.add(d.clone())).run(ints(c + ".ids"), ref.get(c + ".pixels"),
        ref.get(c + ".noise"), uniforms(c), generation(batched), null, null);
    assertArrayEquals(ints(c + ".vcd.tokens"), r.generation().tokens(), "tokens");
    assertEquals(batched, r.generation().batched());
    assertSteps("VCD " + c, ref.get(c + ".vcd.logits").toFloatArray(), model.vocabSize(), steps);
  }

  /**
   * The reference's cache reuse (parity option) gives the reference's parity tokens, and differs
   * from VCD with independent caches: the option really changes what is computed.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"cats", "chelsea", "coffee"})
  void referenceCacheReuseIsTheReferencesBugAndDiffers(String c) {
    VcdConfig config = VcdConfig.DEFAULT.withContrast(contrast()).withNoiseStep(meta.get("noise_step").asInt()).withReferenceCacheReuse(true);
    Generator.Result parity = new Vcd(model, config).run(ints(c + ".ids"), ref.get(c + ".pixels"), ref.get(c + ".noise"), uniforms(c),
        generation(true), null, null).generation();
    assertArrayEquals(ints(c + ".parity.tokens"), parity.tokens(), "parity tokens");
    assertFalse(java.util.Arrays.equals(ints(c + ".vcd.tokens"), parity.tokens()), "cache reuse must change the answer");
  }
}
