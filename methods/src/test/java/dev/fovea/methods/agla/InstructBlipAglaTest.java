package dev.fovea.methods.agla;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * AGLA's two branches on InstructBLIP: the original image's and the masked image's first-step
 * logits (the fixture's second image stands in for the masked one) against
 * tools/reference/instructblip's torch forward within 1e-4 relative to their largest value; the
 * assembled logits are {@link Assembly#assemble} of the two (the assembly is tested on LLaVA's).
 */
class InstructBlipAglaTest {
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
      m = Math.max(m, Math.abs(b[i]));
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d / m;
  }

  @Test
  void branchesMatchTorch() {
    try (var model = InstructBlipForConditionalGeneration.load(MODEL); WeightSource ref = WeightFiles.open(MODEL.resolve("reference.safetensors"));
        var scope = Scope.open()) {
      List<float[]> branches = new ArrayList<>();
      float[][] assembled = new float[1][];
      AglaConfig config = AglaConfig.DEFAULT;
      new Agla(model, config).observed((b, d) -> {
        if (assembled[0] == null) {
          branches.addAll(b);
          assembled[0] = d.clone();
        }
      }).run(ints(ref, "prompt_ids"), ints(ref, "qformer_ids"), ref.get("pixels"), ref.get("crop.pixels"), Uniforms.seeded(1),
          GenerationConfig.maxNewTokens(1), null, null);
      double eo = relToMax(branches.get(0), ref.get("avc.z").toFloatArray());
      double em = relToMax(branches.get(1), ref.get("agla.z_masked").toFloatArray());
      System.out.printf("instructblip agla: original %.3g, masked %.3g%n", eo, em);
      assertTrue(eo <= 1e-4 && em <= 1e-4, eo + " " + em);
      assertArrayEquals(Assembly.assemble(branches.get(0), branches.get(1), config.alpha(), config.beta()), assembled[0], 0f);
    }
  }
}
