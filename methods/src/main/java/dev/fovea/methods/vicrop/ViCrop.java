package dev.fovea.methods.vicrop;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.llm.llava.LlavaInputs;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * ViCrop ("MLLMs know where to look", spec section 1) on LLaVA-1.5: an importance map of the image
 * for the question, a square crop box chosen on it by multi-scale sliding windows, and a greedy
 * answer from one prompt holding the original image and the crop.
 *
 * <pre>{@code
 * ViCrop vicrop = new ViCrop(model, tokenizer, preprocessing, ViCropConfig.defaults());
 * ViCrop.Result r = vicrop.run(image, "What is written on the sign?", Method.REL_ATT, ViCrop.Options.DEFAULT);
 * r.answer(); r.box(); r.map(); r.timings();
 * }</pre>
 *
 * The model is used through its public API and hooks only; a run leaves no hook behind.
 */
public final class ViCrop {
  private final LlavaForConditionalGeneration model;
  private final TextTokenizer tokenizer;
  private final ImageProcessor processor;
  private final ViCropConfig config;
  private final LlavaImportance importance;
  private final int baseSize;
  /** Answers in place of greedy decoding, or null. */
  private final Answerer answerer;

  /**
   * @param highRes tile images larger than the threshold and stitch the tiles' maps (spec 1.5)
   * @param baseline also answer with the original image only
   * @param mapQuestion the question the map is computed from (V*'s {@code short_question}); null: the question
   */
  public record Options(boolean highRes, boolean baseline, String mapQuestion, boolean sharePrefix) {
    public static final Options DEFAULT = new Options(false, false, null, true);

    public Options(boolean highRes, boolean baseline, String mapQuestion) {
      this(highRes, baseline, mapQuestion, true);
    }

    public Options withHighRes(boolean on) {
      return new Options(on, baseline, mapQuestion, sharePrefix);
    }

    public Options withBaseline(boolean on) {
      return new Options(highRes, on, mapQuestion, sharePrefix);
    }

    public Options withMapQuestion(String q) {
      return new Options(highRes, baseline, q, sharePrefix);
    }

    /**
     * Whether rel-att and grad-att on the plain image share the work their prompts have in common
     * ({@link PromptPrefix}: default on); off runs every prompt from scratch, as the reference does.
     */
    public Options withSharePrefix(boolean on) {
      return new Options(highRes, baseline, mapQuestion, on);
    }
  }

  /** Wall-clock nanoseconds per stage (0 for a stage that did not run). */
  public record Timings(long mapNanos, long boxNanos, long answerNanos, long baselineNanos) {
    public long totalNanos() {
      return mapNanos + boxNanos + answerNanos + baselineNanos;
    }
  }

  /** A greedy answer: its tokens and text (decoded, trimmed). */
  public record Answer(int[] tokens, String text) {}

  /**
   * Answers a prompt about images in place of the greedy answer: another decoding method over the
   * same prompt (AGLA's assembly, VCD, AVC), so that ViCrop's crop composes with it.
   */
  @FunctionalInterface
  public interface Answerer {
    /**
     * @param images the images in prompt order (original, then the crop)
     * @param question the question as given
     * @param ids the prompt with one image marker per image, as the greedy answer uses it
     */
    Answer answer(List<RgbImage> images, String question, int[] ids);
  }

  /**
   * @param answer the answer with the original image and the crop (method none: with the image only)
   * @param baseline the answer with the original image only, when asked for (else null)
   * @param map the importance map (stitched for high resolution; null for method none)
   * @param selection the box and how it was chosen (null for method none)
   * @param tiles the tile grid rows x columns of the high-resolution variant ({1, 1} otherwise)
   */
  public record Result(Method method, Answer answer, Answer baseline, ImportanceMap map, BoxSelection.Selection selection, int[] tiles,
      Timings timings) {
    /** The crop box in original pixels (null for method none). */
    public Box box() {
      return selection == null ? null : selection.box();
    }
  }

  public ViCrop(LlavaForConditionalGeneration model, TextTokenizer tokenizer, PreprocessorConfig preprocessing, ViCropConfig config) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.processor = new ImageProcessor(preprocessing);
    this.config = config;
    this.importance = new LlavaImportance(model, tokenizer, preprocessing, config);
    this.baseSize = config.baseSize() > 0 ? config.baseSize() : model.config.visionConfig().imageSize();
    this.answerer = null;
  }

  private ViCrop(ViCrop base, Answerer answerer) {
    this.model = base.model;
    this.tokenizer = base.tokenizer;
    this.processor = base.processor;
    this.config = base.config;
    this.importance = base.importance;
    this.baseSize = base.baseSize;
    this.answerer = answerer;
  }

  /** This pipeline with its answers (with the crop, and the baseline) given by {@code a} instead of greedy decoding; null: greedy. */
  public ViCrop answeredBy(Answerer a) {
    return new ViCrop(this, a);
  }

  public ViCropConfig config() {
    return config;
  }

  /** The importance maps this pipeline uses (for callers that want a map alone). */
  public LlavaImportance importance() {
    return importance;
  }

  /** The crop base size S0 in pixels. */
  public int baseSize() {
    return baseSize;
  }

  /** Answers {@code question} about {@code image} with {@code method} (spec 1.1). */
  public Result run(RgbImage image, String question, Method method, Options options) {
    checkQuestion(question);
    checkContext(question, method == Method.NONE ? 1 : 2);
    if (method == Method.REL_ATT || method == Method.GRAD_ATT) {
      importance.requireLayer();
    }
    // refused before any pass: too many tiles, or tiles under the tower's input
    Tiling.Plan plan = options.highRes() && method != Method.NONE ? highResPlan(image) : null;
    Answer baseline = null;
    long baselineNanos = 0;
    if (options.baseline() || method == Method.NONE) {
      long t = System.nanoTime();
      baseline = answer(List.of(image), question);
      baselineNanos = System.nanoTime() - t;
    }
    if (method == Method.NONE) {
      return new Result(method, baseline, options.baseline() ? baseline : null, null, null, new int[] {1, 1},
          new Timings(0, 0, 0, baselineNanos));
    }
    String mapQuestion = options.mapQuestion() != null ? options.mapQuestion() : question;
    checkQuestion(mapQuestion);
    checkContext(mapQuestion, 1);
    if (!options.highRes() && (method == Method.REL_ATT || method == Method.GRAD_ATT) && options.sharePrefix()) {
      return runSharingPrefix(image, question, mapQuestion, method, baseline, baselineNanos);
    }
    long t0 = System.nanoTime();
    ImportanceMap map;
    int[] tiles;
    if (plan != null) {
      List<ImportanceMap> maps = new ArrayList<>();
      for (Box tile : plan.boxes()) {
        maps.add(importance.map(Tiling.cropTile(image, tile), mapQuestion, method));
      }
      map = Tiling.stitch(maps, plan.rows(), plan.cols());
      tiles = new int[] {plan.rows(), plan.cols()};
    } else {
      map = importance.map(image, mapQuestion, method);
      tiles = new int[] {1, 1};
    }
    long t1 = System.nanoTime();
    BoxSelection.Selection sel = selectBox(map, image, tiles);
    long t2 = System.nanoTime();
    Answer answer = answer(List.of(image, Tiling.crop(image, sel.box())), question);
    long t3 = System.nanoTime();
    return new Result(method, answer, baseline, map, sel, tiles, new Timings(t1 - t0, t2 - t1, t3 - t2, baselineNanos));
  }

  /**
   * The high-resolution tiling of {@code image}, refusing tiles smaller than the tower's input (each
   * would be scaled up, and the work multiplied) and more than {@link Tiling#MAX_TILES} tiles.
   */
  private Tiling.Plan highResPlan(RgbImage image) {
    int threshold = config.highResThreshold();
    int input = importance.imageSize();
    if (threshold < input) {
      throw new ViCropException("high-res threshold " + threshold + " px is smaller than the vision tower's input size, " + input + " px");
    }
    Tiling.Plan plan = Tiling.plan(image.width(), image.height(), threshold);
    long count = (long) plan.rows() * plan.cols();
    if (count > Tiling.MAX_TILES) {
      int least = Tiling.leastThreshold(image.width(), image.height(), Tiling.MAX_TILES);
      throw new ViCropException("high-res threshold " + threshold + " px splits the " + image.width() + " x " + image.height() + " image into "
          + plan.rows() + " x " + plan.cols() + " = " + count + " tiles, more than " + Tiling.MAX_TILES
          + (least > 0 ? "; use a threshold of " + least + " px or more" : "; no threshold gives fewer for this aspect ratio"));
    }
    return plan;
  }

  /**
   * rel-att and grad-att on the plain image, with the work the prompts share done once ({@link
   * PromptPrefix}): the original image through the tower once, and the template text and that image
   * prefilled once; both map prompts and the answer continue that state. The same maps and answers
   * as separate prefills ({@link Options#withSharePrefix}, tested), in less time.
   */
  private Result runSharingPrefix(RgbImage image, String question, String mapQuestion, Method method, Answer baseline, long baselineNanos) {
    long t0 = System.nanoTime();
    int[] answerIds = importance.ids(question, 2);
    int n = model.config.imageSeqLength();
    int capacity = (int) Math.min(model.maxPositions(), (long) answerIds.length + 2L * (n - 1) + config.maxNewTokens());
    try (Scope scope = Scope.open(); var g = GradMode.disable()) {
      Tensor features = model.imageFeatures(processor.process(image).unsqueeze(0));
      LlavaInputs mapIn = model.prepareWithFeatures(importance.ids(mapQuestion, 1), features);
      try (PromptPrefix prefix = PromptPrefix.of(model, features, mapIn, capacity)) {
        ImportanceMap map = importance.map(prefix, mapQuestion, method);
        long t1 = System.nanoTime();
        BoxSelection.Selection sel = selectBox(map, image, new int[] {1, 1});
        long t2 = System.nanoTime();
        RgbImage crop = Tiling.crop(image, sel.box());
        Tensor both = Ops.concat(List.of(features, model.imageFeatures(processor.process(crop).unsqueeze(0))), 0);
        LlavaInputs in = model.prepareWithFeatures(answerIds, both);
        Answer answer;
        if (answerer != null) {
          answer = answerer.answer(List.of(image, crop), question, answerIds);
        } else if (prefix.prefixes(in)) {
          Generator.Result r = Generator.generate(prefix.asModel(), in.toInputs(), GenerationConfig.maxNewTokens(config.maxNewTokens()),
              Sampler.greedy(), null, null);
          answer = new Answer(r.tokens(), decode(r.tokens()));
        } else {
          answer = answer(List.of(image, crop), question); // a template whose text differs before the first image
        }
        long t3 = System.nanoTime();
        return new Result(method, answer, baseline, map, sel, new int[] {1, 1}, new Timings(t1 - t0, t2 - t1, t3 - t2, baselineNanos));
      }
    }
  }

  /**
   * The box for a map over a {@code tiles[0] x tiles[1]} tiling of {@code image} ({1, 1}: the plain
   * map), refusing a map that is not the model's grid times the tiling.
   */
  public BoxSelection.Selection selectBox(ImportanceMap map, RgbImage image, int[] tiles) {
    int g = importance.gridSize();
    map.requireSize(g * tiles[0], g * tiles[1], "box selection for " + tiles[0] + " x " + tiles[1] + " tile(s) of a " + g + " x " + g + " grid");
    return BoxSelection.select(map, image.width(), image.height(), baseSize, config.ratios());
  }

  /** A greedy answer ({@code maxNewTokens}, ends at EOS) to {@code question} about {@code images}, in order. */
  public Answer answer(List<RgbImage> images, String question) {
    if (images == null || images.isEmpty()) {
      throw new ViCropException("no image given: ViCrop answers about at least one image");
    }
    checkQuestion(question);
    int[] ids = importance.ids(question, images.size());
    checkContext(ids, images.size());
    if (answerer != null) {
      return answerer.answer(images, question, ids);
    }
    try (Scope scope = Scope.open(); var g = GradMode.disable()) {
      LlavaInputs in = model.prepare(ids, processor.processBatch(images));
      Generator.Result r = Generator.generate(model, in.toInputs(), GenerationConfig.maxNewTokens(config.maxNewTokens()), Sampler.greedy(),
          null, null);
      return new Answer(r.tokens(), decode(r.tokens()));
    }
  }

  /**
   * The answer text: the tokens decoded, stripped. Ids the tokenizer does not know (a model's
   * vocabulary can be padded past the tokenizer's, as LLaVA-1.5's 32064 rows over 32002 ids) decode
   * to nothing, as llama.cpp renders them; the tokens keep them.
   */
  String decode(int[] tokens) {
    return tokenizer.decode(java.util.Arrays.stream(tokens).filter(t -> t >= 0 && t < tokenizer.vocabSize()).toArray()).strip();
  }

  private static void checkQuestion(String question) {
    if (question == null || question.isBlank()) {
      throw new ViCropException("the question is empty");
    }
  }

  /** Refuses a question that leaves no room for {@code images} images and the answer in the context. */
  private void checkContext(String question, int images) {
    checkContext(importance.ids(question, images), images);
  }

  /** As above for the prompt's ids (one marker per image). */
  private void checkContext(int[] ids, int images) {
    int text = ids.length - images;
    int n = model.config.imageSeqLength();
    long need = (long) text + (long) images * n + config.maxNewTokens(); // long: maxNewTokens may be near 2^31
    if (need > model.maxPositions()) {
      throw new ViCropException("the question leaves no room in the context: " + text + " text tokens + " + images + " image(s) x " + n
          + " tokens + " + config.maxNewTokens() + " answer tokens = " + need + " positions, but the model holds " + model.maxPositions()
          + " (max_position_embeddings); shorten the question");
    }
  }
}
