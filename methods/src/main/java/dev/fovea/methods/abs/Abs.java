package dev.fovea.methods.abs;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.vit.clip.ClipModel;
import dev.fovea.vit.clip.TokenGrid;
import dev.fovea.vit.dino.VitModel;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.image.PreprocessorConfig;
import dev.fovea.vit.image.RgbImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ABS on one image (spec shared/specs/methods-abs-agla.md A.3 to A.8; BIT-DA/ABS at 5ba77c6,
 * main.py {@code custom_loader} and clip/model.py {@code forward_with_attention}):
 *
 * <ol>
 *   <li>DINO on its view (squash to S x S): the last layer's CLS attention over the g x g patches,
 *       mean over heads: a [g*g];
 *   <li>centres: top-k of a, softmax(v / 0.03), n draws with replacement; twice, independently;
 *   <li>raw crops around the first set (sides uniform in [0.6, 0.9] of W and H, clipped at the
 *       border, not shifted), each through CLIP's processor and the whole vision tower;
 *   <li>feature crops around the second set: CLIP's tokens entering the last layer, a window of
 *       odd side (2 * (k / 2) + 1, k uniform in [int(0.6 G), int(0.9 G)]) resized back to G x G with
 *       PyTorch's bicubic, the original CLS in front; the 50 sequences and the untouched one through
 *       the last layer only;
 *   <li>soft matching of the 100 views against the bank ({@link SoftMatching}), summed per class.
 * </ol>
 *
 * The CLIP view uses torchvision's centre-crop rounding (OpenAI's {@code clip._transform}), whatever the
 * checkpoint's processor file says. Models are reached through their public hooks and split-execution
 * entry points only. Not thread-safe per instance (the DINO hook is per call; use one per thread).
 */
public final class Abs {
  private final ClipModel clip;
  private final ImageProcessor clipProcessor;
  private final VitModel dino;
  private final ImageProcessor dinoProcessor;
  private final AbsConfig config;
  private final int dinoLayer;
  private final int clipLayer;

  /**
   * @param clipProcessor CLIP's image processor; its crop rounding is switched to torchvision's
   * @param dinoProcessor DINO's (HF ViTFeatureExtractor: exact S x S, bilinear, ImageNet mean/std)
   */
  public Abs(ClipModel clip, ImageProcessor clipProcessor, VitModel dino, ImageProcessor dinoProcessor, AbsConfig config) {
    this.clip = clip;
    this.clipProcessor = new ImageProcessor(clipProcessor.config().withCropRounding(PreprocessorConfig.CropRounding.ROUND_HALF_EVEN));
    this.dino = dino;
    this.dinoProcessor = dinoProcessor;
    this.config = config;
    int dl = dino.config.numHiddenLayers();
    int cl = clip.config.visionConfig().numHiddenLayers();
    this.dinoLayer = config.dinoLayer() < 0 ? dl - 1 : config.dinoLayer();
    this.clipLayer = config.clipLayer() < 0 ? cl - 1 : config.clipLayer();
    if (dinoLayer >= dl) {
      throw new AbsException("ABS: DINO layer " + dinoLayer + " but the DINO model has " + dl + " layers");
    }
    if (clipLayer >= cl) {
      throw new AbsException("ABS: CLIP layer " + clipLayer + " but the CLIP vision tower has " + cl + " layers");
    }
    int g = dino.config.gridSize();
    if (config.topK() > g * g) {
      throw new AbsException("ABS: top-k " + config.topK() + " is more than the DINO grid's " + g * g + " patches");
    }
  }

  public AbsConfig config() {
    return config;
  }

  /** The torchvision-rounding CLIP processor ABS uses for every CLIP view. */
  public ImageProcessor clipProcessor() {
    return clipProcessor;
  }

  /**
   * Everything one image produced.
   *
   * @param attention DINO's CLS attention map, mean over heads, [g*g] row-major
   * @param dinoGrid g
   * @param rawCentres DINO patch index of each raw crop's centre
   * @param boxes raw crop boxes {x0, y0, x1, y1} in original pixels
   * @param featureCentres DINO patch index of each feature crop's centre
   * @param windows feature windows {r0, c0, r1, c1} on CLIP's grid (end exclusive)
   * @param views [K][E] unit embeddings: the feature views, then the raw views
   * @param globalEmbedding [E] the untouched sequence through the last layer (CLIP's image embedding)
   * @param viewScores S [K][C]
   * @param logits [C]
   */
  public record Result(float[] attention, int dinoGrid, int[] rawCentres, int[][] boxes, int[] featureCentres, int[][] windows,
      float[][] views, float[] globalEmbedding, float[][] viewScores, float[] logits, Timings timings) {}

  /** Milliseconds per stage. */
  public record Timings(double dinoMs, double rawMs, double featureMs, double matchMs) {}

  /** Runs ABS on {@code image} with the bank's classes. */
  public Result run(RgbImage image, DescriptionBank bank, Draws draws) {
    int w = image.width();
    int h = image.height();
    try (Scope scope = Scope.open()) {
      long t0 = System.nanoTime();
      // 1. DINO attention map (A.3)
      float[] att;
      try (Scope s = Scope.open()) {
        att = dino.clsAttentionMap(dinoProcessor.process(image).unsqueeze(0), dinoLayer).contiguous().toFloatArray(); // [g*g]
      }
      int g = dino.config.gridSize();
      int p = dino.config.patchSize();
      TopK top = topK(att, config.topK(), config.centreTemperature());
      long t1 = System.nanoTime();

      // 2. raw crops (A.5)
      int n = config.numCrops();
      int[] rawPick = draws.multinomial(top.probs, n);
      int[] rawCentres = new int[n];
      int[][] boxes = new int[n][];
      List<RgbImage> crops = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        int s = top.indices[rawPick[i]];
        rawCentres[i] = s;
        boxes[i] = rawBox(s / g, s % g, g, p, w, h, config.cropMin(), config.cropMax(), draws);
        crops.add(image.crop(boxes[i][0], boxes[i][1], boxes[i][2], boxes[i][3]));
      }
      Tensor globalPx = clipProcessor.process(image).unsqueeze(0); // [1, 3, S, S]
      Tensor rawViews = n == 0 ? null : encodeCrops(crops);
      long t2 = System.nanoTime();

      // 3. feature crops (A.6)
      int[] featPick = draws.multinomial(top.probs, n);
      int gc = clip.config.visionConfig().gridSize();
      float[] xs; // the residual stream entering the last layer, [1 + G*G, D]
      int tokens;
      int d;
      try (Scope s = Scope.open()) {
        Tensor x = clip.visionModel.hiddenStateBefore(globalPx, clipLayer).select(0, 0);
        tokens = x.size(0);
        d = x.size(1);
        xs = x.contiguous().toFloatArray();
      }
      int r1 = (int) (gc * config.cropMin());
      int r2 = (int) (gc * config.cropMax());
      if (r1 == r2) {
        r2 = r2 + 1;
      }
      int[] featureCentres = new int[n];
      int[][] windows = new int[n][];
      float[] batch = new float[Math.multiplyExact((n + 1) * tokens, d)]; // sequence 0 untouched, then the n edited ones
      System.arraycopy(xs, 0, batch, 0, xs.length);
      for (int i = 0; i < n; i++) {
        int s = top.indices[featPick[i]];
        featureCentres[i] = s;
        // DINO index onto CLIP's grid: r * G // g (identity for 14 -> 14, halves for 7, 14 -> 16 as map_index_14_to_16)
        int row = (s / g) * gc / g;
        int col = (s % g) * gc / g;
        TokenGrid.Window win = featureWindow(row, col, gc, draws.randint(r1, r2));
        windows[i] = new int[] {win.r0(), win.c0(), win.r1(), win.c1()};
        TokenGrid.cropResize(xs, gc, d, win, batch, (i + 1) * tokens * d);
      }
      Tensor feat = encodeSequences(batch, n + 1, tokens, d); // [1 + n, E]
      long t3 = System.nanoTime();

      // 4. soft matching (A.8): feature views first, then raw views, as the reference concatenates them
      Tensor views = n == 0 ? feat.slice(0, 0, 0) : Ops.concat(rawViews == null ? List.of(feat.slice(0, 1, 1 + n))
          : List.of(feat.slice(0, 1, 1 + n), rawViews), 0);
      Tensor scored = config.includeGlobal() ? Ops.concat(List.of(views, feat.slice(0, 0, 1)), 0) : views;
      float[][] scores = SoftMatching.viewScores(scored, bank, config.tau());
      float[] logits = SoftMatching.logits(scores);
      long t4 = System.nanoTime();
      int e = feat.size(1);
      float[] all = views.contiguous().toFloatArray();
      float[][] viewRows = new float[views.size(0)][];
      for (int i = 0; i < viewRows.length; i++) {
        viewRows[i] = Arrays.copyOfRange(all, i * e, (i + 1) * e);
      }
      float[] global = feat.slice(0, 0, 1).contiguous().toFloatArray();
      return new Result(att, g, rawCentres, boxes, featureCentres, windows, viewRows, global, scores, logits,
          new Timings(ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4)));
    }
  }

  /**
   * Images (or sequences) per CLIP pass. Each pass runs in its own {@link Scope}, so its activations
   * go back to the scope pool before the next one: one pass of 50 crops keeps about 6 GB of
   * activations alive at once (the arena frees at scope end), and fresh memory faults in at about
   * 0.35 GB/s on these machines, which made a batch of 50 slower per image than batches of 4.
   */
  static final int BATCH = 4;

  /** Raw crops through CLIP, {@link #BATCH} per pass: [n, E] unit rows in the caller's scope. */
  private Tensor encodeCrops(List<RgbImage> crops) {
    Scope outer = Scope.current();
    List<Tensor> parts = new ArrayList<>();
    for (int from = 0; from < crops.size(); from += BATCH) {
      try (Scope s = Scope.open()) {
        Tensor e = clip.encodeImage(clipProcessor.processBatch(crops.subList(from, Math.min(crops.size(), from + BATCH))));
        parts.add(e.contiguous().copyTo(outer));
      }
    }
    return parts.size() == 1 ? parts.get(0) : Ops.concat(parts, 0);
  }

  /** Sequences [B', T, D] (a row-major array) through the last layers, {@link #BATCH} per pass: [B', E]. */
  private Tensor encodeSequences(float[] batch, int count, int tokens, int d) {
    Scope outer = Scope.current();
    List<Tensor> parts = new ArrayList<>();
    int per = tokens * d;
    for (int from = 0; from < count; from += BATCH) {
      int to = Math.min(count, from + BATCH);
      try (Scope s = Scope.open()) {
        Tensor seqs = Tensor.of(Arrays.copyOfRange(batch, from * per, to * per), to - from, tokens, d).to(clip.device()); // host-built rows to the model's device
        parts.add(clip.encodeImageFrom(seqs, clipLayer).contiguous().copyTo(outer));
      }
    }
    return parts.size() == 1 ? parts.get(0) : Ops.concat(parts, 0);
  }

  /**
   * The raw crop box around DINO cell (r, c) (A.5), with the reference's arithmetic: the cell's
   * corner {@code int(j * P * (W / (g * P)))} is a float32 tensor product in the reference (j is a
   * torch index), its size {@code int(P * (W / (g * P)))} a double one; the crop size is drawn width
   * first, then height, each uniform in [int(side * cropMin), int(side * cropMax)].
   */
  static int[] rawBox(int r, int c, int g, int p, int w, int h, double cropMin, double cropMax, Draws draws) {
    float sx = (float) ((double) w / (g * p));
    float sy = (float) ((double) h / (g * p));
    int x0 = (int) ((float) (c * p) * sx);
    int y0 = (int) ((float) (r * p) * sy);
    int x1 = Math.min(x0 + (int) (p * ((double) w / (g * p))), w);
    int y1 = Math.min(y0 + (int) (p * ((double) h / (g * p))), h);
    int cx = (x0 + x1) / 2;
    int cy = (y0 + y1) / 2;
    int cw = draws.randint((int) (w * cropMin), (int) (w * cropMax));
    int ch = draws.randint((int) (h * cropMin), (int) (h * cropMax));
    int bx0 = Math.max(cx - cw / 2, 0);
    int by0 = Math.max(cy - ch / 2, 0);
    int bx1 = Math.min(cx + cw / 2, w);
    int by1 = Math.min(cy + ch / 2, h);
    if (bx1 <= bx0 || by1 <= by0) { // only on images a few pixels wide
      bx0 = 0;
      by0 = 0;
      bx1 = w;
      by1 = h;
    }
    return new int[] {bx0, by0, bx1, by1};
  }

  /** The window of A.6 around cell (row, col) of a G x G grid for a drawn size k: side 2 * (k / 2) + 1, clipped at the border. */
  static TokenGrid.Window featureWindow(int row, int col, int gc, int k) {
    int half = k / 2;
    return new TokenGrid.Window(Math.max(0, row - half), Math.max(0, col - half), Math.min(gc, row + half + 1), Math.min(gc, col + half + 1));
  }

  /** Top-k of the map (largest first, ties to the lower index) and softmax(v / temperature) in float32. */
  record TopK(int[] indices, float[] values, float[] probs) {}

  static TopK topK(float[] a, int k, double temperature) {
    Integer[] order = new Integer[a.length];
    for (int i = 0; i < a.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (i, j) -> a[i] != a[j] ? Float.compare(a[j], a[i]) : Integer.compare(i, j));
    int[] idx = new int[k];
    float[] v = new float[k];
    float[] z = new float[k];
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < k; i++) {
      idx[i] = order[i];
      v[i] = a[order[i]];
      z[i] = (float) (v[i] / temperature);
      max = Math.max(max, z[i]);
    }
    double sum = 0;
    float[] pr = new float[k];
    for (int i = 0; i < k; i++) {
      pr[i] = (float) Math.exp(z[i] - max);
      sum += pr[i];
    }
    for (int i = 0; i < k; i++) {
      pr[i] = (float) (pr[i] / sum);
    }
    return new TopK(idx, v, pr);
  }

  private static double ms(long a, long b) {
    return (b - a) / 1e6;
  }
}
