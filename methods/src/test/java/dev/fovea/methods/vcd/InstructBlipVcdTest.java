package dev.fovea.methods.vcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Uniforms;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * VCD on InstructBLIP against tools/reference/instructblip's torch version of spec 3.1-3.2 with the
 * recorded noise: the original and distorted branches' first-step logits and the contrasted logits
 * within 1e-4 relative to their largest value, the same plausibility cut.
 */
class InstructBlipVcdTest {
  static final Path MODEL = Path.of("../llm/src/test/resources/instructblip-reference/tiny");

  static int[] ints(WeightSource ref, String name) {
    long[] v = ref.get(name).toLongArray();
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }

  static double relToMax(float[] a, float[] b) {
    double m = 0;
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.isInfinite(b[i]) || Float.isInfinite(a[i])) {
        assertEquals(b[i], a[i], "cut at " + i);
        continue;
      }
      m = Math.max(m, Math.abs(b[i]));
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d / m;
  }

  @Test
  void firstStepMatchesTorch() {
    try (var model = InstructBlipForConditionalGeneration.load(MODEL); WeightSource ref = WeightFiles.open(MODEL.resolve("reference.safetensors"));
        var scope = Scope.open()) {
      List<float[]> branches = new ArrayList<>();
      float[][] contrasted = new float[1][];
      Vcd vcd = new Vcd(model, VcdConfig.DEFAULT).observed((b, d) -> {
        if (contrasted[0] == null) {
          branches.addAll(b);
          contrasted[0] = d.clone();
        }
      });
      vcd.run(ints(ref, "prompt_ids"), ints(ref, "qformer_ids"), ref.get("pixels"), ref.get("vcd.noise"), Uniforms.seeded(42),
          GenerationConfig.maxNewTokens(1), null, null);
      double ez = relToMax(branches.get(0), ref.get("vcd.z").toFloatArray());
      double ezd = relToMax(branches.get(1), ref.get("vcd.z_distorted").toFloatArray());
      double ed = relToMax(contrasted[0], ref.get("vcd.contrasted").toFloatArray());
      System.out.printf("instructblip vcd: z %.3g, z' %.3g, contrasted %.3g%n", ez, ezd, ed);
      assertTrue(ez <= 1e-4 && ezd <= 1e-4 && ed <= 1e-4, ez + " " + ezd + " " + ed);
    }
  }
}
