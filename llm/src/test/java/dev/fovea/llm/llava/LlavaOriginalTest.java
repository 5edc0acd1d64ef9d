package dev.fovea.llm.llava;

import static dev.fovea.llm.llava.LlavaFixtures.ints;
import static dev.fovea.llm.llava.LlavaFixtures.maxRelErr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.WeightSource;
import dev.fovea.vit.image.PreprocessorConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The original haotian-liu layout (tools/reference/llava/make_llava_reference.py writes the tiny
 * LLaVA's weights again as tiny-original: top-level LLaMA keys with mm_*, two .bin shards, names
 * model.* / lm_head.* / model.mm_projector.{0,2}.*, rotary inv_freq buffers; the tower as a full
 * CLIP folder, tiny-original-clip). Same weights, so the same reference outputs: logits max
 * |a - b| / max(1, |b|) &lt;= 1e-4 and the greedy tokens exactly, with the original's image id −200 in
 * the prompt.
 */
class LlavaOriginalTest {
  private static Path original() {
    return LlavaFixtures.dir().resolveSibling("tiny-original");
  }

  private static Path tower() {
    return LlavaFixtures.dir().resolveSibling("tiny-original-clip");
  }

  /** The reference's prompt with the llava-hf image id replaced by the original's −200. */
  private static int[] originalIds(WeightSource ref, String tag) {
    int hfImage = LlavaFixtures.meta().get("image_token_index").asInt();
    int[] ids = ints(ref, tag + ".prompt_ids");
    for (int i = 0; i < ids.length; i++) {
      ids[i] = ids[i] == hfImage ? LlavaOriginal.IMAGE_TOKEN_INDEX : ids[i];
    }
    return ids;
  }

  private static void assertMatchesReference(LlavaForConditionalGeneration model, String tag) {
    try (WeightSource ref = LlavaFixtures.reference(); var scope = Scope.open()) {
      LlavaInputs in = model.prepare(originalIds(ref, tag), ref.get(tag + ".pixels"));
      float[] logits;
      try (var state = model.newState(1, in.length())) {
        logits = model.forward(in, state, true).toFloatArray();
      }
      double err = maxRelErr(logits, ref.get(tag + ".logits").toFloatArray());
      System.out.printf("llava original layout %s: logits rel err %.3g%n", tag, err);
      assertTrue(err <= 1e-4, "logits rel err " + err);
      int[] greedy = ints(ref, tag + ".greedy_ids");
      Generator.Result r = Generator.generate(model, in.toInputs(), GenerationConfig.maxNewTokens(greedy.length).withStopAtEos(false),
          Sampler.greedy(), null, null);
      assertArrayEquals(greedy, r.tokens(), "greedy continuation");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"one", "two"})
  void originalLayoutWithItsTowerMatchesTheReference(String tag) {
    try (var model = LlavaForConditionalGeneration.load(original(), tower())) {
      assertEquals(LlavaOriginal.IMAGE_TOKEN_INDEX, model.config.imageTokenIndex());
      assertEquals(-2, model.config.visionFeatureLayer());
      assertMatchesReference(model, tag);
    }
  }

  @Test
  void theTowerIsFoundInTheHubCacheByItsName(@TempDir Path tmp) throws IOException {
    // models--org--name/snapshots/<rev> with refs/main naming the revision, as huggingface_hub lays it out
    Path repo = tmp.resolve("models--openai--clip-vit-tiny-reference");
    Path snap = repo.resolve("snapshots").resolve("0123abcd");
    copyFolder(tower(), snap);
    Files.createDirectories(repo.resolve("snapshots").resolve("ffff0000")); // an older, empty snapshot
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs").resolve("main"), "0123abcd\n");
    String before = System.getProperty("fovea.hf.hub.cache");
    System.setProperty("fovea.hf.hub.cache", tmp.toString());
    try (var model = LlavaForConditionalGeneration.load(original())) {
      assertMatchesReference(model, "one");
    } finally {
      if (before == null) {
        System.clearProperty("fovea.hf.hub.cache");
      } else {
        System.setProperty("fovea.hf.hub.cache", before);
      }
    }
  }

  @Test
  void aRelativeTowerPathIsResolvedAgainstTheModelFolder(@TempDir Path tmp) throws IOException {
    Path model = tmp.resolve("llava");
    copyFolder(original(), model);
    copyFolder(tower(), tmp.resolve("clip"));
    rewriteConfig(model, "\"openai/clip-vit-tiny-reference\"", "\"../clip\"");
    try (var m = LlavaForConditionalGeneration.load(model)) {
      assertMatchesReference(m, "one");
    }
  }

  @Test
  void imagesArePaddedToSquareWithTheTowersProcessor() {
    LlavaOriginal.Opened o = LlavaOriginal.open(original(), tower());
    try (var model = LlavaForConditionalGeneration.load(o.weights(), o.configJson(), o.origin())) {
      PreprocessorConfig p = LlavaImages.preprocessorConfig(model.config, o.preprocessorJson(), o.configJson(), LlavaImages.Mode.CHECKPOINT);
      assertTrue(p.padToSquare(), "image_aspect_ratio \"pad\" pads");
      assertEquals(model.config.visionConfig().imageSize(), p.cropHeight());
      assertTrue(LlavaOriginal.isSynthesized(o.configJson()));
      assertTrue(!LlavaOriginal.isSynthesized(LlavaFixtures.configJson()));
    }
  }

  @Test
  void promptsCarryTheOriginalImageId() {
    try (var model = LlavaForConditionalGeneration.load(original(), tower())) {
      var tok = dev.fovea.llm.tokenizer.TokenizerLoader.load(original());
      int[] ids = LlavaPrompt.tokenize(tok, LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "what is this?", 1), model.config.imageTokenIndex());
      assertEquals(1, java.util.Arrays.stream(ids).filter(i -> i == LlavaOriginal.IMAGE_TOKEN_INDEX).count());
      try (var scope = Scope.open()) {
        LlavaInputs in = model.prepare(ids, dev.fovea.tensor.Tensor.zeros(1, 3, 28, 28));
        assertEquals(1, in.imageSpans().size());
        assertEquals(ids.length - 1 + model.config.imageSeqLength(), in.length());
      }
    }
  }

  @Test
  void badOriginalFoldersAreClearErrors(@TempDir Path tmp) throws IOException {
    Path model = tmp.resolve("llava");
    copyFolder(original(), model);
    // the tower is nowhere: the message names the places looked in and the option
    LlavaException e = assertThrows(LlavaException.class, () -> LlavaForConditionalGeneration.load(model));
    assertTrue(e.getMessage().contains("openai/clip-vit-tiny-reference") && e.getMessage().contains("--vision-tower"), e.getMessage());
    // a tower folder without config.json
    e = assertThrows(LlavaException.class, () -> LlavaForConditionalGeneration.load(model, tmp));
    assertTrue(e.getMessage().contains("no config.json"), e.getMessage());
    // mm_hidden_size that is not the tower's width
    rewriteConfig(model, "\"mm_hidden_size\": 32", "\"mm_hidden_size\": 1024");
    e = assertThrows(LlavaException.class, () -> LlavaForConditionalGeneration.load(model, tower()));
    assertTrue(e.getMessage().contains("mm_hidden_size 1024") && e.getMessage().contains("hidden_size 32"), e.getMessage());
    rewriteConfig(model, "\"mm_hidden_size\": 1024", "\"mm_hidden_size\": 32");
    // other projector and merge types (LLaVA-1.0 linear, LLaVA-NeXT anyres)
    rewriteConfig(model, "\"mlp2x_gelu\"", "\"linear\"");
    e = assertThrows(LlavaException.class, () -> LlavaForConditionalGeneration.load(model, tower()));
    assertTrue(e.getMessage().contains("mm_projector_type \"linear\""), e.getMessage());
    rewriteConfig(model, "\"linear\"", "\"mlp2x_gelu\"");
    rewriteConfig(model, "\"flat\"", "\"spatial_unpad\"");
    e = assertThrows(LlavaException.class, () -> LlavaForConditionalGeneration.load(model, tower()));
    assertTrue(e.getMessage().contains("spatial_unpad"), e.getMessage());
    rewriteConfig(model, "\"spatial_unpad\"", "\"flat\"");
    // a missing projector tensor is reported by the strict loader under its llava-hf name
    Path index = model.resolve("pytorch_model.bin.index.json");
    Files.writeString(index, Files.readString(index).replaceAll("\\s*\"model\\.mm_projector\\.2\\.bias\": \"[^\"]+\",?", ""));
    RuntimeException missing = assertThrows(RuntimeException.class, () -> LlavaForConditionalGeneration.load(model, tower()));
    assertTrue(missing.getMessage().contains("multi_modal_projector.linear_2.bias"), missing.getMessage());
  }

  private static void rewriteConfig(Path model, String from, String to) throws IOException {
    Path c = model.resolve("config.json");
    String s = Files.readString(c);
    assertTrue(s.contains(from), "fixture config holds " + from);
    Files.writeString(c, s.replace(from, to));
  }

  private static void copyFolder(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }
}
