package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The torchvision centre-crop rule ({@code functional.center_crop}: top = {@code int(round((h - crop)
 * / 2.0))}, Python's round half to even) on odd and even sizes, from {@code crops.json} written by
 * {@code tools/reference/abs/make_abs_reference.py} (torchvision itself is not installed; the offsets
 * are computed with its formula in Python), and pixel-exact: the crop's pixels are the source's.
 */
class TorchvisionCropTest {
  @Test
  void offsetsAndPixelsFollowTorchvision() throws IOException, URISyntaxException {
    Path file = Path.of(getClass().getClassLoader().getResource("dino-reference/crops.json").toURI());
    JsonNode cases = new ObjectMapper().readTree(file.toFile());
    int differFromHf = 0;
    for (JsonNode c : cases) {
      int h = c.get("height").asInt();
      int w = c.get("width").asInt();
      int ch = c.get("crop_height").asInt();
      int cw = c.get("crop_width").asInt();
      PreprocessorConfig cfg = new PreprocessorConfig(false, new PreprocessorConfig.Exact(h, w), Resample.Filter.BICUBIC, true, ch, cw,
          PreprocessorConfig.CropRounding.ROUND_HALF_EVEN, true, PreprocessorConfig.RESCALE_1_255, true, PreprocessorConfig.CLIP_MEAN,
          PreprocessorConfig.CLIP_STD, true, false);
      ImageProcessor proc = new ImageProcessor(cfg);
      ImageProcessor.Plan plan = proc.plan(w, h);
      String what = w + "x" + h + " crop " + cw + "x" + ch;
      assertEquals(c.get("top").asInt(), plan.cropY0(), what + " top");
      assertEquals(c.get("left").asInt(), plan.cropX0(), what + " left");
      ImageProcessor.Plan hf = new ImageProcessor(cfg.withCropRounding(PreprocessorConfig.CropRounding.FLOOR)).plan(w, h);
      if (hf.cropY0() != plan.cropY0() || hf.cropX0() != plan.cropX0()) {
        differFromHf++;
      }
      // pixel-exact: every output pixel is the source pixel at (top + y, left + x)
      byte[] px = new byte[3 * w * h];
      for (int i = 0; i < px.length; i++) {
        px[i] = (byte) (i * 31 + i / 7);
      }
      RgbImage src = RgbImage.of(w, h, px);
      RgbImage out = proc.prepare(src);
      byte[] want = new byte[3 * cw * ch];
      for (int y = 0; y < ch; y++) {
        System.arraycopy(px, 3 * ((plan.cropY0() + y) * w + plan.cropX0()), want, 3 * y * cw, 3 * cw);
      }
      assertArrayEquals(want, out.raw(), what + " pixels");
    }
    // the cases include sizes where torchvision's rounding and HF's floor disagree
    org.junit.jupiter.api.Assertions.assertTrue(differFromHf >= 2, "only " + differFromHf + " cases tell the two rules apart");
  }
}
