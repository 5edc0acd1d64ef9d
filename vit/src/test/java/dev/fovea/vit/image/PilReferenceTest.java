package dev.fovea.vit.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Decoding, PIL resizes and the CLIP / LLaVA-pad / BLIP pipelines against Pillow 9.4 (reference made
 * by {@code tools/reference/image/make_reference.py}), for the random fixtures of every PIL mode and
 * the real images in {@code ../shared/data/images}.
 *
 * <p>Lossless inputs (PNG, BMP, GIF) must decode and process bit-exactly. JPEG decoding is held to the
 * bounds below (measured: exact); everything after decoding is checked exactly by running our pipeline
 * on PIL's decoded pixels where they are stored.
 */
class PilReferenceTest {
  /**
   * JDK vs PIL JPEG decoding, per value. Measured here: 0 (bit-exact) on all 8 JPEGs (4:2:0, 4:2:2,
   * 4:4:4, progressive, gray, Adobe RGB ICC): the JDK's libjpeg and Debian's libjpeg-turbo under
   * Pillow 9.4 both use the islow IDCT and fancy upsampling. The margin allows for other libjpeg
   * builds (a different IDCT or upsampler moves values by 1–2 levels).
   */
  static final int JPEG_DECODE_MAX = 2;

  static final double JPEG_DECODE_MEAN = 0.05;

  /** The same after CLIP's resize and crop at 224 (measured 0 too). */
  static final int JPEG_CLIP_MAX = 2;

  static final double JPEG_CLIP_MEAN = 0.05;

  @TestFactory
  Stream<DynamicNode> fixtures() {
    return entries("fixture");
  }

  @TestFactory
  Stream<DynamicNode> sharedImages() {
    Reference.sharedImages(); // skips the whole factory, saying why, when the folder is absent
    return entries("shared");
  }

  private Stream<DynamicNode> entries(String source) {
    List<DynamicNode> nodes = new ArrayList<>();
    for (JsonNode e : Reference.index().get("images")) {
      if (e.get("source").asText().equals(source)) {
        nodes.add(DynamicContainer.dynamicContainer(e.get("name").asText(), cases(e)));
      }
    }
    return nodes.stream();
  }

  /** Per image: the decode check, then the post-decode checks on PIL's own pixels when we have them. */
  private Stream<DynamicNode> cases(JsonNode e) {
    String name = e.get("name").asText();
    boolean jpeg = e.get("format").asText().equals("JPEG");
    List<DynamicNode> tests = new ArrayList<>();
    tests.add(DynamicTest.dynamicTest("decode", () -> checkDecode(e, jpeg)));
    tests.add(DynamicTest.dynamicTest("resize", () -> {
      RgbImage pil = pilPixels(e, jpeg);
      for (JsonNode r : e.get("resize")) {
        if (pil == null) {
          continue; // a real JPEG: PIL's decoded pixels are not stored, only PIL's resizes of them
        }
        Resample.Filter f = Resample.Filter.valueOf(r.get("filter").asText());
        RgbImage out = Resample.resize(pil, r.get("width").asInt(), r.get("height").asInt(), f);
        checkU8(name + " resize " + f + " to " + r.get("width") + "x" + r.get("height"), out, r);
      }
    }));
    tests.add(DynamicTest.dynamicTest("clip", () -> checkClip(e, jpeg)));
    tests.add(DynamicTest.dynamicTest("llavaPad", () -> checkLlavaPad(e, jpeg)));
    tests.add(DynamicTest.dynamicTest("blip", () -> checkBlip(e, jpeg)));
    return tests.stream();
  }

  private static void checkDecode(JsonNode e, boolean jpeg) {
    String name = e.get("name").asText();
    RgbImage img = ImageDecoder.read(Reference.imagePath(e));
    assertEquals(e.get("width").asInt(), img.width(), name + " width");
    assertEquals(e.get("height").asInt(), img.height(), name + " height");
    JsonNode d = e.get("decoded");
    if (!jpeg) {
      if (d.has("file")) {
        Reference.Diff diff = Reference.Diff.of(img.raw(), Reference.u8(d.get("file").asText()));
        assertEquals(0, diff.max(), name + " (" + e.get("mode").asText() + ") decoded vs PIL: " + diff);
      }
      assertEquals(d.get("sha256").asText(), Reference.sha256(img.raw()),
          name + " (" + e.get("mode").asText() + ") decoded RGB checksum vs PIL convert('RGB')");
      for (JsonNode s : d.get("samples")) {
        for (int c = 0; c < 3; c++) {
          assertEquals(s.get(2 + c).asInt(), img.get(s.get(0).asInt(), s.get(1).asInt(), c), name + " sample " + s);
        }
      }
      return;
    }
    Reference.Diff diff;
    if (d.has("file")) {
      diff = Reference.Diff.of(img.raw(), Reference.u8(d.get("file").asText()));
    } else {
      JsonNode sub = d.get("subsample");
      diff = Reference.Diff.of(Reference.subsample(img, sub.get("stride").asInt()), Reference.u8(sub.get("file").asText()));
    }
    report(name + " JPEG decode (JDK vs PIL)", diff);
    assertTrue(diff.max() <= JPEG_DECODE_MAX && diff.mean() <= JPEG_DECODE_MEAN,
        name + ": JDK JPEG decode vs PIL beyond max " + JPEG_DECODE_MAX + " / mean " + JPEG_DECODE_MEAN + ": " + diff);
  }

  /** PIL's decoded pixels: ours when lossless (checked bit-exact by "decode"), else the stored array, else null. */
  private static RgbImage pilPixels(JsonNode e, boolean jpeg) {
    JsonNode d = e.get("decoded");
    int w = e.get("width").asInt();
    int h = e.get("height").asInt();
    if (d.has("file")) {
      return RgbImage.wrap(w, h, Reference.u8(d.get("file").asText()));
    }
    return jpeg ? null : ImageDecoder.read(Reference.imagePath(e));
  }

  private static void checkU8(String what, RgbImage out, JsonNode r) {
    JsonNode shape = r.get("shape");
    assertEquals(shape.get(0).asInt(), out.height(), what + " height");
    assertEquals(shape.get(1).asInt(), out.width(), what + " width");
    if (r.has("file")) {
      Reference.Diff diff = Reference.Diff.of(out.raw(), Reference.u8(r.get("file").asText()));
      assertEquals(0, diff.max(), what + " vs PIL: " + diff);
    }
    assertEquals(r.get("sha256").asText(), Reference.sha256(out.raw()), what + ": checksum differs from PIL's");
  }

  private static void checkClip(JsonNode e, boolean jpeg) {
    String name = e.get("name").asText();
    RgbImage pil = pilPixels(e, jpeg);
    for (JsonNode c : e.get("clip")) {
      int s = c.get("size").asInt();
      int crop = c.has("cropSize") ? c.get("cropSize").asInt() : s;
      PreprocessorConfig cfg = new PreprocessorConfig(true, new PreprocessorConfig.ShortestEdge(s), Resample.Filter.BICUBIC,
          true, crop, crop, PreprocessorConfig.CropRounding.FLOOR, true, PreprocessorConfig.RESCALE_1_255, true,
          PreprocessorConfig.CLIP_MEAN, PreprocessorConfig.CLIP_STD, true, false);
      ImageProcessor proc = new ImageProcessor(cfg);
      String what = name + " CLIP S=" + s + (crop != s ? " crop " + crop : "");
      ImageProcessor.Plan plan = proc.plan(e.get("width").asInt(), e.get("height").asInt());
      assertEquals(c.get("resize").get(0).asInt(), plan.resizeWidth(), what + " resize width");
      assertEquals(c.get("resize").get(1).asInt(), plan.resizeHeight(), what + " resize height");
      assertArrayEquals(new int[] {c.get("crop").get(0).asInt(), c.get("crop").get(1).asInt(), c.get("crop").get(2).asInt(),
          c.get("crop").get(3).asInt()}, new int[] {plan.cropX0(), plan.cropY0(), plan.cropX1(), plan.cropY1()}, what + " crop box");
      if (c.has("tvCrop")) {
        ImageProcessor.Plan tv = new ImageProcessor(cfg.withCropRounding(PreprocessorConfig.CropRounding.ROUND_HALF_EVEN))
            .plan(e.get("width").asInt(), e.get("height").asInt());
        assertEquals(c.get("tvCrop").get(0).asInt(), tv.cropX0(), what + " torchvision crop left");
        assertEquals(c.get("tvCrop").get(1).asInt(), tv.cropY0(), what + " torchvision crop top");
      }
      if (pil == null) {
        // real JPEG: our whole pipeline on our decode, against PIL's 224 crop, within the JPEG bound
        if (c.has("file")) {
          RgbImage ours = proc.prepare(ImageDecoder.read(Reference.imagePath(e)));
          Reference.Diff diff = Reference.Diff.of(ours.raw(), Reference.u8(c.get("file").asText()));
          report(what + " uint8 (JDK decode vs PIL decode)", diff);
          assertTrue(diff.max() <= JPEG_CLIP_MAX && diff.mean() <= JPEG_CLIP_MEAN,
              what + " beyond max " + JPEG_CLIP_MAX + " / mean " + JPEG_CLIP_MEAN + ": " + diff);
        }
        continue;
      }
      RgbImage prepared = proc.prepare(pil);
      checkU8(what + " uint8", prepared, c);
      float[] x = proc.normalize(prepared);
      if (c.has("normalized")) {
        for (JsonNode v : c.get("normalized")) {
          int idx = (v.get(0).asInt() * crop + v.get(1).asInt()) * crop + v.get(2).asInt();
          assertEquals((float) v.get(3).asDouble(), x[idx], 0f, what + " normalized value at (c, y, x) = " + v);
        }
        for (int ch = 0; ch < 3; ch++) {
          double mean = 0;
          for (int i = 0; i < crop * crop; i++) {
            mean += x[ch * crop * crop + i];
          }
          mean /= crop * crop;
          assertEquals(c.get("channelMean").get(ch).asDouble(), mean, 1e-9, what + " channel " + ch + " mean");
        }
      }
      if (c.has("normalizedFile")) {
        float[] ref = Reference.f32(c.get("normalizedFile").asText());
        assertArrayEquals(ref, x, 0f, what + " float32 CHW vs numpy, bit for bit");
        assertArrayEquals(ref, proc.process(pil).toFloatArray(), 0f, what + " as a Tensor");
      }
    }
  }

  private static void checkLlavaPad(JsonNode e, boolean jpeg) {
    String name = e.get("name").asText();
    JsonNode lp = e.get("llavaPad");
    ImageProcessor proc = new ImageProcessor(PreprocessorConfig.llavaPad(lp.get("size").asInt()));
    assertArrayEquals(new int[] {lp.get("fill").get(0).asInt(), lp.get("fill").get(1).asInt(), lp.get("fill").get(2).asInt()},
        proc.config().padColour(), "pad colour int(255 * mean)");
    ImageProcessor.Plan plan = proc.plan(e.get("width").asInt(), e.get("height").asInt());
    int w = e.get("width").asInt();
    int h = e.get("height").asInt();
    assertEquals(lp.get("side").asInt(), Math.max(w, h), name + " square side");
    if (w != h) {
      assertEquals(lp.get("offset").get(0).asInt(), plan.padX(), name + " paste x");
      assertEquals(lp.get("offset").get(1).asInt(), plan.padY(), name + " paste y");
    }
    assertEquals(lp.get("resize").get(0).asInt(), plan.resizeWidth(), name + " llava resize");
    assertEquals(lp.get("crop").get(0).asInt(), plan.cropX0(), name + " llava crop");
    RgbImage pil = pilPixels(e, jpeg);
    if (pil == null) {
      return;
    }
    int[] fill = proc.config().padColour();
    assertEquals(lp.get("squareSha256").asText(), Reference.sha256(pil.expandToSquare(fill[0], fill[1], fill[2]).raw()),
        name + " expand2square");
    checkU8(name + " LLaVA pad 336", proc.prepare(pil), lp);
  }

  private static void checkBlip(JsonNode e, boolean jpeg) {
    String name = e.get("name").asText();
    RgbImage pil = pilPixels(e, jpeg);
    if (pil == null) {
      return;
    }
    for (JsonNode b : e.get("blip")) {
      int s = b.get("size").asInt();
      ImageProcessor proc = new ImageProcessor(PreprocessorConfig.blip(s));
      RgbImage prepared = proc.prepare(pil);
      checkU8(name + " BLIP " + s, prepared, b);
      float[] x = proc.normalize(prepared);
      for (JsonNode v : b.get("normalized")) {
        int idx = (v.get(0).asInt() * s + v.get(1).asInt()) * s + v.get(2).asInt();
        assertEquals((float) v.get(3).asDouble(), x[idx], 0f, name + " BLIP normalized at " + v);
      }
    }
  }

  private static void report(String what, Reference.Diff diff) {
    System.out.println(String.format(Locale.ROOT, "%-60s %s", what, diff));
  }
}
