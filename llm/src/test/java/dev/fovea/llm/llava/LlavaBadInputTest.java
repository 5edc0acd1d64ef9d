package dev.fovea.llm.llava;

import static dev.fovea.llm.llava.LlavaFixtures.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Wrong prompts, images, configs and checkpoints fail with a LlavaException that says what is wrong. */
class LlavaBadInputTest {

  private static void fails(Executable e, String... words) {
    RuntimeException x = assertThrows(RuntimeException.class, e);
    for (String w : words) {
      assertTrue(x.getMessage().contains(w), "message lacks \"" + w + "\": " + x.getMessage());
    }
  }

  /** A LLaVA model closed under a decoding thread: that decode ends with a ModelClosedException, as the decoder's own. */
  @Test
  void closeWhileDecodingIsAClearError() throws Exception {
    var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir());
    var state = model.prefill(dev.fovea.llm.generate.Inputs.ids(1, 17, 250), 32);
    var inside = new java.util.concurrent.CountDownLatch(1);
    var closed = new java.util.concurrent.CountDownLatch(1);
    model.addForwardHook("language_model.model.layers.0", dev.fovea.nn.ForwardHook.reading((path, out) -> {
      inside.countDown();
      try {
        closed.await(60, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
    Thread decoder = new Thread(() -> {
      try {
        model.step(state, 33);
      } catch (Throwable e) {
        failure.set(e);
      }
    });
    decoder.start();
    assertTrue(inside.await(60, java.util.concurrent.TimeUnit.SECONDS), "the decoding thread never reached layer 0");
    model.close();
    closed.countDown();
    decoder.join(60_000);
    assertTrue(failure.get() instanceof dev.fovea.llm.llama.ModelClosedException, "got " + failure.get());
    assertTrue(failure.get().getMessage().contains("the model was closed while decoding"), failure.get().getMessage());
    assertThrows(dev.fovea.llm.llama.ModelClosedException.class, () -> model.step(state, 33));
    state.close();
  }

  @Test
  void markerAndImageCountsMustAgree() {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
      int[] two = ints(ref, "two.prompt_ids");
      int[] one = ints(ref, "one.prompt_ids");
      Tensor onePixels = ref.get("one.pixels");
      Tensor twoPixels = ref.get("two.pixels");
      assertThrows(LlavaException.class, () -> model.prepare(two, onePixels));
      fails(() -> model.prepare(two, onePixels), "2 <image> marker(s)", "1 image(s)");
      fails(() -> model.prepare(one, twoPixels), "1 <image> marker(s)", "2 image(s)");
      fails(() -> model.prepare(one, null), "no image was given");
      fails(() -> model.prepare(new int[] {1, 5, 6}, onePixels), "0 <image> marker(s)", "1 image(s)");
      int[] run3 = {1, 512, 512, 512, 7};
      // adjacent markers short of an expanded image (N = 4 here) are one image each ("<image><image>")
      fails(() -> model.prepare(run3, onePixels), "3 <image> marker(s)", "1 image(s)");
      assertEquals(List.of(new ImageSpan(1, 5), new ImageSpan(5, 9)), model.prepare(new int[] {1, 512, 512, 7}, twoPixels).imageSpans());
      fails(() -> model.prepare(one, Tensor.zeros(1, 3, 14, 14)), "must be [n, 3, 28, 28]");
    }
  }

  @Test
  void contextTooLong() {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
      int[] ids = new int[126];
      Arrays.fill(ids, 7);
      ids[0] = 1;
      ids[3] = 512; // 125 text + 4 image = 129 > 128
      fails(() -> model.prepare(ids, ref.get("one.pixels")), "context too long", "129 positions", "128");
      LlavaInputs in = model.prepare(ints(ref, "one.prompt_ids"), ref.get("one.pixels"));
      fails(() -> model.prefill(in, 10), "context too long");
    }
  }

  @Test
  void configErrorsNameTheKey() {
    String json = new String(LlavaFixtures.configJson(), StandardCharsets.UTF_8);
    fails(() -> LlavaConfig.fromJson(json.replace("\"vision_feature_layer\": -2", "\"vision_feature_layer\": [-2, -5]").getBytes(), "cfg"),
        "vision_feature_layer is a list");
    fails(() -> LlavaConfig.fromJson(json.replace("\"vision_feature_layer\": -2", "\"vision_feature_layer\": -9").getBytes(), "cfg"),
        "vision_feature_layer -9");
    fails(() -> LlavaConfig.fromJson(json.replace("\"image_seq_length\": 4", "\"image_seq_length\": 576").getBytes(), "cfg"),
        "image_seq_length 576");
    fails(() -> LlavaConfig.fromJson(json.replace("\"model_type\": \"llava\"", "\"model_type\": \"llama\"").getBytes(), "cfg"), "expected \"llava\"");
    fails(() -> LlavaConfig.fromJson("{\"model_type\": \"llava\", \"mm_vision_tower\": \"openai/clip-vit-large-patch14-336\"}".getBytes(), "orig"),
        "original haotian-liu", "--vision-tower");
  }

  @Test
  void missingTensorIsNamed() {
    try (WeightSource src = dev.fovea.tensor.io.WeightFiles.open(LlavaFixtures.dir().resolve("model.safetensors"))) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (String n : src.names()) {
        if (!n.equals("multi_modal_projector.linear_2.bias")) {
          m.put(n, src.get(n));
        }
      }
      fails(() -> LlavaForConditionalGeneration.load(WeightSource.of(m), LlavaFixtures.configJson(), "cfg"), "multi_modal_projector.linear_2.bias");
    }
  }
}
