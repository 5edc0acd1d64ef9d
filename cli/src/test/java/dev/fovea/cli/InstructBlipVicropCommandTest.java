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
import java.nio.file.Files;
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

  /** eval vqa with rel-att: each question answered as vicrop answers it, the box recorded, the prompt template in the settings. */
  @Test
  void evalVqaRunsViCropOnInstructBlip() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    var a = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question", "What is on the couch?",
        "--method", "rel-att", "--layer", "1", "--json", "--no-progress");
    assertEquals(0, a.code(), a.err());
    JsonNode want = new ObjectMapper().readTree(a.out());
    ObjectMapper om = new ObjectMapper();
    Path data = tmp.resolve("q.jsonl");
    Files.writeString(data, om.writeValueAsString(java.util.Map.of("question_id", "q1", "image", "000000039769.png", "question",
        "What is on the couch?", "answers", java.util.Collections.nCopies(10, want.get("answer").asText()))) + "\n");
    Path out = tmp.resolve("results.jsonl");
    var r = LlamaAskCommandTest.run("eval", "vqa", "--model", MODEL.toString(), "--data", data.toString(), "--images", image.getParent().toString(),
        "--method", "rel-att", "--layer", "1", "--out", out.toString(), "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    assertEquals(100.0, om.readTree(r.out()).get("all").get("accuracy").asDouble(), 1e-9, "the same answer as vicrop gives");
    List<String> lines = Files.readAllLines(out);
    JsonNode header = om.readTree(lines.get(0));
    assertEquals("Question: {question} Short answer:", header.get("settings").get("prompt").asText());
    assertEquals(want.get("box"), om.readTree(lines.get(1)).get("box"));
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
    assertTrue(bad.err().contains("--layer") && bad.err().contains("got 15"), "InstructBLIP's default LLM layer is 15: " + bad.err());
  }
}
