package dev.fovea.methods.scenes;

import dev.fovea.methods.eval.BoundingBox;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Plans random scenes and the questions about them, scene {@code i} of seed {@code s} from its own
 * random stream ({@link SceneRandom#forScene}), so any scene can be made alone, in any order, on any
 * thread. Every scene gets five questions, in this order:
 *
 * <ol>
 *   <li>{@link QuestionType#COLOUR} of the one shape of its kind;
 *   <li>{@link QuestionType#GLYPH}: the framed glyph ("What letter is in the box?") or the one glyph of
 *       its ink ("What digit is written in blue?");
 *   <li>{@link QuestionType#COUNT} of another kind, 1 to 5 of them;
 *   <li>and 5. a yes/no pair, POPE-style, in random order: "Is there a C K?" about a colour and kind
 *       present (yes) and one absent (no). The pair's {@link Question#category()} says how the "no" was
 *       drawn: {@link #ABSENT}, no shape of that kind at all; {@link #SWAPPED}, the kind is there in
 *       other colours and the colour on other kinds (attribute binding). Each scene draws its category
 *       by a coin, falling back to the other one only where the scene allows no such "no". Each
 *       category thus holds as many yes as no.
 * </ol>
 *
 * <p><b>Sizes.</b> The asked shape and the asked glyph are drawn small, medium or large with equal
 * chances, sized so their answer box falls well inside ViCrop's split of that name (box area over image
 * area below 0.005, up to 0.05, above; {@link dev.fovea.methods.eval.SizeSplit}). At 448 px a small
 * glyph is 10-16 px tall (a 5 x 7 font at 1.4-2.3 px a cell, unreadable after a downscale to 64-112
 * px), a medium one 48-88 px, a large one 140-190 px; shapes are 12-26, 38-92 and 112-176 px wide.
 * Counted shapes, distractor shapes and distractor glyphs are small (70%) or medium. All sizes scale
 * with the canvas, glyphs no smaller than 7 px (one pixel per font row) and shapes than 6 px.
 *
 * <p><b>Layout.</b> Objects do not touch: each footprint (a framed glyph's is its frame) keeps a gap to
 * every other and to the canvas edge, so every answer box holds its answer and nothing else but
 * background. Objects are placed largest first at random free positions; a plan that does not fit is
 * drawn again from the same stream.
 *
 * <p><b>Characters.</b> {@link #LETTERS} and {@link #DIGITS} leave out I, O, Q, 0 and 1, which look
 * alike in 5 x 7 cells at a few pixels.
 */
public final class SceneGenerator {
  public static final int MIN_SIZE = 128;
  public static final int MAX_SIZE = 2048;
  public static final int DEFAULT_SIZE = 448;

  /** Letters asked about (and drawn): A-Z without I, O and Q. */
  public static final String LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";

  /** Digits asked about: 2-9. */
  public static final String DIGITS = "23456789";

  /** The "no" of the pair names a kind the scene does not hold. */
  public static final String ABSENT = "absent";

  /** The "no" of the pair names a kind the scene holds in other colours, and a colour other kinds have. */
  public static final String SWAPPED = "swapped";

  /** Most times a plan is drawn before giving up (never reached at the sizes allowed). */
  static final int MAX_PLANS = 1000;

  /** Random positions tried for one object before the plan is drawn again. */
  static final int PLACEMENT_TRIES = 300;

  /** The answer-size classes, with their pixel ranges at 448 px. */
  enum SizeClass {
    SMALL(12, 26, 10, 16),
    MEDIUM(38, 92, 48, 88),
    LARGE(112, 176, 140, 190);

    final int shapeMin;
    final int shapeMax;
    final int glyphMin;
    final int glyphMax;

    SizeClass(int shapeMin, int shapeMax, int glyphMin, int glyphMax) {
      this.shapeMin = shapeMin;
      this.shapeMax = shapeMax;
      this.glyphMin = glyphMin;
      this.glyphMax = glyphMax;
    }
  }

  private final int size;
  private final double scale;

  /** A generator of {@code size x size} scenes, size in [{@link #MIN_SIZE}, {@link #MAX_SIZE}]. */
  public SceneGenerator(int size) {
    if (size < MIN_SIZE || size > MAX_SIZE) {
      throw new IllegalArgumentException("scene size must be within [" + MIN_SIZE + ", " + MAX_SIZE + "], got " + size);
    }
    this.size = size;
    this.scale = size / SceneRenderer.REFERENCE_SIDE;
  }

  public int size() {
    return size;
  }

  /** A scene and its questions. */
  public record Generated(Scene scene, List<Question> questions) {
    public Generated {
      questions = List.copyOf(questions);
    }
  }

  /** Scene {@code index} of the stream {@code seed}, with its five questions. */
  public Generated generate(long seed, long index) {
    if (index < 0) {
      throw new IllegalArgumentException("scene index must be at least 0, got " + index);
    }
    SceneRandom r = SceneRandom.forScene(seed, index);
    for (int plan = 0; plan < MAX_PLANS; plan++) {
      Generated g = tryPlan(r);
      if (g != null) {
        return g;
      }
    }
    throw new IllegalStateException("no layout of scene " + index + " (seed " + seed + ") fits a " + size + " px canvas in "
        + MAX_PLANS + " plans");
  }

  /** An object to place: its box size, the margin its footprint adds around the box, and what it becomes once placed. */
  private record Item(int width, int height, int pad, Function<BoundingBox, Object> make) {
    long footprintArea() {
      return (long) (width + 2 * pad) * (height + 2 * pad);
    }
  }

  private Generated tryPlan(SceneRandom r) {
    List<ShapeKind> kinds = new ArrayList<>(List.of(ShapeKind.values()));
    r.shuffle(kinds);
    ShapeKind asked = kinds.get(0);
    ShapeKind counted = kinds.get(1);
    // at most two of the other three kinds appear, so some kind is always absent
    List<ShapeKind> distractorKinds = List.copyOf(kinds.subList(2, 2 + r.nextInt(3)));
    List<Colour> colours = List.of(Colour.values());

    List<Item> items = new ArrayList<>();
    items.add(shapeItem(asked, r.pick(colours), r.pick(List.of(SizeClass.values())), r));
    int n = r.between(1, 5);
    for (int i = 0; i < n; i++) {
      items.add(shapeItem(counted, r.pick(colours), minorSize(r), r));
    }
    if (!distractorKinds.isEmpty()) {
      int m = r.between(1, 3);
      for (int i = 0; i < m; i++) {
        items.add(shapeItem(r.pick(distractorKinds), r.pick(colours), minorSize(r), r));
      }
    }
    char ch = r.chance(0.75) ? r.pick(LETTERS) : r.pick(DIGITS);
    boolean framed = r.nextBoolean();
    Colour ink = r.pick(colours);
    items.add(glyphItem(ch, framed ? Optional.empty() : Optional.of(ink), r.pick(List.of(SizeClass.values())), r));
    int extraGlyphs = r.nextInt(3);
    for (int i = 0; i < extraGlyphs; i++) {
      List<Colour> inks = colours.stream().filter(c -> framed || c != ink).toList();
      char other = r.chance(0.75) ? r.pick(LETTERS) : r.pick(DIGITS);
      items.add(glyphItem(other, Optional.of(r.pick(inks)), minorSize(r), r));
    }

    List<Object> placed = place(items, r);
    if (placed == null) {
      return null;
    }
    List<Shape> shapes = placed.stream().filter(o -> o instanceof Shape).map(o -> (Shape) o).toList();
    List<Glyph> glyphs = placed.stream().filter(o -> o instanceof Glyph).map(o -> (Glyph) o).toList();
    Scene scene = new Scene(size, size, r.nextLong(), shapes, glyphs);

    List<Question> questions = new ArrayList<>();
    questions.add(Questions.colour(scene, asked));
    questions.add(framed ? Questions.glyphInBox(scene) : Questions.glyphInk(scene, ink));
    questions.add(Questions.count(scene, counted));
    questions.addAll(yesNoPair(scene, r));
    return new Generated(scene, questions);
  }

  /** One present and one absent (colour, kind), with the pair's category, in random order. */
  private static List<Question> yesNoPair(Scene scene, SceneRandom r) {
    List<Shape> present = new ArrayList<>();
    for (Shape s : scene.shapes()) {
      if (present.stream().noneMatch(p -> p.kind() == s.kind() && p.colour() == s.colour())) {
        present.add(s);
      }
    }
    Shape yes = r.pick(present);
    List<Shape> absent = new ArrayList<>();
    List<Shape> swapped = new ArrayList<>();
    for (ShapeKind k : ShapeKind.values()) {
      for (Colour c : Colour.values()) {
        if (!scene.shapesOf(k, c).isEmpty()) {
          continue;
        }
        Shape candidate = new Shape(k, c, yes.box()); // only kind and colour matter here
        if (scene.shapesOf(k).isEmpty()) {
          absent.add(candidate);
        } else if (scene.shapes().stream().anyMatch(s -> s.colour() == c)) {
          swapped.add(candidate);
        }
      }
    }
    boolean wantAbsent = r.nextBoolean();
    boolean useAbsent = swapped.isEmpty() || wantAbsent && !absent.isEmpty();
    String category = useAbsent ? ABSENT : SWAPPED;
    Shape no = r.pick(useAbsent ? absent : swapped);
    Question qYes = Questions.exists(scene, yes.colour(), yes.kind()).withCategory(category);
    Question qNo = Questions.exists(scene, no.colour(), no.kind()).withCategory(category);
    return r.nextBoolean() ? List.of(qYes, qNo) : List.of(qNo, qYes);
  }

  private static SizeClass minorSize(SceneRandom r) {
    return r.chance(0.7) ? SizeClass.SMALL : SizeClass.MEDIUM;
  }

  private Item shapeItem(ShapeKind kind, Colour colour, SizeClass c, SceneRandom r) {
    int w = Math.max(6, scaled(r.between(c.shapeMin, c.shapeMax)));
    int h = kind == ShapeKind.STAR ? Math.max(1, (int) Math.round(w * SceneRenderer.STAR_ASPECT)) : w;
    return new Item(w, h, 0, box -> new Shape(kind, colour, box));
  }

  private Item glyphItem(char ch, Optional<Colour> ink, SizeClass c, SceneRandom r) {
    int h = Math.max(GlyphFont.ROWS, scaled(r.between(c.glyphMin, c.glyphMax)));
    int w = Math.max(GlyphFont.COLUMNS, (int) Math.round(h * (double) GlyphFont.COLUMNS / GlyphFont.ROWS));
    int pad = ink.isEmpty() ? Glyph.framePad(h) : 0;
    return new Item(w, h, pad, box -> new Glyph(ch, box, ink));
  }

  private int scaled(int px) {
    return (int) Math.round(px * scale);
  }

  /** The objects, in plan order, at random free positions taken largest footprint first; null when one does not fit. */
  private List<Object> place(List<Item> items, SceneRandom r) {
    int edge = Math.max(2, scaled(4));
    int gap = Math.max(3, scaled(8));
    Integer[] order = new Integer[items.size()];
    Arrays.setAll(order, i -> i);
    // stable: equal footprints keep their plan order
    Arrays.sort(order, Comparator.comparingLong((Integer i) -> items.get(i).footprintArea()).reversed());
    List<int[]> taken = new ArrayList<>(); // footprints x1, y1, x2, y2
    Object[] placed = new Object[items.size()];
    for (int i : order) {
      Item item = items.get(i);
      int fw = item.width() + 2 * item.pad();
      int fh = item.height() + 2 * item.pad();
      if (fw > size - 2 * edge || fh > size - 2 * edge) {
        return null;
      }
      int[] spot = null;
      for (int t = 0; t < PLACEMENT_TRIES && spot == null; t++) {
        int x = r.between(edge, size - edge - fw);
        int y = r.between(edge, size - edge - fh);
        int[] f = {x, y, x + fw, y + fh};
        if (taken.stream().allMatch(o -> f[2] + gap <= o[0] || o[2] + gap <= f[0] || f[3] + gap <= o[1] || o[3] + gap <= f[1])) {
          spot = f;
        }
      }
      if (spot == null) {
        return null;
      }
      taken.add(spot);
      int p = item.pad();
      placed[i] = item.make().apply(new BoundingBox(spot[0] + p, spot[1] + p, spot[2] - p, spot[3] - p));
    }
    return Arrays.asList(placed);
  }
}
