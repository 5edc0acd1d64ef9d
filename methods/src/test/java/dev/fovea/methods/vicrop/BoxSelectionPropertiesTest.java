package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/** Properties of {@link BoxSelection} over random maps, image sizes and base sizes. */
class BoxSelectionPropertiesTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 150);

  /** (rows, cols) of a map in [1, 30]. */
  static Gen<int[]> mapSizes() {
    return integers().between(1, 30).zip(integers().between(1, 30), (r, c) -> new int[] {r, c});
  }

  /** (width, height) in [1, max]. */
  static Gen<int[]> imageSizes(int max) {
    return integers().between(1, max).zip(integers().between(1, max), (w, h) -> new int[] {w, h});
  }

  static ImportanceMap random(long seed, int rows, int cols) {
    Random rng = new Random(seed);
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextInt(4) == 0 ? rng.nextInt(3) : rng.nextFloat(); // some ties
    }
    return new ImportanceMap(rows, cols, v);
  }

  @Test
  void theBoxIsInsideTheImageAndItsSideFollowsTheChosenRatio() {
    qt().withExamples(EXAMPLES)
        .forAll(mapSizes(), imageSizes(5000), integers().between(2, 700), longs().all())
        .checkAssert((ms, is, base, seed) -> {
          int w = is[0];
          int h = is[1];
          BoxSelection.Selection s = BoxSelection.select(random(seed, ms[0], ms[1]), w, h, base);
          Box b = s.box();
          String what = ms[0] + " x " + ms[1] + " map, " + w + " x " + h + " image, base " + base + ": " + s.describe();
          assertTrue(b.inside(w, h), what);
          if (s.fullImage()) {
            assertEquals(new Box(0, 0, w, h), b, what);
            return;
          }
          long half = (long) Math.floor(base * s.ratio() / 2);
          assertEquals(Math.min(w, 2 * half), b.width(), what);
          assertEquals(Math.min(h, 2 * half), b.height(), what);
          // the chosen ratio is the first of the sharpest
          double best = s.trials().get(s.ratioIndex()).sharpness();
          for (int i = 0; i < s.trials().size(); i++) {
            BoxSelection.Trial t = s.trials().get(i);
            if (t != null) {
              assertTrue(i < s.ratioIndex() ? t.sharpness() < best : t.sharpness() <= best, what);
            }
          }
        });
  }

  @Test
  void aSingleHotCellIsInsideTheBox() {
    qt().withExamples(EXAMPLES)
        .forAll(mapSizes(), imageSizes(4000), integers().between(16, 500), longs().all())
        .checkAssert((ms, is, base, seed) -> {
          int rows = ms[0];
          int cols = ms[1];
          // cells at least 8 pixels wide and tall, so rounding of the centre cannot miss the cell
          int w = Math.max(is[0], 8 * cols);
          int h = Math.max(is[1], 8 * rows);
          Random rng = new Random(seed);
          int hr = rng.nextInt(rows);
          int hc = rng.nextInt(cols);
          float[] v = new float[rows * cols];
          Arrays.fill(v, 1f);
          v[hr * cols + hc] = 2f + rng.nextInt(100);
          BoxSelection.Selection s = BoxSelection.select(new ImportanceMap(rows, cols, v), w, h, base);
          int px = (int) ((hc + 0.5) * w / cols);
          int py = (int) ((hr + 0.5) * h / rows);
          Box b = s.box();
          String what = "hot cell (row " + hr + ", col " + hc + ") centre (" + px + ", " + py + ") in " + w + " x " + h + ", base " + base + ": "
              + s.describe();
          assertTrue(b.x1() <= px && px < b.x2() && b.y1() <= py && py < b.y2(), what);
        });
  }

  @Test
  void imagesSmallerThanTheBaseSizeAreReturnedWhole() {
    qt().withExamples(EXAMPLES)
        .forAll(mapSizes(), integers().between(2, 700), longs().all())
        .checkAssert((ms, base, seed) -> {
          Random rng = new Random(seed);
          int w = 1 + rng.nextInt(base - 1); // strictly smaller: when a side EQUALS the base size the
          int h = 1 + rng.nextInt(base - 1); // reference's double division can fall just short (see BoxSelectionTest)
          BoxSelection.Selection s = BoxSelection.select(random(seed, ms[0], ms[1]), w, h, base);
          assertTrue(s.fullImage(), s.describe());
          assertEquals(new Box(0, 0, w, h), s.box());
        });
  }
}
