package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.testing.TestBackend;
import dev.fovea.vit.image.RgbImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole ViCrop pipeline (map, box, answer with [original, crop], baseline) with the tiny
 * reference LLaVA moved to the test device ({@link TestBackend}: storage host code cannot read,
 * the CPU kernels behind it), against the same pipeline on the CPU, for each map: rel-att,
 * grad-att (backward through the language model on the device), pure-grad (backward to the
 * pixels through the vision tower, with checkpointing), and rel-att at high resolution. The CPU
 * path is the expected value; {@link ViCropReferenceTest} checks it against PyTorch. Measured
 * difference of every map: 0 (the same kernels); asserts allow 1e-6 of the map's max, and the
 * box and answer tokens must be equal.
 */
class ViCropDeviceTest extends TinyLlavaReferenceBase {
  static final Device DEVICE = new Device(TestBackend.KIND, 3);
  static LlavaForConditionalGeneration onDevice;

  @BeforeAll
  static void move() {
    Backends.of(DEVICE);
    onDevice = VicropFixtures.model().to(DEVICE);
  }

  @AfterAll
  static void closeDeviceModel() {
    onDevice.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"cats_rel", "cats_grad", "cats_pure", "coffee_grad", "cats_rel_high"})
  void vicropOnTheDeviceEqualsTheCpu(String name) {
    JsonNode c = meta.get("cases").get(name);
    RgbImage image = VicropFixtures.image(c.get("image").asText());
    boolean highRes = !c.get("high_res_threshold").isNull();
    ViCropConfig config = VicropFixtures.config();
    if (highRes) {
      config = config.withHighResThreshold(c.get("high_res_threshold").asInt());
    }
    ViCrop.Options options = ViCrop.Options.DEFAULT.withHighRes(highRes).withBaseline(true);
    Method method = Method.named(c.get("method").asText());
    ViCrop.Result want = new ViCrop(model, tokenizer, VicropFixtures.preprocessing(model), config).run(image, c.get("question").asText(), method, options);
    ViCrop.Result got = new ViCrop(onDevice, tokenizer, VicropFixtures.preprocessing(onDevice), config).run(image, c.get("question").asText(), method, options);
    double err = LlavaImportanceReferenceTest.relToMax(got.map().values(), want.map().values());
    System.out.printf("vicrop %s on %s: map max |difference| / max |map| %.3g%n", name, DEVICE, err);
    assertTrue(err <= 1e-6, name + " map difference " + err);
    assertEquals(want.box(), got.box(), "box");
    assertArrayEquals(want.answer().tokens(), got.answer().tokens(), "answer tokens");
    assertArrayEquals(want.baseline().tokens(), got.baseline().tokens(), "baseline tokens");
    assertEquals(want.answer().text(), got.answer().text());
  }
}
