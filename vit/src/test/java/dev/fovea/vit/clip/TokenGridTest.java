package dev.fovea.vit.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.tensor.ops.Interpolate;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The token-grid resize against {@code torch.nn.functional.interpolate(mode="bicubic",
 * align_corners=False)} (python3-torch 1.13, {@code tools/reference/abs/make_abs_reference.py}) on
 * random [1, 24, h, w] grids (values 3 N(0, 1), up to about 12), up- and down-sampling, odd and even
 * sizes, a 1 x 1 window. Tolerance: {@code |a - b| <= 1e-6 * max|x|} per element, x the input grid.
 * Not to the last bit: torch 1.13 evaluates the Keys weights in float32, where {@code cc2(t + 1)}
 * loses up to about 3e-7 absolute to cancellation (measured against its one-hot responses), which the
 * output carries at about 5e-7 of the inputs' scale; fovea's weights are double.
 */
class TokenGridTest {
  static final Path ROOT = ClipReference.resourceDir("dino-reference");

  @Test
  void bicubicMatchesTorchOnRandomGrids() throws IOException {
    JsonNode meta = new ObjectMapper().readTree(ROOT.resolve("bicubic.ref.json").toFile());
    try (WeightSource ref = WeightFiles.open(ROOT.resolve("bicubic.ref.safetensors")); Scope s = Scope.open()) {
      int n = 0;
      for (JsonNode c : meta.get("cases")) {
        String name = c.asText();
        Tensor in = ref.get(name + "/in"); // [1, D, h, w]
        Tensor want = ref.get(name + "/out"); // [1, D, oh, ow]
        int oh = want.size(2);
        int ow = want.size(3);
        double scale = maxAbs(in);
        check(name + " Ops.interpolate", Ops.interpolate(in, oh, ow, Interpolate.Mode.BICUBIC, false), want, scale);
        // the same through the [h, w, D] token layout
        Tensor grid = in.select(0, 0).permute(1, 2, 0); // [h, w, D]
        Tensor viaGrid = TokenGrid.resize(grid, oh, ow).permute(2, 0, 1).unsqueeze(0);
        check(name + " TokenGrid.resize", viaGrid, want, scale);
        n++;
      }
      assertTrue(n >= 8, "expected the reference's 10 cases, found " + n);
    }
  }

  @Test
  void wholeGridWindowIsTheIdentityAndKeepsCls() {
    try (Scope s = Scope.open()) {
      int g = 5;
      int d = 3;
      float[] v = new float[(1 + g * g) * d];
      java.util.Random r = new java.util.Random(3);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) r.nextGaussian();
      }
      Tensor tokens = Tensor.of(v, 1 + g * g, d);
      Tensor same = TokenGrid.cropResize(tokens, g, new TokenGrid.Window(0, 0, g, g));
      float[] got = same.contiguous().toFloatArray();
      for (int i = 0; i < v.length; i++) {
        assertTrue(Math.abs(got[i] - v[i]) <= 1e-6, "identity at " + i + ": " + got[i] + " vs " + v[i]);
      }
      // a 1 x 1 window fills the grid with that cell; row 0 stays the CLS
      Tensor one = TokenGrid.cropResize(tokens, g, new TokenGrid.Window(2, 3, 3, 4)).contiguous();
      float[] o = one.toFloatArray();
      for (int k = 0; k < d; k++) {
        assertTrue(o[k] == v[k], "CLS kept");
        for (int p = 1; p <= g * g; p++) {
          assertTrue(Math.abs(o[p * d + k] - v[(1 + 2 * g + 3) * d + k]) <= 1e-6, "1x1 window broadcasts its cell");
        }
      }
    }
  }

  static double maxAbs(Tensor t) {
    double m = 0;
    for (float v : t.contiguous().toFloatArray()) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static void check(String what, Tensor actual, Tensor expected, double scale) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    float[] a = actual.contiguous().toFloatArray();
    float[] b = expected.contiguous().toFloatArray();
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double e = Math.abs((double) a[i] - b[i]);
      worst = Math.max(worst, e);
      int at = i;
      assertTrue(e <= 1e-6 * scale, () -> what + ": element " + at + " is " + a[at] + ", torch " + b[at] + " (bound 1e-6 * max|x| = "
          + 1e-6 * scale + ")");
    }
    System.out.printf("%-40s max|a-b| %.3g  max|x| %.3g  ratio %.3g%n", what, worst, scale, worst / scale);
  }
}
