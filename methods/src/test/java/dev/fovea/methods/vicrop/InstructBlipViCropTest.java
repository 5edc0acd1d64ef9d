package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.RgbImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ViCrop's InstructBLIP pipeline on the tiny fixture: the 2Q-query answer layout against torch, and a whole run. */
class InstructBlipViCropTest {
  static final Path MODEL = InstructBlipImportanceReferenceTest.MODEL;

  /** Both images' queries (original first) before the prompt: last logits within 1e-4 relative, 8 greedy tokens identical (smallest gap 0.024). */
  @Test
  void answerWithTheCropMatchesTorch() {
    try (var model = InstructBlipForConditionalGeneration.load(MODEL); WeightSource ref = WeightFiles.open(MODEL.resolve("reference.safetensors"));
        var scope = Scope.open()) {
      var vc = new InstructBlipViCrop(model, TokenizerLoader.load(MODEL), TokenizerLoader.fromVocabTxt(MODEL.resolve("qformer_tokenizer/vocab.txt")),
          ImageProcessor.fromConfig(MODEL.resolve("preprocessor_config.json")), new InstructBlipImportance.Layers(2, 1,
              InstructBlipImportance.Columns.INTENDED), ViCropConfig.defaults());
      int[] qids = InstructBlipImportanceReferenceTest.ints(ref, "crop.qformer_ids");
      int[] ids = InstructBlipImportanceReferenceTest.ints(ref, "crop.prompt_ids");
      var pixels = List.of(ref.get("pixels"), ref.get("crop.pixels"));
      var queries = dev.fovea.tensor.Ops.concat(List.of(model.queryOutput(pixels.get(0), qids), model.queryOutput(pixels.get(1), qids)), 1);
      var in = model.prepareWithQueries(ids, queries);
      assertEquals(16 + ids.length, in.length(), "2 x 8 queries + the prompt");
      float[] last;
      try (var state = model.newState(1, in.length())) {
        last = model.forward(in, state, false).toFloatArray();
      }
      double err = InstructBlipImportanceReferenceTest.relToMax(last, ref.get("crop.last_logits").toFloatArray());
      assertTrue(err <= 1e-4, "last logits rel err " + err);
      int[] want = InstructBlipImportanceReferenceTest.ints(ref, "crop.greedy_ids");
      int[] got = Generator.generate(model, in.toInputs(), GenerationConfig.maxNewTokens(want.length).withStopAtEos(false), Sampler.greedy(), null,
          null).tokens();
      assertArrayEquals(want, got);
    }
  }

  @Test
  void wholeRunPicksABoxAndAnswersWithTwoImages() throws Exception {
    try (var model = InstructBlipForConditionalGeneration.load(MODEL)) {
      var vc = new InstructBlipViCrop(model, TokenizerLoader.load(MODEL), TokenizerLoader.fromVocabTxt(MODEL.resolve("qformer_tokenizer/vocab.txt")),
          ImageProcessor.fromConfig(MODEL.resolve("preprocessor_config.json")), new InstructBlipImportance.Layers(2, 1,
              InstructBlipImportance.Columns.INTENDED), ViCropConfig.defaults().withMaxNewTokens(4));
      byte[] rgb = new byte[300 * 200 * 3];
      new Random(5).nextBytes(rgb);
      RgbImage image = RgbImage.of(300, 200, rgb);
      for (Method m : new Method[] {Method.REL_ATT, Method.GRAD_ATT, Method.PURE_GRAD}) {
        ViCrop.Result res = vc.run(image, "What is the color of the cat?", m);
        assertNotNull(res.box());
        assertEquals(4, res.map().rows());
        assertTrue(res.box().x1() >= 0 && res.box().y1() >= 0 && res.box().x2() <= 300 && res.box().y2() <= 200, res.box().toString());
        assertTrue(res.box().width() >= 56 && res.box().width() <= 112, "S0 = the tower's 56 px times a ratio in [1, 2]: " + res.box());
        assertTrue(res.answer().tokens().length >= 1 && res.answer().tokens().length <= 4);
      }
      ViCrop.Result none = vc.run(image, "What is the color of the cat?", Method.NONE);
      assertTrue(none.answer().tokens().length <= 4);
    }
  }
}
