package dev.fovea.vit.clip;

import static dev.fovea.vit.clip.ClipReference.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.image.ImageProcessor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * fovea's CLIP against the plain-torch reference (tools/reference/clip/make_clip_reference.py) on
 * tiny random checkpoints with the real names. Tolerances (max|a-b| &lt;= atol + rtol*|b|):
 * activations, pooled outputs, embeddings: rtol 1e-4, atol 1e-5; attention probabilities: rtol
 * 1e-4, atol 1e-6; logits (|b| up to ~25): rtol 1e-4, atol 1e-4.
 */
class ClipReferenceTest {
  static final double RTOL = 1e-4;
  static final double ATOL = 1e-5;
  static final double ATOL_PROBS = 1e-6;
  static final double ATOL_LOGITS = 1e-4;

  /** Compares a whole joint forward with one recorded case. */
  static void checkCase(ClipReference ref, ClipModel model, String c, int[][] ids, int[][] mask) {
    Tensor pixels = ref.get(c, "pixel_values");
    ClipModel.Output out = model.forward(pixels, ids, mask, ClipOutputs.ALL);
    String tag = ref.model + " " + c + " ";
    checkTower(ref, c, "vision", out.vision(), model.config.visionConfig().numHiddenLayers());
    checkTower(ref, c, "text", out.text(), model.config.textConfig().numHiddenLayers());
    assertClose(tag + "image_embeds_unnormalized", out.imageEmbedsUnnormalized(), ref.get(c, "image_embeds_unnormalized"), RTOL, ATOL);
    assertClose(tag + "text_embeds_unnormalized", out.textEmbedsUnnormalized(), ref.get(c, "text_embeds_unnormalized"), RTOL, ATOL);
    assertClose(tag + "image_embeds", out.imageEmbeds(), ref.get(c, "image_embeds"), RTOL, ATOL);
    assertClose(tag + "text_embeds", out.textEmbeds(), ref.get(c, "text_embeds"), RTOL, ATOL);
    assertClose(tag + "logit_scale", out.logitScale(), ref.get(c, "logit_scale"), 0, 0);
    assertClose(tag + "logits_per_image", out.logitsPerImage(), ref.get(c, "logits_per_image"), RTOL, ATOL_LOGITS);
    assertClose(tag + "logits_per_text", out.logitsPerText(), ref.get(c, "logits_per_text"), RTOL, ATOL_LOGITS);
  }

  static void checkTower(ClipReference ref, String c, String tower, TowerOutput out, int layers) {
    String tag = ref.model + " " + c + " " + tower;
    assertEquals(layers + 1, out.hiddenStates().size());
    assertEquals(layers, out.attentions().size());
    for (int i = 0; i <= layers; i++) {
      assertClose(tag + ".hidden_states." + i, out.hiddenStates().get(i), ref.get(c, tower + ".hidden_states." + i), RTOL, ATOL);
    }
    for (int i = 0; i < layers; i++) {
      assertClose(tag + ".attentions." + i, out.attentions().get(i), ref.get(c, tower + ".attentions." + i), RTOL, ATOL_PROBS);
    }
    assertClose(tag + ".last_hidden_state", out.lastHiddenState(), ref.get(c, tower + ".last_hidden_state"), RTOL, ATOL);
    assertClose(tag + ".pooler_output", out.pooled(), ref.get(c, tower + ".pooler_output"), RTOL, ATOL);
  }

  @Test
  void p32SafetensorsLegacyEosMatchesTorch() {
    try (ClipReference ref = new ClipReference("tiny-p32"); ClipModel.Loaded m = ClipModel.open(ref.folder()); Scope s = Scope.open()) {
      checkCase(ref, m.model(), "images", ref.ints("ids"), ref.ints("attention_mask"));
      checkCase(ref, m.model(), "random", ref.ints("random_ids"), ref.ints("random_attention_mask"));
    }
  }

  @Test
  void p14TorchBinFirstEosAndInterpolatedSizesMatchTorch() {
    try (ClipReference ref = new ClipReference("tiny-p14"); ClipModel.Loaded m = ClipModel.open(ref.folder()); Scope s = Scope.open()) {
      ClipModel model = m.model();
      checkCase(ref, model, "images", ref.ints("ids"), ref.ints("attention_mask"));
      // other image sizes: the 3x3 position grid is resized bicubically to 4x4 and 3x5
      for (var node : ref.meta.get("sizes")) {
        String c = node.asText();
        TowerOutput v = model.visionModel.forward(ref.get(c, "pixel_values"), ClipOutputs.ALL);
        checkTower(ref, c, "vision", v, model.config.visionConfig().numHiddenLayers());
        Tensor img = model.imageFeatures(v);
        assertClose("tiny-p14 " + c + " image_embeds_unnormalized", img, ref.get(c, "image_embeds_unnormalized"), RTOL, ATOL);
        assertClose("tiny-p14 " + c + " image_embeds", ClipModel.normalize(img), ref.get(c, "image_embeds"), RTOL, ATOL);
      }
    }
  }

  @Test
  void visionOnlyFolderLoadsClipVisionConfig() {
    try (ClipReference ref = new ClipReference("tiny-p32");
        ClipCheckpoint ckpt = ClipCheckpoint.open(ClipReference.ROOT.resolve("tiny-vision"));
        Scope s = Scope.open()) {
      ClipVisionModel vm = ClipVisionModel.load(ckpt);
      assertEquals(64, vm.config.imageSize());
      TowerOutput v = vm.forward(ref.get("images", "pixel_values"), ClipOutputs.ALL);
      checkTower(ref, "images", "vision", v, 2);
    }
  }

  @Test
  void textAndVisionModelsLoadFromTheFullCheckpoint() {
    try (ClipReference ref = new ClipReference("tiny-p32"); ClipCheckpoint ckpt = ClipCheckpoint.open(ref.folder()); Scope s = Scope.open()) {
      ClipTextModel tm = ClipTextModel.load(ckpt);
      TowerOutput t = tm.forward(ref.ints("ids"), ref.ints("attention_mask"), ClipOutputs.NONE);
      assertClose("tiny-p32 text-only pooler_output", t.pooled(), ref.get("images", "text.pooler_output"), RTOL, ATOL);
      ClipVisionModel vm = ClipVisionModel.load(ckpt);
      TowerOutput v = vm.forward(ref.get("images", "pixel_values"), ClipOutputs.NONE);
      assertClose("tiny-p32 vision-only pooler_output", v.pooled(), ref.get("images", "vision.pooler_output"), RTOL, ATOL);
    }
  }

  @Test
  void sharedImagesPreprocessToTheReferencePixels() {
    Path images = ClipReference.sharedImages();
    for (String model : List.of("tiny-p32", "tiny-p14")) {
      try (ClipReference ref = new ClipReference(model); Scope s = Scope.open()) {
        ImageProcessor proc = ImageProcessor.fromConfig(ref.folder().resolve("preprocessor_config.json"));
        List<Tensor> px = new ArrayList<>();
        for (var n : ref.meta.get("images")) {
          px.add(proc.process(images.resolve(n.asText())));
        }
        assertClose(model + " pixel_values from " + ref.meta.get("images"), dev.fovea.tensor.Ops.stack(px, 0), ref.get("images", "pixel_values"), 0, 1e-6);
      }
    }
  }
}
