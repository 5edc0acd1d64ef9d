package dev.fovea.methods.minillava;

import dev.fovea.llm.llava.LlavaPrompt;
import dev.fovea.methods.eval.BoundingBox;
import dev.fovea.methods.eval.PromptVariant;
import dev.fovea.methods.scenes.Question;
import dev.fovea.methods.scenes.Scene;
import dev.fovea.methods.scenes.SceneGenerator;
import dev.fovea.methods.scenes.SceneRenderer;
import dev.fovea.methods.vicrop.ViCropConfig;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Training examples for the mini LLaVA from the synthetic scenes: a question of a scene in one of the
 * prompts the evaluation paths send, its answer tokens, and where the answer is.
 *
 * <p>Three prompt forms, drawn per example: ViCrop's one-image prompt (what {@code eval vqa --method
 * none} and ViCrop's maps send), ViCrop's two-image prompt with a crop of the scene as the second
 * image (what ViCrop answers from: mostly a window of ViCrop's sizes around the answer, jittered, the
 * rest a random window, so the model learns to read the crop and not to trust it blindly), and the
 * llava-hf conversation with one image and one of the yes/no suffixes (what {@code ask} and {@code
 * eval pope|mme} send).
 *
 * <p>The attention target: for a question whose answer has a box, the share of the box that each
 * of the 8 x 8 patches of the first image covers (the patch grid of the tower's 64-pixel view of the
 * square scene), summing to 1; null for a question without a box (an absent object).
 */
public final class SceneExamples {
  /**
   * One example: prompt and answer ids, the images (scene first), the attention target over the
   * scene's 64 patches (or null), and each patch's word ({@link #patchWords}: a token id, or -1).
   */
  public record Example(int[] ids, int promptLength, List<RgbImage> images, float[] attentionTarget, int[] patchWords, String kind) {}

  /** Shares of the three prompt forms. */
  public static final double ONE_IMAGE = 0.45;
  public static final double WITH_CROP = 0.35;

  /** Share of crop examples whose crop is placed around the answer (the rest: anywhere). */
  public static final double CROP_ON_ANSWER = 0.8;

  private final SceneGenerator generator;
  private final TextTokenizer tokenizer;
  private final ViCropConfig vicrop;
  private final int grid;

  public SceneExamples(SceneGenerator generator, TextTokenizer tokenizer) {
    this.generator = generator;
    this.tokenizer = tokenizer;
    this.vicrop = ViCropConfig.defaults();
    this.grid = MiniLlava.IMAGE_SIZE / MiniLlava.PATCH;
  }

  /**
   * Example {@code index} of the stream {@code seed}: question {@code index % 5} of scene {@code index /
   * 5} (the generator asks five per scene), its prompt form and crop drawn from (seed, index).
   * Consecutive examples of one scene share one rendered image object (so a batch runs the tower once
   * per picture).
   */
  public Example example(long seed, long index) {
    long sceneIndex = index / PER_SCENE;
    Rendered scene;
    synchronized (this) {
      if (last == null || last.seed != seed || last.index != sceneIndex) {
        SceneGenerator.Generated g = generator.generate(seed, sceneIndex);
        last = new Rendered(seed, sceneIndex, g, render(g.scene()));
      }
      scene = last;
    }
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
    List<Question> qs = scene.generated.questions();
    return example(scene.generated.scene(), scene.image, qs.get((int) (index % PER_SCENE) % qs.size()), r);
  }

  /** Questions the generator asks per scene. */
  public static final int PER_SCENE = 5;

  private record Rendered(long seed, long index, SceneGenerator.Generated generated, RgbImage image) {}

  private Rendered last;

  Example example(Scene scene, RgbImage image, Question q, SplittableRandom r) {
    double u = r.nextDouble();
    List<RgbImage> images = new ArrayList<>();
    images.add(image);
    String text;
    String kind;
    if (u < ONE_IMAGE) {
      text = vicrop.prompt(1, q.text());
      kind = "one-image";
    } else if (u < ONE_IMAGE + WITH_CROP) {
      images.add(crop(image, q, r));
      text = vicrop.prompt(2, q.text());
      kind = "with-crop";
    } else {
      PromptVariant[] variants = PromptVariant.values();
      PromptVariant v = variants[r.nextInt(variants.length)];
      text = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, q.text() + v.suffix, 1);
      kind = "conversation";
    }
    int[] prompt = LlavaPrompt.tokenize(tokenizer, text, MiniLlava.IMAGE_TOKEN);
    int[] answer = tokenizer.encode(q.answer(), false);
    int[] ids = new int[prompt.length + answer.length + 1];
    System.arraycopy(prompt, 0, ids, 0, prompt.length);
    System.arraycopy(answer, 0, ids, prompt.length, answer.length);
    ids[ids.length - 1] = 2; // EOS: the answer ends there
    float[] target = q.box().map(b -> coverage(b, scene.width(), scene.height())).orElse(null);
    return new Example(ids, prompt.length, images, target, patchWords(scene), kind);
  }

  /**
   * What the scene shows in each of the 8 x 8 patches of the tower's view, as the first token of a
   * word: the colour of the object that covers most of the patch (a shape, or a glyph's ink), {@code
   * "box"} for a boxed glyph, or -1 (no word: background, or an object that covers less than a tenth of
   * the patch and less than half of itself there).
   */
  int[] patchWords(Scene scene) {
    int[] words = new int[grid * grid];
    double cw = (double) scene.width() / grid;
    double ch = (double) scene.height() / grid;
    for (int row = 0; row < grid; row++) {
      for (int col = 0; col < grid; col++) {
        double best = 0;
        String word = null;
        for (var s : scene.shapes()) {
          double o = overlap(s.box(), col * cw, row * ch, cw, ch);
          double area = (s.box().x2() - s.box().x1()) * (s.box().y2() - s.box().y1());
          if (o > best && (o >= 0.1 * cw * ch || o >= 0.5 * area)) {
            best = o;
            word = s.colour().label();
          }
        }
        for (var g : scene.glyphs()) {
          double o = overlap(g.box(), col * cw, row * ch, cw, ch);
          double area = (g.box().x2() - g.box().x1()) * (g.box().y2() - g.box().y1());
          if (o > best && (o >= 0.1 * cw * ch || o >= 0.5 * area)) {
            best = o;
            word = g.ink().map(c -> c.label()).orElse("box");
          }
        }
        words[row * grid + col] = word == null ? -1 : firstToken(word);
      }
    }
    return words;
  }

  private final java.util.Map<String, Integer> wordTokens = new java.util.concurrent.ConcurrentHashMap<>();

  private int firstToken(String word) {
    return wordTokens.computeIfAbsent(word, w -> tokenizer.encode(w, false)[0]);
  }

  private static double overlap(BoundingBox b, double x, double y, double w, double h) {
    double ox = Math.max(0, Math.min(b.x2(), x + w) - Math.max(b.x1(), x));
    double oy = Math.max(0, Math.min(b.y2(), y + h) - Math.max(b.y1(), y));
    return ox * oy;
  }

  /** The scene's pixels as an image. */
  public static RgbImage render(Scene scene) {
    return image(scene.width(), scene.height(), SceneRenderer.render(scene));
  }

  /** Pixels {@code 0xRRGGBB} ({@link SceneRenderer#render}) as an image. */
  public static RgbImage image(int width, int height, int[] px) {
    byte[] rgb = new byte[px.length * 3];
    for (int i = 0; i < px.length; i++) {
      rgb[3 * i] = (byte) (px[i] >> 16);
      rgb[3 * i + 1] = (byte) (px[i] >> 8);
      rgb[3 * i + 2] = (byte) px[i];
    }
    return RgbImage.of(width, height, rgb);
  }

  /** A square window of ViCrop's sizes (64 to 128 px for this tower), around the answer or anywhere. */
  private RgbImage crop(RgbImage image, Question q, SplittableRandom r) {
    int w = image.width();
    int h = image.height();
    int base = MiniLlava.IMAGE_SIZE;
    int side = base + r.nextInt(base + 1);
    int x0;
    int y0;
    if (q.box().isPresent() && r.nextDouble() < CROP_ON_ANSWER) {
      BoundingBox b = q.box().get();
      side = (int) Math.max(side, Math.ceil(1.15 * Math.max(b.x2() - b.x1(), b.y2() - b.y1())));
      side = Math.min(side, Math.min(w, h));
      double cx = (b.x1() + b.x2()) / 2;
      double cy = (b.y1() + b.y2()) / 2;
      double slackX = Math.max(0, side - (b.x2() - b.x1())) / 2 * 0.8;
      double slackY = Math.max(0, side - (b.y2() - b.y1())) / 2 * 0.8;
      x0 = (int) Math.round(cx - side / 2.0 + (2 * r.nextDouble() - 1) * slackX);
      y0 = (int) Math.round(cy - side / 2.0 + (2 * r.nextDouble() - 1) * slackY);
    } else {
      side = Math.min(side, Math.min(w, h));
      x0 = r.nextInt(w - side + 1);
      y0 = r.nextInt(h - side + 1);
    }
    x0 = Math.max(0, Math.min(x0, w - side));
    y0 = Math.max(0, Math.min(y0, h - side));
    return image.crop(x0, y0, x0 + side, y0 + side);
  }

  /** The share of box {@code b} inside each patch of the grid over a {@code w} x {@code h} image, row-major. */
  float[] coverage(BoundingBox b, int w, int h) {
    float[] t = new float[grid * grid];
    double cw = (double) w / grid;
    double ch = (double) h / grid;
    double total = 0;
    for (int row = 0; row < grid; row++) {
      double oy = Math.max(0, Math.min(b.y2(), (row + 1) * ch) - Math.max(b.y1(), row * ch));
      for (int col = 0; col < grid; col++) {
        double ox = Math.max(0, Math.min(b.x2(), (col + 1) * cw) - Math.max(b.x1(), col * cw));
        t[row * grid + col] = (float) (ox * oy);
        total += ox * oy;
      }
    }
    if (total <= 0) {
      return null;
    }
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) (t[i] / total);
    }
    return t;
  }
}
