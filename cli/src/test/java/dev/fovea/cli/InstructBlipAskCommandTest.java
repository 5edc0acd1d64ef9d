package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.image.ImageProcessor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ask --question --image} on the llm module's tiny InstructBLIP fixture (56 px tower, 8
 * queries, a small WordPiece vocabulary for the Q-Former). The expected tokens are built by hand
 * from the pieces: the LLaMA prompt starts with LAVIS's {@code </s>} (2), the Q-Former reads
 * {@code [CLS] ... [SEP]}, the image goes through the folder's BlipImageProcessor.
 */
class InstructBlipAskCommandTest {
  static final Path MODEL = Path.of("../llm/src/test/resources/instructblip-reference/tiny");
  @TempDir Path tmp;

  Path image(String name, int w, int h, int seed) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt(1 << 24));
      }
    }
    Path p = tmp.resolve(name);
    ImageIO.write(img, "png", p.toFile());
    return p;
  }

  @Test
  void answersAsTheModelApiDoes() throws Exception {
    Path a = image("a.png", 50, 37, 1);
    String question = "What is the color of the cat?";
    var r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", question, "--image", a.toString(), "--max-new-tokens", "6",
        "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    JsonNode n = new ObjectMapper().readTree(r.out());
    try (var lm = InstructBlipForConditionalGeneration.load(MODEL); var scope = Scope.open()) {
      var tok = TokenizerLoader.load(MODEL);
      int[] text = tok.encode(question, false);
      int[] ids = new int[text.length + 1];
      ids[0] = 2; // LAVIS's BOS </s>
      System.arraycopy(text, 0, ids, 1, text.length);
      var wp = TokenizerLoader.fromVocabTxt(MODEL.resolve("qformer_tokenizer/vocab.txt"));
      int[] qids = wp.encode(question, true);
      assertEquals(101, qids[0], "[CLS] first");
      assertEquals(102, qids[qids.length - 1], "[SEP] last");
      assertTrue(java.util.Arrays.stream(qids).noneMatch(i -> i == 100), "every word of the question is in the tiny vocabulary");
      Tensor pixels = ImageProcessor.fromConfig(MODEL.resolve("preprocessor_config.json")).process(a).unsqueeze(0);
      assertArrayEquals(new int[] {1, 3, 56, 56}, pixels.shape());
      var in = lm.prepare(ids, qids, pixels);
      assertEquals(8 + ids.length, n.get("prompt_tokens").asInt());
      var want = Generator.generate(lm, in.toInputs(), GenerationConfig.maxNewTokens(6), Sampler.greedy(), tok, null);
      assertArrayEquals(want.tokens(), LlavaAskCommandTest.tokens(r.out()));
      // the time of each stage, which do not overlap: together within the total
      JsonNode stages = n.get("stages_ms");
      java.util.List<String> names = new java.util.ArrayList<>();
      stages.fieldNames().forEachRemaining(names::add);
      assertEquals(java.util.List.of("load", "page_in", "preprocess", "vision", "qformer", "projection", "prefill", "decode", "total"),
          names, stages.toString());
      double sum = 0;
      for (String k : new String[] {"load", "page_in", "preprocess", "vision", "qformer", "projection", "prefill", "decode"}) {
        assertTrue(stages.get(k).asDouble() >= 0, k + " in " + stages);
        sum += stages.get(k).asDouble();
      }
      assertTrue(stages.get("vision").asDouble() > 0 && stages.get("prefill").asDouble() > 0, stages.toString());
      assertTrue(sum <= stages.get("total").asDouble() + 1, stages.toString());
      // the instruction reaches the Q-Former: another question about the same image changes the queries
      var other = lm.queryOutput(pixels, wp.encode("Describe this picture.", true)).toFloatArray();
      var same = lm.queryOutput(pixels, qids).toFloatArray();
      assertTrue(!java.util.Arrays.equals(other, same), "the Q-Former output depends on the instruction");
    }
  }

  /** convert carries the Q-Former vocabulary into the archive; ask on the archive answers as on the folder. */
  @Test
  void convertedArchiveAnswersAsTheFolder() throws Exception {
    Path a = image("a.png", 40, 60, 9);
    Path archive = tmp.resolve("iblip.fovea");
    var c = LlamaAskCommandTest.run("convert", MODEL.toString(), "--output", archive.toString(), "--dtype", "f32");
    assertEquals(0, c.code(), c.err());
    var inspect = LlamaAskCommandTest.run("inspect", archive.toString());
    assertEquals(0, inspect.code(), inspect.err());
    assertTrue(inspect.out().contains("qformer_tokenizer/vocab.txt"), inspect.out());
    String[] common = {"--image", a.toString(), "--question", "What is the color of the cat?", "--max-new-tokens", "5", "--json", "--no-progress"};
    var fromFolder = LlamaAskCommandTest.run(concat(new String[] {"ask", "--model", MODEL.toString()}, common));
    var fromArchive = LlamaAskCommandTest.run(concat(new String[] {"ask", "--model", archive.toString()}, common));
    assertEquals(0, fromFolder.code(), fromFolder.err());
    assertEquals(0, fromArchive.code(), fromArchive.err());
    assertArrayEquals(LlavaAskCommandTest.tokens(fromFolder.out()), LlavaAskCommandTest.tokens(fromArchive.out()));
  }

  static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void contrastiveDecodingRuns() throws Exception {
    Path a = image("a.png", 50, 37, 4);
    var avc = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "What is in this image?", "--image", a.toString(),
        "--decode", "avc", "--max-new-tokens", "4", "--json", "--no-progress");
    assertEquals(0, avc.code(), avc.err());
    JsonNode n = new ObjectMapper().readTree(avc.out());
    assertEquals("avc", n.get("decode").asText());
    assertTrue(n.get("blind_positions").size() >= 1);
    n.get("blind_positions").forEach(p -> assertTrue(p.asInt() >= 0 && p.asInt() < 8, "blind positions are query positions 0..7: " + p));
    var vcd = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "What is in this image?", "--image", a.toString(),
        "--decode", "vcd", "--max-new-tokens", "4", "--json", "--no-progress");
    assertEquals(0, vcd.code(), vcd.err());
    assertEquals(500, new ObjectMapper().readTree(vcd.out()).get("noise_step").asInt());
    Path mask = tmp.resolve("mask.png");
    var agla = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Is there a cat in the image?", "--image", a.toString(),
        "--decode", "agla", "--blip", AglaCommandTest.BLIP.toString(), "--blip-layer", "1", "--mask-out", mask.toString(), "--max-new-tokens", "4",
        "--json", "--no-progress");
    assertEquals(0, agla.code(), agla.err());
    JsonNode g = new ObjectMapper().readTree(agla.out());
    assertEquals("agla", g.get("decode").asText());
    assertEquals(1, g.get("itc").size());
    assertTrue(java.nio.file.Files.size(mask) > 0);
  }

  @Test
  void refusesWhatInstructBlipCannotDo() throws Exception {
    Path a = image("a.png", 20, 20, 2);
    var two = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q", "--image", a.toString(), "--image", a.toString(),
        "--no-progress");
    assertNotEquals(0, two.code());
    assertTrue(two.err().contains("exactly one image"), two.err());
    var vcd = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q", "--image", a.toString(), "--pad", "--no-progress");
    assertNotEquals(0, vcd.code());
    assertTrue(vcd.err().contains("LLaVA options"), vcd.err());

  }
}
