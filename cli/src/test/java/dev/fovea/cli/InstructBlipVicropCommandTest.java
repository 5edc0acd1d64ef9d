package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.methods.vicrop.InstructBlipImportance;
import dev.fovea.methods.vicrop.InstructBlipViCrop;
import dev.fovea.methods.vicrop.Method;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.ImageProcessor;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vicrop} on the tiny InstructBLIP: the same box and answer as the method's API; the released-code parity option fails as that code does. */
class InstructBlipVicropCommandTest {
  static final Path MODEL = InstructBlipAskCommandTest.MODEL;
  @TempDir Path tmp;

  @Test
  void vicropAnswersWithTheCropAsTheApiDoes() throws Exception {
    var helper = new InstructBlipAskCommandTest();
    helper.tmp = tmp;
    Path a = helper.image("scene.png", 160, 120, 7);
    for (String method : new String[] {"rel-att", "grad-att", "pure-grad"}) {
      var r = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", a.toString(), "--question", "What is the color of the cat?",
          "--method", method, "--layer", "1", "--max-new-tokens", "4", "--baseline", "--json", "--no-progress");
      assertEquals(0, r.code(), r.err());
      JsonNode n = new ObjectMapper().readTree(r.out());
      assertEquals(List.of(4, 4), List.of(n.get("map_size").get(0).asInt(), n.get("map_size").get(1).asInt()));
      try (var lm = InstructBlipForConditionalGeneration.load(MODEL)) {
        var vc = new InstructBlipViCrop(lm, TokenizerLoader.load(MODEL), TokenizerLoader.fromVocabTxt(MODEL.resolve("qformer_tokenizer/vocab.txt")),
            ImageProcessor.fromConfig(MODEL.resolve("preprocessor_config.json")),
            new InstructBlipImportance.Layers(2, 1, InstructBlipImportance.Columns.INTENDED), ViCropConfig.defaults().withMaxNewTokens(4));
        var want = vc.run(ImageDecoder.read(a), "What is the color of the cat?", Method.named(method));
        var box = want.box();
        assertEquals(List.of(box.x1(), box.y1(), box.x2(), box.y2()), List.of(n.get("box").get(0).asInt(), n.get("box").get(1).asInt(),
            n.get("box").get(2).asInt(), n.get("box").get(3).asInt()), method);
        assertEquals(want.answer().text(), n.get("answer").asText(), method);
        assertTrue(n.has("baseline"));
      }
    }
  }

  @Test
  void releasedColumnsFailAsTheReleasedCodeDoes() throws Exception {
    var helper = new InstructBlipAskCommandTest();
    helper.tmp = tmp;
    Path a = helper.image("scene.png", 64, 64, 8);
    var r = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", a.toString(), "--question", "What is this?", "--layer", "1",
        "--released-columns", "--no-progress");
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("released blip_methods.py"), r.err());
    var bad = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", a.toString(), "--question", "What is this?", "--no-progress");
    assertNotEquals(0, bad.code());
    assertTrue(bad.err().contains("--layer"), bad.err());
  }
}
