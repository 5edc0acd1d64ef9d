package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code preprocessor_config.json} as the hub ships it (old and new spellings), and the processors built from it. */
class PreprocessorConfigTest {
  @TempDir Path dir;

  private PreprocessorConfig read(String json) throws IOException {
    Path f = dir.resolve("preprocessor_config.json");
    Files.writeString(f, json);
    return PreprocessorConfig.read(f);
  }

  @Test
  void openaiClipOldStyleIntSizes() throws IOException {
    // openai/clip-vit-large-patch14-336 (feature-extractor era): ints for size and crop_size
    PreprocessorConfig c = read("""
        {"crop_size": 336, "do_center_crop": true, "do_normalize": true, "do_resize": true,
         "feature_extractor_type": "CLIPFeatureExtractor",
         "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
         "resample": 3, "size": 336}""");
    assertEquals(PreprocessorConfig.clip(336), c);
  }

  @Test
  void llavaHfNewStyleDicts() throws IOException {
    PreprocessorConfig c = read("""
        {"crop_size": {"height": 336, "width": 336}, "do_center_crop": true, "do_convert_rgb": true,
         "do_normalize": true, "do_rescale": true, "do_resize": true,
         "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
         "image_std": [0.26862954, 0.26130258, 0.27577711], "processor_class": "LlavaProcessor",
         "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 336}}""");
    assertEquals(PreprocessorConfig.clip(336), c);
    assertArrayEquals(new int[] {122, 116, 104}, c.padColour(), "LLaVA's mean colour");
  }

  @Test
  void blipSquareWithoutCrop() throws IOException {
    PreprocessorConfig c = read("""
        {"do_normalize": true, "do_resize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073],
         "image_processor_type": "BlipImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711],
         "processor_class": "BlipProcessor", "resample": 3, "rescale_factor": 0.00392156862745098,
         "size": {"height": 384, "width": 384}}""");
    assertEquals(PreprocessorConfig.blip(384), c);
    assertFalse(c.doCenterCrop());
    // an int size means a square for BLIP
    assertEquals(new PreprocessorConfig.Exact(224, 224),
        read("{\"image_processor_type\": \"BlipImageProcessor\", \"size\": 224}").size());
  }

  @Test
  void doPadMeansLlavaExpandToSquare() throws IOException {
    assertTrue(read("{\"size\": {\"shortest_edge\": 336}, \"crop_size\": 336, \"do_pad\": true}").padToSquare());
  }

  @Test
  void badValuesNameTheKeyAndTheFile() throws IOException {
    for (String[] bad : new String[][] {
        {"{\"size\": \"big\"}", "size must be"},
        {"{\"resample\": 0}", "resample: resample 0 (NEAREST) is not supported"},
        {"{\"image_mean\": [0.5, 0.5]}", "image_mean must be a list of 3 numbers"},
        {"{\"do_resize\": \"yes\"}", "do_resize must be true or false"},
        {"{\"crop_size\": {\"shortest_edge\": 3}}", "crop_size must be"},
        {"{\"image_std\": [1, 0, 1]}", "image_std must be positive"},
        {"[1, 2]", "not a JSON object"},
        {"{", "cannot read"}}) {
      ImageException e = assertThrows(ImageException.class, () -> read(bad[0]), bad[0]);
      assertTrue(e.getMessage().contains("preprocessor_config.json"), e.getMessage());
      assertTrue(e.getMessage().contains(bad[1]), bad[0] + " -> " + e.getMessage());
    }
  }

  /** Issue 21 item 2: sizes that would make the resize allocate without bound, and text that is not JSON. */
  @Test
  void hostileValuesAreOneShortLine() throws IOException {
    for (String[] bad : new String[][] {
        {"{\"size\": {\"shortest_edge\": 2000000000}}", "size.shortest_edge must be at most 8192 (fovea's limit), got 2000000000"},
        {"{\"crop_size\": 100000}", "crop_size must be at most 8192 (fovea's limit), got 100000"},
        {"{\"size\": {\"height\": 64.5, \"width\": 64}}", "height must be an int, got 64.5"},
        {"hello", "cannot read the preprocessor config: not valid JSON at line 1, column"},
        {"{\"size\": 224} {}", "unexpected text after the top-level value"}}) {
      ImageException e = assertThrows(ImageException.class, () -> read(bad[0]), bad[0]);
      assertTrue(e.getMessage().contains(bad[1]), bad[0] + " -> " + e.getMessage());
      assertTrue(e.getMessage().startsWith(dir.resolve("preprocessor_config.json") + ": "), e.getMessage());
      assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("REDACTED"), e.getMessage());
    }
  }

  @Test
  void batchIsStackedChw() {
    ImageProcessor p = new ImageProcessor(PreprocessorConfig.clip(8));
    RgbImage a = ResamplePropertiesTest.random(1, 13, 9);
    RgbImage b = ResamplePropertiesTest.random(2, 9, 21);
    try (var _ = Scope.open()) {
      Tensor batch = p.processBatch(List.of(a, b));
      assertArrayEquals(new int[] {2, 3, 8, 8}, batch.shape());
      float[] all = batch.toFloatArray();
      float[] first = p.process(a).toFloatArray();
      float[] second = p.process(b).toFloatArray();
      for (int i = 0; i < first.length; i++) {
        assertEquals(first[i], all[i], 0f);
        assertEquals(second[i], all[first.length + i], 0f);
      }
    }
    // without a crop, differently shaped images cannot be stacked
    ImageProcessor noCrop = new ImageProcessor(new PreprocessorConfig(true, new PreprocessorConfig.ShortestEdge(8),
        Resample.Filter.BICUBIC, false, 8, 8, PreprocessorConfig.CropRounding.FLOOR, true, 1 / 255.0, true,
        PreprocessorConfig.CLIP_MEAN, PreprocessorConfig.CLIP_STD, true, false));
    assertThrows(IllegalArgumentException.class, () -> noCrop.processBatch(List.of(a, b)));
  }

  @Test
  void llavaPadPlanMapsBackToTheOriginal() {
    ImageProcessor p = new ImageProcessor(PreprocessorConfig.llavaPad(336));
    ImageProcessor.Plan plan = p.plan(640, 427);
    assertEquals(640, plan.padSide());
    assertEquals(0, plan.padX());
    assertEquals((640 - 427) / 2, plan.padY());
    assertEquals(336, plan.resizeWidth());
    assertEquals(336, plan.resizeHeight());
    assertEquals(0, plan.cropX0());
    RgbImage out = p.prepare(ResamplePropertiesTest.random(3, 64, 20));
    assertEquals(336, out.width());
    // the pad band is the mean colour, untouched by the resize far from the image
    assertEquals(122, out.get(0, 0, 0));
    assertEquals(116, out.get(0, 0, 1));
    assertEquals(104, out.get(0, 0, 2));
  }
}
