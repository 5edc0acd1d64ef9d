package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.WeightSource;
import dev.fovea.vit.image.ImageDecoder;
import dev.fovea.vit.image.RgbImage;
import dev.fovea.vit.tokenizer.SharedData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link EdgeMask} on real pictures against the reference of
 * tools/reference/vicrop/make_geometry_reference.py (torch blur, numpy median filter and threshold).
 * Skips, saying so, when ../shared/data is absent.
 *
 * <p>Tolerances: filtered magnitudes within {@value #MAGNITUDE_TOL} absolute (torch's conv2d sums
 * in float32 in its own order; measured about 1.5e-7), row and column sums within 336 times that;
 * the mask exactly, except at pixels whose value lies within {@value #NEAR} of the threshold; the
 * pure-grad block means within {@value #POOL_TOL} relative. The measured figures are printed.
 */
class EdgeMaskReferenceTest {
  static final double MAGNITUDE_TOL = 1e-6;
  static final double NEAR = 1e-6;
  static final double POOL_TOL = 1e-6;

  @ParameterizedTest
  @ValueSource(strings = {"000000039769.png", "chelsea.png"})
  void matchesTheReference(String name) {
    RgbImage image = ImageDecoder.read(SharedData.imageFile(name));
    JsonNode meta = GeometryFixtures.json("edges.json");
    JsonNode ref = meta.get("images").get(name);
    int res = meta.get("resolution").intValue();
    assertEquals(ref.get("width").intValue(), image.width());
    assertEquals(ref.get("height").intValue(), image.height());

    EdgeMask.Result r = EdgeMask.compute(image, res, meta.get("medianKernel").intValue(), meta.get("blurKernel").intValue());
    float[] f = r.filtered();
    boolean[] mask = r.mask();
    int[] rows = GeometryFixtures.ints(meta.get("storedRows"));
    int[] cols = GeometryFixtures.ints(meta.get("storedCols"));
    try (WeightSource a = GeometryFixtures.arrays("edges.safetensors")) {
      // stored rows and columns, value by value
      float[] refRows = a.get(name + ".rows").toFloatArray();
      float[] refCols = a.get(name + ".cols").toFloatArray();
      double maxErr = 0;
      int exact = 0;
      for (int i = 0; i < rows.length; i++) {
        for (int x = 0; x < res; x++) {
          double e = Math.abs(f[rows[i] * res + x] - refRows[i * res + x]);
          maxErr = Math.max(maxErr, e);
          exact += e == 0 ? 1 : 0;
        }
      }
      for (int y = 0; y < res; y++) {
        for (int j = 0; j < cols.length; j++) {
          maxErr = Math.max(maxErr, Math.abs(f[y * res + cols[j]] - refCols[y * cols.length + j]));
        }
      }
      // every row and column in aggregate
      double maxSumErr = 0;
      JsonNode rowSums = ref.get("rowSums");
      JsonNode colSums = ref.get("colSums");
      for (int y = 0; y < res; y++) {
        double s = 0;
        double t = 0;
        for (int x = 0; x < res; x++) {
          s += f[y * res + x];
          t += f[x * res + y];
        }
        maxSumErr = Math.max(maxSumErr, Math.abs(s - rowSums.get(y).doubleValue()));
        maxSumErr = Math.max(maxSumErr, Math.abs(t - colSums.get(y).doubleValue()));
      }
      double thrErr = Math.abs(r.threshold() - ref.get("threshold").doubleValue());

      // the mask, bit by bit (np.packbits: first pixel in the most significant bit)
      long[] packed = a.get(name + ".mask").toLongArray();
      int differ = 0;
      int differFar = 0;
      int near = 0;
      for (int i = 0; i < mask.length; i++) {
        boolean expected = ((packed[i >> 3] >> (7 - (i & 7))) & 1) != 0;
        boolean close = Math.abs(f[i] - r.threshold()) <= NEAR;
        near += close ? 1 : 0;
        if (expected != mask[i]) {
          differ++;
          differFar += close ? 0 : 1;
        }
      }

      // pure-grad pooling of the synthetic ratio under the REFERENCE mask
      boolean[] refMask = new boolean[res * res];
      for (int i = 0; i < refMask.length; i++) {
        refMask[i] = ((packed[i >> 3] >> (7 - (i & 7))) & 1) != 0;
      }
      float[] ratio = new float[res * res];
      for (int y = 0; y < res; y++) {
        for (int x = 0; x < res; x++) {
          ratio[y * res + x] = (float) (((37 * x + 101 * y) % 251) / 64.0 + 0.5);
        }
      }
      int block = meta.get("block").intValue();
      float[] pooled = EdgeMask.pureGradMap(ratio, refMask, res, block).values();
      JsonNode refPooled = ref.get("pureGrad");
      double maxPoolErr = 0;
      for (int i = 0; i < pooled.length; i++) {
        double e = refPooled.get(i).doubleValue();
        maxPoolErr = Math.max(maxPoolErr, Math.abs(pooled[i] - e) / Math.max(1e-30, Math.abs(e)));
      }
      ImportanceMap ours = EdgeMask.pureGradMap(ratio, mask, res, block);

      System.out.printf("%s: filtered magnitudes max |err| %.3g over %d stored values (%d bit-exact in the stored rows), row/col sums"
              + " max |err| %.3g, threshold |err| %.3g; mask: %d of %d pixels above (reference %d), %d differ (%d within %.0e of the"
              + " threshold, %d pixels are that close); pure-grad pooling max rel err %.3g; pooled with our mask: %s%n",
          name, maxErr, rows.length * res + res * cols.length, exact, maxSumErr, thrErr, r.count(), mask.length, ref.get("maskCount").intValue(),
          differ, differ - differFar, NEAR, near, maxPoolErr, ours.equals(new ImportanceMap(res / block, res / block, pooled)) ? "identical" : "differs");

      assertTrue(maxErr <= MAGNITUDE_TOL, name + ": filtered magnitude error " + maxErr);
      assertTrue(maxSumErr <= MAGNITUDE_TOL * res, name + ": row/column sum error " + maxSumErr);
      assertTrue(thrErr <= MAGNITUDE_TOL, name + ": threshold error " + thrErr);
      assertEquals(0, differFar, name + ": mask bits that differ away from the threshold (" + differ + " differ in all)");
      assertTrue(maxPoolErr <= POOL_TOL, name + ": pure-grad pooling relative error " + maxPoolErr);
    }
  }
}
