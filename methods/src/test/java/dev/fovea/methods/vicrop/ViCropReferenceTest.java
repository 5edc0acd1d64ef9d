package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.vit.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole ViCrop pipeline on the tiny reference LLaVA against tools/reference/vicrop: the map (see
 * {@link LlavaImportanceReferenceTest} for its tolerance), the chosen box exactly, and the greedy
 * answer tokens of the two-image prompt [original, crop] exactly; the baseline answer with the
 * image alone exactly; the high-resolution variant (2 x 2 tiles at threshold 300) the same way.
 * Both with the prompts' shared work done once (the default) and without.
 */
class ViCropReferenceTest extends TinyLlavaReferenceBase {
  static Stream<String> cases() {
    List<String> names = new ArrayList<>();
    VicropFixtures.meta().get("cases").fieldNames().forEachRemaining(names::add);
    return names.stream();
  }

  private ViCrop vicrop(ViCropConfig config) {
    return new ViCrop(model, tokenizer, VicropFixtures.preprocessing(model), config);
  }

  /** The default path: rel-att and grad-att share the original image's tower pass and prompt prefix ({@link PromptPrefix}). */
  @ParameterizedTest
  @MethodSource("cases")
  void boxAndAnswerMatchTorch(String name) {
    boxAndAnswerMatchTorch(name, true);
  }

  /** Every prompt run from scratch, as the reference does. */
  @ParameterizedTest
  @MethodSource("cases")
  void boxAndAnswerMatchTorchWithoutSharedPrefix(String name) {
    boxAndAnswerMatchTorch(name, false);
  }

  private void boxAndAnswerMatchTorch(String name, boolean share) {
    JsonNode c = meta.get("cases").get(name);
    RgbImage image = VicropFixtures.image(c.get("image").asText());
    boolean highRes = !c.get("high_res_threshold").isNull();
    ViCropConfig config = VicropFixtures.config();
    if (highRes) {
      config = config.withHighResThreshold(c.get("high_res_threshold").asInt());
    }
    ViCrop.Result r = vicrop(config).run(image, c.get("question").asText(), Method.named(c.get("method").asText()),
        ViCrop.Options.DEFAULT.withHighRes(highRes).withBaseline(true).withSharePrefix(share));
    int[] tiles = {c.get("tiles").get(0).asInt(), c.get("tiles").get(1).asInt()};
    assertArrayEquals(tiles, r.tiles(), "tile grid");
    float[] want = ref.get(name + ".map").toFloatArray();
    double err = LlavaImportanceReferenceTest.relToMax(r.map().values(), want);
    assertTrue(err <= 1e-5, name + " map error " + err);
    JsonNode b = c.get("box");
    assertEquals(new Box(b.get(0).asInt(), b.get(1).asInt(), b.get(2).asInt(), b.get(3).asInt()), r.box(), name + " box");
    assertArrayEquals(VicropFixtures.ints(ref, name + ".answer_tokens"), r.answer().tokens(), name + " answer with [original, crop]");
    assertArrayEquals(VicropFixtures.ints(ref, name + ".baseline_tokens"), r.baseline().tokens(), name + " baseline answer");
    int[] known = java.util.Arrays.stream(r.answer().tokens()).filter(t -> t < tokenizer.vocabSize()).toArray();
    assertEquals(tokenizer.decode(known).strip(), r.answer().text());
    assertTrue(r.timings().mapNanos() > 0 && r.timings().answerNanos() > 0 && r.timings().baselineNanos() > 0, "timings recorded");
  }

  @Test
  void methodNoneAnswersWithTheImageAlone() {
    JsonNode c = meta.get("cases").get("cats_rel");
    ViCrop.Result r = vicrop(VicropFixtures.config()).run(VicropFixtures.image(c.get("image").asText()), c.get("question").asText(), Method.NONE,
        ViCrop.Options.DEFAULT);
    assertArrayEquals(VicropFixtures.ints(ref, "cats_rel.baseline_tokens"), r.answer().tokens());
    assertEquals(null, r.box());
    assertEquals(null, r.map());
  }

  // ---------------------------------------------------------------- bad input

  @Test
  void mapOfTheWrongSizeIsRefused() {
    ViCrop v = vicrop(VicropFixtures.config());
    RgbImage image = RgbImage.filled(640, 480, 10, 20, 30);
    ViCropException e = assertThrows(ViCropException.class, () -> v.selectBox(new ImportanceMap(5, 6, new float[30]), image, new int[] {1, 1}));
    assertTrue(e.getMessage().contains("5 x 6") && e.getMessage().contains("6 x 6"), e.getMessage());
    e = assertThrows(ViCropException.class, () -> v.selectBox(new ImportanceMap(6, 6, new float[36]), image, new int[] {2, 2}));
    assertTrue(e.getMessage().contains("12 x 12"), e.getMessage());
  }

  @Test
  void boxOutsideTheImageIsRefused() {
    RgbImage image = RgbImage.filled(100, 80, 1, 2, 3);
    ViCropException e = assertThrows(ViCropException.class, () -> Tiling.crop(image, new Box(50, 40, 120, 90)));
    assertTrue(e.getMessage().contains("(50, 40, 120, 90)") && e.getMessage().contains("100 x 80"), e.getMessage());
  }

  @Test
  void questionThatLeavesNoRoomForTwoImagesIsRefusedBeforeAnyWork() {
    ViCrop v = vicrop(VicropFixtures.config());
    String longQuestion = "Which of the many objects here is the oldest one? ".repeat(8);
    // the crop's answer prompt is refused up front (before any map is computed), with the numbers
    ViCropException e = assertThrows(ViCropException.class,
        () -> v.run(RgbImage.filled(300, 200, 1, 2, 3), longQuestion, Method.REL_ATT, ViCrop.Options.DEFAULT));
    assertTrue(e.getMessage().contains("no room") && e.getMessage().contains("2 image(s) x 36") && e.getMessage().contains("320"), e.getMessage());
  }

  /**
   * High resolution refuses, before any map, tiles smaller than the tower's input (84 px here) and
   * more than {@link Tiling#MAX_TILES} tiles, saying which threshold would do (the old code ran them all).
   */
  @Test
  void highResRefusesTilesUnderTheTowerInputAndTooManyTiles() {
    ViCrop.Options highRes = ViCrop.Options.DEFAULT.withHighRes(true);
    ViCrop small = vicrop(VicropFixtures.config().withHighResThreshold(64));
    ViCropException e = assertThrows(ViCropException.class, () -> small.run(RgbImage.filled(200, 150, 1, 2, 3), "What is it?", Method.REL_ATT, highRes));
    assertEquals("high-res threshold 64 px is smaller than the vision tower's input size, 84 px", e.getMessage());
    ViCrop many = vicrop(VicropFixtures.config().withHighResThreshold(84));
    e = assertThrows(ViCropException.class, () -> many.run(RgbImage.filled(1000, 800, 1, 2, 3), "What is it?", Method.REL_ATT, highRes));
    assertEquals("high-res threshold 84 px splits the 1000 x 800 image into 10 x 12 = 120 tiles, more than 64; use a threshold of 115 px or more",
        e.getMessage());
  }

  /** An answer bound near 2^31 is refused as too long for the context, not overflowed into a pass. */
  @Test
  void aHugeAnswerBoundIsRefusedByTheContextCheck() {
    ViCrop v = vicrop(VicropFixtures.config().withMaxNewTokens(Integer.MAX_VALUE));
    ViCropException e = assertThrows(ViCropException.class, () -> v.run(RgbImage.filled(300, 200, 1, 2, 3), "What is it?", Method.NONE,
        ViCrop.Options.DEFAULT));
    assertTrue(e.getMessage().contains("no room") && e.getMessage().contains("2147483647 answer tokens"), e.getMessage());
  }

  @Test
  void emptyImageListAndEmptyQuestionAreRefused() {
    ViCrop v = vicrop(VicropFixtures.config());
    ViCropException e = assertThrows(ViCropException.class, () -> v.answer(List.of(), "What is this?"));
    assertTrue(e.getMessage().contains("no image"), e.getMessage());
    e = assertThrows(ViCropException.class, () -> v.run(RgbImage.filled(10, 10, 0, 0, 0), "  ", Method.REL_ATT, ViCrop.Options.DEFAULT));
    assertTrue(e.getMessage().contains("question is empty"), e.getMessage());
  }

  @Test
  void layerBeyondTheModelIsRefused() {
    ViCrop v = vicrop(VicropFixtures.config().withLayer(3));
    ViCropException e = assertThrows(ViCropException.class,
        () -> v.run(RgbImage.filled(300, 200, 1, 2, 3), "What is this?", Method.GRAD_ATT, ViCrop.Options.DEFAULT));
    assertTrue(e.getMessage().contains("layer 3") && e.getMessage().contains("3 layers"), e.getMessage());
  }
}
