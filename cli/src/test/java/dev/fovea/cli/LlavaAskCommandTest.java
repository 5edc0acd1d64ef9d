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
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaImages;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.Scope;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.StreamSupport;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ask --question --image} on the llm module's tiny LLaVA fixture (28 px tower, 4 tokens per image). */
class LlavaAskCommandTest {
  static final Path MODEL = Path.of("../llm/src/test/resources/llava-reference/tiny");
  @TempDir Path tmp;

  Path image(String name, int w, int h, int seed) throws Exception {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    java.util.Random r = new java.util.Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt(1 << 24));
      }
    }
    Path p = tmp.resolve(name);
    ImageIO.write(img, "png", p.toFile());
    return p;
  }

  static int[] tokens(String json) throws Exception {
    JsonNode n = new ObjectMapper().readTree(json);
    return StreamSupport.stream(n.get("tokens").spliterator(), false).mapToInt(JsonNode::asInt).toArray();
  }

  @Test
  void twoImagesAnswerAsTheApiDoes() throws Exception {
    Path a = image("a.png", 40, 30, 1);
    Path b = image("b.png", 28, 50, 2);
    var r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "What differs?", "--image", a.toString(), "--image", b.toString(),
        "--max-new-tokens", "6", "--json", "--no-progress");
    assertEquals(0, r.code(), r.err());
    JsonNode n = new ObjectMapper().readTree(r.out());
    try (var lm = LlavaForConditionalGeneration.load(MODEL); var scope = Scope.open()) {
      var tok = TokenizerLoader.load(MODEL);
      int[] ids = LlavaPrompt.tokenize(tok, LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "What differs?", 2), lm.config.imageTokenIndex());
      var pre = LlavaImages.preprocessorConfig(lm.config, Files.readAllBytes(MODEL.resolve("preprocessor_config.json")), null, LlavaImages.Mode.CHECKPOINT);
      LlavaInputs in = lm.prepare(ids, LlavaImages.pixels(List.of(a, b), pre));
      assertEquals(ids.length - 2 + 2 * 4, n.get("prompt_tokens").asInt());
      assertEquals(2, in.imageSpans().size());
      var want = Generator.generate(lm, in.toInputs(), GenerationConfig.maxNewTokens(6), Sampler.greedy(), tok, null);
      assertArrayEquals(want.tokens(), tokens(r.out()));
    }
  }

  @Test
  void padAndCropAndTemplatesRun() throws Exception {
    Path a = image("wide.png", 60, 20, 3);
    var crop = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q", "--image", a.toString(), "--crop", "--max-new-tokens", "8",
        "--json", "--no-progress");
    var pad = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q", "--image", a.toString(), "--pad", "--system", "llava_v1",
        "--max-new-tokens", "8", "--json", "--no-progress");
    assertEquals(0, crop.code(), crop.err());
    assertEquals(0, pad.code(), pad.err());
    assertTrue(new ObjectMapper().readTree(pad.out()).get("prompt_tokens").asInt() > new ObjectMapper().readTree(crop.out()).get("prompt_tokens").asInt());
    assertNotEquals(crop.out(), pad.out());
  }

  @Test
  void markerCountMismatchIsAnError() throws Exception {
    Path a = image("a.png", 28, 28, 4);
    var r = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "<image> or <image>?", "--image", a.toString(), "--no-progress");
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("2 <image> marker(s)") && r.err().contains("1 image(s)"), r.err());
    var both = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q", "--prompt", "P");
    assertNotEquals(0, both.code());
  }

  /**
   * The original haotian-liu folder (same weights as MODEL) asks with its own defaults: vicuna_v1
   * template and padding to square. So its answer equals the llava-hf folder's with --system
   * vicuna_v1 --pad; its archive (convert --vision-tower) answers the same again.
   */
  @Test
  void originalLayoutAnswersAsTheLlavaHfFolderWithItsSettings() throws Exception {
    Path original = MODEL.resolveSibling("tiny-original");
    Path tower = MODEL.resolveSibling("tiny-original-clip");
    Path a = image("wide.png", 60, 20, 5);
    var orig = LlamaAskCommandTest.run("ask", "--model", original.toString(), "--vision-tower", tower.toString(), "--question", "Q", "--image",
        a.toString(), "--max-new-tokens", "8", "--json", "--no-progress");
    var hf = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--question", "Q", "--image", a.toString(), "--system", "vicuna_v1", "--pad",
        "--max-new-tokens", "8", "--json", "--no-progress");
    assertEquals(0, orig.code(), orig.err());
    assertEquals(0, hf.code(), hf.err());
    assertArrayEquals(tokens(hf.out()), tokens(orig.out()));
    assertEquals(new ObjectMapper().readTree(hf.out()).get("prompt_tokens"), new ObjectMapper().readTree(orig.out()).get("prompt_tokens"));

    Path archive = tmp.resolve("orig.fovea");
    var conv = LlamaAskCommandTest.run("convert", original.toString(), "-o", archive.toString(), "--vision-tower", tower.toString(), "--no-progress");
    assertEquals(0, conv.code(), conv.err());
    // the archive carries the folder's tokenizer.bin and the synthesized config, so it asks with
    // the original's defaults (vicuna_v1, pad) and gives the same answer
    try (var reader = dev.fovea.tensor.archive.ArchiveReader.open(archive)) {
      assertTrue(reader.fileNames().contains("tokenizer.bin"), "archive files: " + reader.fileNames());
    }
    var fromArchive = LlamaAskCommandTest.run("ask", "--model", archive.toString(), "--question", "Q", "--image", a.toString(), "--max-new-tokens", "8",
        "--json", "--no-progress");
    assertEquals(0, fromArchive.code(), fromArchive.err());
    assertArrayEquals(tokens(orig.out()), tokens(fromArchive.out()));
    assertEquals(new ObjectMapper().readTree(orig.out()).get("prompt_tokens"), new ObjectMapper().readTree(fromArchive.out()).get("prompt_tokens"));
    var wrong = LlamaAskCommandTest.run("ask", "--model", MODEL.toString(), "--vision-tower", tower.toString(), "--question", "Q", "--image", a.toString(),
        "--no-progress");
    assertNotEquals(0, wrong.code());
    assertTrue(wrong.err().contains("--vision-tower goes with an original LLaVA folder"), wrong.err());
  }
}
