package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval pope} on the tiny InstructBLIP: every record answered as {@code ask} answers it; avc runs over the query positions. */
class InstructBlipEvalCommandTest {
  static final Path MODEL = InstructBlipAskCommandTest.MODEL;
  static final String SUFFIX = " Please answer this question with one word.";
  @TempDir Path tmp;

  @Test
  void evalPopeAnswersAsAskDoes() throws Exception {
    Path images = ClipClassifyCommandTest.sharedImage("000000039769.png").getParent();
    ClipClassifyCommandTest.sharedImage("coffee.png");
    Path out = tmp.resolve("pope.jsonl");
    var r = LlamaAskCommandTest.run("eval", "pope", "--model", MODEL.toString(), "--data",
        Path.of("../methods/src/test/resources/pope/sample_pope.jsonl").toString(), "--images", images.toString(), "--max-new-tokens", "3", "--out",
        out.toString(), "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    assertEquals(3, new ObjectMapper().readTree(r.out()).get("answered").asInt());
    List<String> lines = Files.readAllLines(out);
    assertEquals("instructblip", new ObjectMapper().readTree(lines.get(0)).get("settings").get("template").asText());
    JsonNode first = new ObjectMapper().readTree(lines.get(1));
    assertEquals("Is there a cat in the image?" + SUFFIX, first.get("prompt").asText());
    var a = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--image", ClipClassifyCommandTest.sharedImage("000000039769.png").toString(),
        "--question", first.get("prompt").asText(), "--max-new-tokens", "3", "--json", "--no-progress");
    assertEquals(0, a.code(), a.err());
    assertEquals(new ObjectMapper().readTree(a.out()).get("text").asText(), first.get("answer").asText());

    Path avcOut = tmp.resolve("pope-avc.jsonl");
    var avc = LlamaAskCommandTest.run("eval", "pope", "--model", MODEL.toString(), "--data",
        Path.of("../methods/src/test/resources/pope/sample_pope.jsonl").toString(), "--images", images.toString(), "--max-new-tokens", "3", "--out",
        avcOut.toString(), "--json", "--no-progress", "--decode", "avc");
    assertEquals(0, avc.code(), avc.err());
    JsonNode rec = new ObjectMapper().readTree(Files.readAllLines(avcOut).get(1));
    assertTrue(rec.toString().contains("blind_positions"), rec.toString());
  }
}
