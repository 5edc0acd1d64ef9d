package dev.fovea.methods.vicrop;

import static dev.fovea.methods.vicrop.BoxSelectionTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.vit.image.RgbImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Tiling}: the spec's examples, the reference plans, crops, stitching and bad input. */
class TilingTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 150);

  static RgbImage random(long seed, int w, int h) {
    byte[] px = new byte[3 * w * h];
    new Random(seed).nextBytes(px);
    return RgbImage.of(w, h, px);
  }

  @Test
  void specExamples() {
    assertEquals(new Tiling.Plan(2246, 1582, 2, 2, 1123, 791), Tiling.plan(2246, 1582));
    assertEquals(new Tiling.Plan(3000, 1000, 1, 3, 1000, 1000), Tiling.plan(3000, 1000));
    assertEquals(new Tiling.Plan(1000, 2000, 2, 1, 1000, 1000), Tiling.plan(1000, 2000));
    // the reference computes int(0.8) = 0 columns and crashes; our guard gives one tile
    assertEquals(new Tiling.Plan(800, 1000, 1, 1, 800, 1000), Tiling.plan(800, 1000));
    assertEquals(
        List.of(new Box(0, 0, 1123, 791), new Box(1123, 0, 2246, 791), new Box(0, 791, 1123, 1582), new Box(1123, 791, 2246, 1582)),
        Tiling.plan(2246, 1582).boxes());
    assertEquals(new Box(2000, 0, 3000, 1000), Tiling.plan(3000, 1000).box(0, 2));
  }

  @Test
  void anExtremelyWideImageCanGetATileWhollyOutsideAsInTheReference() {
    // 11 x 2 at threshold 2: 1 row, int(11 / 2) = 5 columns of ceil(11 / 5) = 3: the fifth starts at 12
    Tiling.Plan p = Tiling.plan(11, 2, 2);
    assertEquals(new Tiling.Plan(11, 2, 1, 5, 3, 2), p);
    assertEquals(new Box(12, 0, 15, 2), p.box(0, 4));
    assertEquals(RgbImage.filled(3, 2, 0, 0, 0), Tiling.tiles(random(5, 11, 2), p).get(4));
  }

  @Test
  void matchesTheReferencePlans() {
    JsonNode plans = GeometryFixtures.json("tiling.json").get("plans");
    assertTrue(plans.size() >= 10);
    for (JsonNode p : plans) {
      int w = p.get("width").intValue();
      int h = p.get("height").intValue();
      Tiling.Plan expected = new Tiling.Plan(w, h, p.get("rows").intValue(), p.get("cols").intValue(), p.get("tileWidth").intValue(),
          p.get("tileHeight").intValue());
      assertEquals(expected, Tiling.plan(w, h, p.get("threshold").intValue()), p.toString());
    }
  }

  @Test
  void tilesCoverTheImageRowMajor() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 9000), integers().between(1, 9000), integers().between(1, 2048))
        .checkAssert((w, h, thr) -> {
          Tiling.Plan p = Tiling.plan(w, h, thr);
          String what = w + " x " + h + " at " + thr + ": " + p;
          assertTrue(p.rows() >= 1 && p.cols() >= 1, what);
          assertTrue(p.tileHeight() <= thr, what);
          assertTrue((long) p.cols() * p.tileWidth() >= w, what);
          if (w >= (long) p.cols() * (p.cols() - 1)) { // else the last column can lie wholly outside (see Tiling)
            assertTrue((long) (p.cols() - 1) * p.tileWidth() < w, what);
          }
          assertTrue((long) p.rows() * p.tileHeight() >= h && (long) (p.rows() - 1) * p.tileHeight() < h, what);
          if ((long) p.rows() * p.cols() <= 4096) {
            List<Box> boxes = p.boxes();
            assertEquals(p.count(), boxes.size());
            assertEquals(p.box(p.rows() - 1, p.cols() - 1), boxes.getLast());
          }
          assertEquals(new Box(0, 0, p.tileWidth(), p.tileHeight()), p.box(0, 0));
          if ((long) p.rows() * p.cols() > 1) {
            Box second = p.cols() > 1 ? p.box(0, 1) : p.box(1, 0);
            assertEquals(p.cols() > 1 ? new Box(p.tileWidth(), 0, 2 * p.tileWidth(), p.tileHeight())
                : new Box(0, p.tileHeight(), p.tileWidth(), 2 * p.tileHeight()), second, what);
          }
        });
  }

  /**
   * {@link Tiling#leastThreshold}: the smallest threshold with at most the limit of tiles (the one
   * below it gives more), or 0 when even one row has too many columns.
   */
  @Test
  void leastThresholdIsTheSmallestThatGivesFewEnoughTiles() {
    assertEquals(115, Tiling.leastThreshold(1000, 800, 64)); // 7 x 8 = 56; at 114, 8 x 10 = 80
    assertEquals(0, Tiling.leastThreshold(10_000, 10, 64)); // one row of 1000 tiles at any threshold
    assertEquals(791, Tiling.leastThreshold(2246, 1582, 4)); // 2 x 2 down to 791 px; at 790, 3 rows of 4
    assertEquals(1582, Tiling.leastThreshold(2246, 1582, 1)); // one tile only at the image's height
    assertMessage("the tile limit 0 must be positive", () -> Tiling.leastThreshold(10, 10, 0));
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 20_000), integers().between(1, 20_000), integers().between(1, 200))
        .checkAssert((w, h, max) -> {
          int t = Tiling.leastThreshold(w, h, max);
          String what = w + " x " + h + " at most " + max + ": " + t;
          if (t == 0) {
            assertTrue(Tiling.tiles(w, h, h) > max, what);
          } else {
            assertTrue(Tiling.tiles(w, h, t) <= max, what);
            assertTrue(t == 1 || Tiling.tiles(w, h, t - 1) > max, what);
          }
        });
  }

  @Test
  void cropTileFillsOutsideWithBlackAndCropKeepsPixels() {
    RgbImage img = random(7, 10, 7);
    RgbImage tile = Tiling.cropTile(img, new Box(6, 4, 12, 9));
    assertEquals(6, tile.width());
    assertEquals(5, tile.height());
    for (int y = 0; y < 5; y++) {
      for (int x = 0; x < 6; x++) {
        for (int c = 0; c < 3; c++) {
          int expected = (6 + x < 10 && 4 + y < 7) ? img.get(6 + x, 4 + y, c) : 0;
          assertEquals(expected, tile.get(x, y, c), "(" + x + ", " + y + ") channel " + c);
        }
      }
    }
    RgbImage crop = Tiling.crop(img, new Box(2, 1, 5, 7));
    assertEquals(img.crop(2, 1, 5, 7), crop);
    // tiles of a plan whose boxes run past the border (7 x 3 at threshold 2: 2 rows, 4 columns of 2 x 2)
    Tiling.Plan plan = Tiling.plan(7, 3, 2);
    assertEquals(new Tiling.Plan(7, 3, 2, 4, 2, 2), plan);
    List<RgbImage> tiles = Tiling.tiles(random(1, 7, 3), plan);
    assertEquals(8, tiles.size());
    assertEquals(0, tiles.get(7).get(1, 1, 0)); // pixel (7, 3) lies outside
  }

  @Test
  void stitchPlacesTileJIAtBlockRowJColumnI() {
    List<ImportanceMap> tiles = new ArrayList<>();
    for (int k = 0; k < 6; k++) { // 2 rows x 3 cols of 2 x 3 maps: value = 100 k + cell
      float[] v = new float[6];
      for (int i = 0; i < 6; i++) {
        v[i] = 100 * k + i;
      }
      tiles.add(new ImportanceMap(2, 3, v));
    }
    ImportanceMap m = Tiling.stitch(tiles, 2, 3);
    assertEquals(4, m.rows());
    assertEquals(9, m.cols());
    for (int j = 0; j < 2; j++) {
      for (int i = 0; i < 3; i++) {
        for (int r = 0; r < 2; r++) {
          for (int c = 0; c < 3; c++) {
            assertEquals(100 * (j * 3 + i) + r * 3 + c, m.get(j * 2 + r, i * 3 + c), "tile (" + j + ", " + i + ") cell (" + r + ", " + c + ")");
          }
        }
      }
    }
  }

  @Test
  void badInputIsRejectedClearly() {
    ImportanceMap a = new ImportanceMap(24, 24, new float[576]);
    ImportanceMap b = new ImportanceMap(24, 23, new float[552]);
    assertMessage("at least one tile map, got none", () -> Tiling.stitch(List.of(), 1, 1));
    assertMessage("at least one tile map, got none", () -> Tiling.stitch(null, 1, 1));
    assertMessage("a 2 x 2 tiling needs 4 tile maps, got 3", () -> Tiling.stitch(List.of(a, a, a), 2, 2));
    assertMessage("tile map 1 (row 0, col 1) must match tile 0: the importance map is 24 x 23 but 24 x 24 is needed",
        () -> Tiling.stitch(List.of(a, b), 1, 2));
    assertMessage("tiling 0 x 1 must be positive", () -> Tiling.stitch(List.of(a), 0, 1));
    RgbImage img = random(3, 40, 30);
    assertMessage("box (30, 0, 41, 10) lies outside the 40 x 30 image", () -> Tiling.crop(img, new Box(30, 0, 41, 10)));
    assertMessage("box (-1, 0, 10, 10) lies outside", () -> Tiling.crop(img, new Box(-1, 0, 10, 10)));
    assertMessage("image size 0 x 10 must be positive", () -> Tiling.plan(0, 10));
    assertMessage("tiling threshold 0 must be positive", () -> Tiling.plan(10, 10, 0));
    assertMessage("tile (row 1, col 0) is outside the 1 x 1 tiling", () -> Tiling.plan(10, 10).box(1, 0));
    assertMessage("the tiling is for a 10 x 10 image, got 40 x 30", () -> Tiling.tiles(img, Tiling.plan(10, 10)));
    assertMessage("importance map 24 x 24 needs 576 values, got 575", () -> new ImportanceMap(24, 24, new float[575]));
  }
}
