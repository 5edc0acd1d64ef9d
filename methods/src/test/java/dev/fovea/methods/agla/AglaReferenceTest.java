package dev.fovea.methods.agla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.blip.BlipForImageTextRetrieval;
import dev.fovea.vit.blip.BlipText;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.RgbImage;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AGLA on the tiny LLaVA of the ViCrop fixtures and the tiny BLIP of vit's blip-reference against
 * tools/reference/agla/make_agla_reference.py (float32 torch models, float64 numpy map, every LLaVA
 * step a full forward without cache, recorded uniform draws):
 *
 * <ul>
 *   <li>the image-prompt matching from the raw image: the GradCAM map R (rtol 1e-3, atol 1e-7: float32
 *       backward, then a head and token mean), the kept pixel count, the mask and the masked 8-bit
 *       image exactly (the reference's smallest |B - theta| is 2e-6, the Java map differs by ~1e-7);
 *   <li>the decoding: every step's assembled logits (relative {@link #LOGIT_TOL}, the cut's -inf
 *       entries identical) and the tokens, batched and as two states; the cache-sharing parity
 *       option; the augmented image equal to the original;
 *   <li>the whole chain: raw image, matching, the LLaVA processor on both images, the tokens.
 * </ul>
 */
class AglaReferenceTest {
  /** Assembled logits l_o + 2 l_a relative to max(1, |l|): cached (Java) vs recomputed (torch); the reference's smallest distance to the cut is 3e-4. */
  static final float LOGIT_TOL = 2e-5f;

  static LlavaForConditionalGeneration model;
  static BlipForImageTextRetrieval.Loaded blip;
  static BlipText text;
  static ImageProcessor llavaProcessor;
  static WeightSource ref;
  static JsonNode meta;

  static Path dir(String resource) {
    try {
      return Path.of(AglaReferenceTest.class.getResource(resource).toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** vit's tiny BLIP (one copy in the repository): vit/src/test/resources/blip-reference/tiny, from this module's folder. */
  static Path blipFolder() {
    return Path.of(System.getProperty("user.dir")).resolve("../vit/src/test/resources/blip-reference/tiny").normalize();
  }

  @BeforeAll
  static void load() throws IOException {
    Path llava = dir("/vicrop-reference/tiny/config.json");
    model = LlavaForConditionalGeneration.load(llava);
    llavaProcessor = ImageProcessor.fromConfig(llava.resolve("preprocessor_config.json"));
    blip = BlipForImageTextRetrieval.open(blipFolder());
    text = BlipText.load(blipFolder());
    Path here = dir("/agla-reference/reference.json");
    ref = WeightFiles.open(here.resolve("reference.safetensors"));
    meta = new ObjectMapper().readTree(here.resolve("reference.json").toFile());
  }

  @AfterAll
  static void close() {
    model.close();
    blip.close();
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

  static AglaConfig config() {
    return AglaConfig.DEFAULT.withAlpha((float) meta.get("alpha").asDouble()).withBeta((float) meta.get("beta").asDouble())
        .withLayer(meta.get("blip_layer").asInt());
  }

  static GenerationConfig generation(boolean batched) {
    return GenerationConfig.maxNewTokens(meta.get("max_new_tokens").asInt()).withBatchBranches(batched);
  }

  static RgbImage image(String c) {
    String shared = System.getProperty("fovea.shared");
    Path f = shared == null ? null : Path.of(shared, "data", "images", meta.get("cases").get(c).get("image").asText());
    Assumptions.assumeTrue(f != null && Files.isRegularFile(f), "SKIPPED: the shared images are absent (fovea.shared = " + shared + ")");
    return ImageDecoder.read(f);
  }

  static String question(String c) {
    return meta.get("cases").get(c).get("question").asText();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"cats", "chelsea", "coffee"})
  void imagePromptMatchingMatchesTheReference(String c) {
    ImagePromptMatching ipm = new ImagePromptMatching(blip.model(), text, config());
    ImagePromptMatching.Result r = ipm.match(image(c), question(c));
    float[] want = ref.get(c + ".R").toFloatArray();
    double maxErr = 0;
    for (int i = 0; i < want.length; i++) {
      double e = Math.abs(r.relevance()[i] - want[i]);
      maxErr = Math.max(maxErr, e);
      assertTrue(e <= 1e-7 + 1e-3 * Math.abs(want[i]), c + " R[" + i + "] " + r.relevance()[i] + " vs " + want[i]);
    }
    JsonNode m = meta.get("cases").get(c);
    System.out.printf("%s: R max|a-b| %.3g, itc %.7f (ref %.7f), kept %d (ref %d)%n", c, maxErr, r.itc(), m.get("sim").asDouble(), r.kept(),
        m.get("kept").asInt());
    assertEquals(m.get("sim").asDouble(), r.itc(), 1e-5, "ITC cosine");
    assertEquals(m.get("rho").asDouble(), r.keepRatio(), 1e-5, "keep ratio");
    assertEquals(m.get("kept").asInt(), r.kept(), "kept pixels");
    int[] mask = ints(c + ".mask");
    for (int i = 0; i < mask.length; i++) {
      assertEquals(mask[i] == 1, r.keep()[i], c + " mask pixel " + i);
    }
    long[] aug = ref.get(c + ".augmented").toLongArray();
    byte[] got = r.augmented().toByteArray();
    for (int i = 0; i < aug.length; i++) {
      assertEquals(aug[i], got[i] & 0xFF, c + " augmented byte " + i);
    }
  }

  @org.junit.jupiter.api.Test
  void aPromptWithoutWordsAndALayerBeyondTheModelAreRefused() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(AglaException.class,
        () -> new ImagePromptMatching(blip.model(), text, config()).match(RgbImage.filled(8, 8, 1, 2, 3), " !.() "));
    assertTrue(e.getMessage().contains("no words"), e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(AglaException.class, () -> new ImagePromptMatching(blip.model(), text, AglaConfig.DEFAULT));
    assertTrue(e.getMessage().contains("layer 6 is not a text layer of this BLIP (it has 3"), e.getMessage());
  }

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
  void assemblyMatchesTheReference(String c, boolean batched) {
    List<float[]> steps = new ArrayList<>();
    Agla.Result r = new Agla(model, config()).observed((l, d) -> steps.add(d.clone()))
        .run(ints(c + ".ids"), ref.get(c + ".pixels"), ref.get(c + ".aug_pixels"), uniforms(c), generation(batched), null, null);
    assertArrayEquals(ints(c + ".tokens"), r.generation().tokens(), "tokens");
    assertEquals(batched, r.generation().batched());
    assertSteps("AGLA " + c, ref.get(c + ".logits").toFloatArray(), model.vocabSize(), steps);
  }

  /** The released sampler's cache sharing gives the reference's parity tokens; with the original image twice, (1 + alpha) l_o. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"cats", "chelsea", "coffee"})
  void parityAndSameImageMatchTheReference(String c) {
    Tensor px = ref.get(c + ".pixels");
    var parity = new Agla(model, config().withReferenceCacheReuse(true))
        .run(ints(c + ".ids"), px, ref.get(c + ".aug_pixels"), uniforms(c), generation(true), null, null).generation();
    assertArrayEquals(ints(c + ".parity.tokens"), parity.tokens(), "parity tokens");
    var same = new Agla(model, config()).run(ints(c + ".ids"), px, px, uniforms(c), generation(true), null, null).generation();
    assertArrayEquals(ints(c + ".same.tokens"), same.tokens(), "tokens with the original image on both branches");
    if (c.equals("cats")) {
      assertFalse(java.util.Arrays.equals(ints(c + ".tokens"), parity.tokens()), "cache sharing must change this answer");
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"cats", "coffee"})
  void wholeChainFromTheRawImage(String c) {
    RgbImage img = image(c);
    ImagePromptMatching.Result m = new ImagePromptMatching(blip.model(), text, config()).match(img, question(c));
    try (Scope s = Scope.open()) {
      Tensor px = llavaProcessor.process(img).unsqueeze(0);
      Tensor aug = llavaProcessor.process(m.augmented()).unsqueeze(0);
      float[] want = ref.get(c + ".aug_pixels").toFloatArray();
      assertArrayEquals(want, aug.contiguous().toFloatArray(), 1e-6f, "augmented view through the LLaVA processor");
      var r = new Agla(model, config()).run(ints(c + ".ids"), px, aug, uniforms(c), generation(true), null, null);
      assertArrayEquals(ints(c + ".tokens"), r.generation().tokens(), "tokens");
    }
  }
}
