package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.RgbImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fovea ask --decode agla} and {@code eval pope --decode agla} on the methods module's tiny
 * LLaVA and vit's tiny BLIP (layer 1 of its 3 text layers). The masked image and the ITC cosine are
 * the reference's (tools/reference/agla/make_agla_reference.py) for the same question.
 */
class AglaCommandTest {
  static final Path MODEL = VicropCommandTest.MODEL;
  static final Path BLIP = Path.of("../vit/src/test/resources/blip-reference/tiny");
  static final Path REF = Path.of("../methods/src/test/resources/agla-reference");
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  static LlamaAskCommandTest.Run ask(String... extra) throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    List<String> args = new ArrayList<>(List.of("ask", "--model", MODEL.toString(), "--image", image.toString(), "--question",
        "Is there a cat in the image?", "--max-new-tokens", "6", "--json", "--no-progress"));
    args.addAll(List.of(extra));
    return LlamaAskCommandTest.run(args.toArray(String[]::new));
  }

  @Test
  void askWithAglaWritesTheReferencesMaskedImageAndReportsTheMatch() throws Exception {
    Path png = tmp.resolve("masked.png");
    var r = ask("--decode", "agla", "--blip", BLIP.toString(), "--blip-layer", "1", "--mask-out", png.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode a = JSON.readTree(r.out());
    JsonNode meta = JSON.readTree(REF.resolve("reference.json").toFile()).get("cases").get("cats");
    assertEquals("agla", a.get("decode").asText());
    assertEquals(2.0, a.get("alpha").asDouble());
    assertEquals(0.5, a.get("beta").asDouble());
    assertEquals("[ENC]", a.get("itm_first_token").asText());
    assertEquals(meta.get("sim").asDouble(), a.get("itc").get(0).asDouble(), 1e-5);
    assertEquals(meta.get("kept").asInt() / 9216.0, a.get("kept_share").get(0).asDouble(), 1e-4);
    assertTrue(a.get("branches_batched").asBoolean());
    assertEquals(6, a.get("tokens").size());
    RgbImage masked = ImageDecoder.read(png);
    try (WeightSource ref = WeightFiles.open(REF.resolve("reference.safetensors"))) {
      long[] want = ref.get("cats.augmented").toLongArray();
      byte[] got = masked.toByteArray();
      assertEquals(want.length, got.length);
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], got[i] & 0xFF, "masked image byte " + i);
      }
    }
    // the same seed, the same answer; two states instead of one batch, the same answer
    var again = JSON.readTree(ask("--decode", "agla", "--blip", BLIP.toString(), "--blip-layer", "1").out());
    assertEquals(a.get("tokens"), again.get("tokens"));
    var seq = JSON.readTree(ask("--decode", "agla", "--blip", BLIP.toString(), "--blip-layer", "1", "--sequential-branches").out());
    assertFalse(seq.get("branches_batched").asBoolean());
    assertEquals(a.get("tokens"), seq.get("tokens"));
  }

  @Test
  void usageErrors() throws Exception {
    var r = ask("--decode", "agla", "--blip", BLIP.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --blip-layer must be within [0, 2] (the BLIP text layers), got 6"), r.err());
    r = ask("--blip", BLIP.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --blip needs --decode agla (got --decode none)"), r.err());
    r = ask("--decode", "vcd", "--mask-out", tmp.resolve("m.png").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --mask-out needs --decode agla (got --decode vcd)"), r.err());
    r = ask("--decode", "agla", "--blip", tmp.resolve("nope").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --blip " + tmp.resolve("nope") + ": no such folder"), r.err());
    r = ask("--decode", "agla", "--blip", BLIP.toString(), "--blip-layer", "-1");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea ask: --blip-layer must be within [0, 1023], got -1"), r.err());
    if (System.getenv(DecodeOptions.BLIP_ENV) == null) {
      r = ask("--decode", "agla");
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().startsWith("fovea ask: --decode agla needs --blip DIR"), r.err());
    }
  }

  @Test
  void evalPopeWithAglaRecordsTheMatchOfTheBareQuestion() throws Exception {
    Path images = ClipClassifyCommandTest.sharedImage("000000039769.png").getParent();
    ClipClassifyCommandTest.sharedImage("coffee.png");
    Path out = tmp.resolve("agla.jsonl");
    var r = LlamaAskCommandTest.run("eval", "pope", "--model", MODEL.toString(), "--data",
        Path.of("../methods/src/test/resources/pope/sample_pope.jsonl").toString(), "--images", images.toString(), "--max-new-tokens", "3",
        "--out", out.toString(), "--json", "--no-progress", "--decode", "agla", "--blip", BLIP.toString(), "--blip-layer", "1");
    assertEquals(0, r.code(), r.err());
    List<String> lines = Files.readAllLines(out);
    assertEquals(4, lines.size());
    JsonNode settings = JSON.readTree(lines.get(0)).get("settings");
    assertEquals("2.0", settings.get("alpha").asText());
    assertEquals("0.5", settings.get("beta").asText());
    assertEquals("1", settings.get("blip_layer").asText());
    JsonNode first = JSON.readTree(lines.get(1));
    assertEquals("agla", first.get("method").asText());
    // BLIP scored "Is there a cat in the image?" without the answer-format suffix: the reference's cosine for it
    double sim = JSON.readTree(REF.resolve("reference.json").toFile()).get("cases").get("cats").get("sim").asDouble();
    assertEquals(sim, first.get("itc").get(0).asDouble(), 1e-5, first.toString());
  }

  @Test
  void evalRefusesABlipLayerOutOfRangeBeforeWritingResults() throws Exception {
    Path images = ClipClassifyCommandTest.sharedImage("000000039769.png").getParent();
    Path out = tmp.resolve("agla.jsonl");
    var r = LlamaAskCommandTest.run("eval", "pope", "--model", MODEL.toString(), "--data",
        Path.of("../methods/src/test/resources/pope/sample_pope.jsonl").toString(), "--images", images.toString(), "--out", out.toString(),
        "--no-progress", "--decode", "agla", "--blip", BLIP.toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("fovea eval pope: --blip-layer must be within [0, 2] (the BLIP text layers), got 6"), r.err());
    assertFalse(Files.exists(out), "no results file");
  }

  /** ViCrop's crop answered with AGLA's assembly: both images (original, crop) masked by BLIP; without --decode the answer stays greedy. */
  @Test
  void vicropComposesWithAgla() throws Exception {
    Path image = ClipClassifyCommandTest.sharedImage("000000039769.png");
    var r = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question", "Is there a cat in the image?",
        "--layer", "1", "--max-new-tokens", "4", "--json", "--no-progress", "--decode", "agla", "--blip", BLIP.toString(), "--blip-layer", "1",
        "--baseline");
    assertEquals(0, r.code(), r.err());
    JsonNode j = JSON.readTree(r.out());
    JsonNode reports = j.get("decoding");
    assertEquals(2, reports.size(), j.toString()); // the baseline (original only), then original + crop
    assertEquals("agla", reports.get(0).get("decode").asText());
    assertEquals(1, reports.get(0).get("itc").size());
    assertEquals(2, reports.get(1).get("itc").size());
    double sim = JSON.readTree(REF.resolve("reference.json").toFile()).get("cases").get("cats").get("sim").asDouble();
    assertEquals(sim, reports.get(1).get("itc").get(0).asDouble(), 1e-5, "the original image's match");
    var plain = LlamaAskCommandTest.run("vicrop", "--model", MODEL.toString(), "--image", image.toString(), "--question",
        "Is there a cat in the image?", "--layer", "1", "--max-new-tokens", "4", "--json", "--no-progress");
    assertEquals(0, plain.code(), plain.err());
    assertEquals(null, JSON.readTree(plain.out()).get("decoding"));
  }

  @Test
  void evalMmeWithAgla() throws Exception {
    Path out = tmp.resolve("mme.jsonl");
    var r = LlamaAskCommandTest.run("eval", "mme", "--model", MODEL.toString(), "--data", Path.of("../methods/src/test/resources/mme").toString(),
        "--subtasks", "existence", "--max-new-tokens", "2", "--out", out.toString(), "--json", "--no-progress", "--decode", "agla", "--blip",
        BLIP.toString(), "--blip-layer", "2", "--alpha", "1");
    assertEquals(0, r.code(), r.err());
    assertEquals(4, JSON.readTree(r.out()).get("answered").asInt());
    List<String> lines = Files.readAllLines(out);
    assertEquals("agla", JSON.readTree(lines.get(0)).get("method").asText());
    assertEquals("2", JSON.readTree(lines.get(0)).get("settings").get("blip_layer").asText());
    assertEquals("1.0", JSON.readTree(lines.get(0)).get("settings").get("alpha").asText());
    for (int i = 1; i < lines.size(); i++) {
      JsonNode rec = JSON.readTree(lines.get(i));
      double itc = rec.get("itc").get(0).asDouble();
      double kept = rec.get("kept_share").get(0).asDouble();
      assertTrue(itc >= -1 && itc <= 1 && kept > 0 && kept <= 1, rec.toString());
    }
  }
}
