package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code fovea ask --decode vcd|avc} on the methods module's tiny reference LLaVA. */
class ContrastiveAskCommandTest {
  static final Path MODEL = VicropCommandTest.MODEL;

  static JsonNode ask(String... extra) throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    List<String> args = new ArrayList<>(List.of("ask", "--model", MODEL.toString(), "--image", image.toString(), "--question", "Is there a cat?",
        "--max-new-tokens", "6", "--json", "--no-progress"));
    args.addAll(List.of(extra));
    var r = LlamaAskCommandTest.run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void avcReportsItsBlindTokensAndBatchesItsBranches() throws Exception {
    JsonNode a = ask("--decode", "avc");
    assertEquals("avc", a.get("decode").asText());
    assertTrue(a.get("branches_batched").asBoolean());
    assertTrue(a.get("blind_tokens").size() > 0 && a.get("blind_tokens").size() < 36, a.toString());
    // positions = the image span's start (after BOS and "USER: ") + the index within the span
    int start = a.get("blind_positions").get(0).asInt() - a.get("blind_tokens").get(0).asInt();
    assertTrue(start > 1 && start + 36 < a.get("prompt_tokens").asInt(), a.toString());
    for (int i = 0; i < a.get("blind_tokens").size(); i++) {
      assertEquals(start + a.get("blind_tokens").get(i).asInt(), a.get("blind_positions").get(i).asInt());
    }
    assertEquals(6, a.get("tokens").size());
    assertEquals(5, a.get("step_ms").size());
    // the same seed gives the same answer; the reference layout (two states) too
    assertEquals(a.get("tokens"), ask("--decode", "avc").get("tokens"));
    JsonNode seq = ask("--decode", "avc", "--sequential-branches");
    assertFalse(seq.get("branches_batched").asBoolean());
    assertEquals(a.get("tokens"), seq.get("tokens"));
    assertEquals(a.get("blind_tokens"), seq.get("blind_tokens"));
  }

  @Test
  void vcdReportsItsParametersAndASeedChangesTheAnswer() throws Exception {
    JsonNode v = ask("--decode", "vcd", "--alpha", "2", "--beta", "0.2", "--noise-step", "999");
    assertEquals(2.0, v.get("alpha").asDouble());
    assertEquals(0.2, v.get("beta").asDouble(), 1e-6);
    assertEquals(999, v.get("noise_step").asInt());
    assertTrue(v.get("branches_batched").asBoolean());
    JsonNode other = ask("--decode", "vcd", "--alpha", "2", "--beta", "0.2", "--noise-step", "999", "--seed", "7");
    assertFalse(v.get("tokens").equals(other.get("tokens")), "seed 42 and 7 gave the same sampled answer");
  }

  @Test
  void optionsOfTheWrongMethodOrWithoutAnImageAreUsageErrors() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    var r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--image", image.toString(), "--question", "Q?", "--decode", "vcd",
        "--lambda", "2");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --lambda needs --decode avc (got --decode vcd)"), r.err());
    r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q?", "--decode", "avc");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--decode avc contrasts answers about an image: it needs --question and --image"), r.err());
    r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--image", image.toString(), "--question", "Q?", "--decode", "icd");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--decode must be none, vcd, avc or agla, got \"icd\""), r.err());
    r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--image", image.toString(), "--question", "Q?", "--decode", "avc",
        "--layer-p", "0");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --layer-p must be within (0, 1], got 0"), r.err());
  }
}
