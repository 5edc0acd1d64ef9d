package dev.fovea.methods.avc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * AVC over InstructBLIP's query positions (spec 2.3: "the 32 query-token positions 0..31"; 8 in the
 * tiny fixture) against tools/reference/instructblip's torch version of spec 2.2-2.5: the chosen
 * layers and blind positions exactly (smallest |a - tau| / tau is 0.004), both branches' first-step
 * logits and the contrasted logits within 1e-4 relative to their largest value, the same cut.
 */
class InstructBlipAvcTest {
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
  void blindQueriesAndFirstStepMatchTorch() throws Exception {
    JsonNode meta = new ObjectMapper().readTree(MODEL.resolve("reference.json").toFile()).get("avc");
    try (var model = InstructBlipForConditionalGeneration.load(MODEL); WeightSource ref = WeightFiles.open(MODEL.resolve("reference.safetensors"));
        var scope = Scope.open()) {
      var in = model.prepare(ints(ref, "prompt_ids"), ints(ref, "qformer_ids"), ref.get("pixels"));
      List<float[]> branches = new ArrayList<>();
      float[][] contrasted = new float[1][];
      Avc avc = new Avc(model, AvcConfig.DEFAULT).observed((b, d) -> {
        if (contrasted[0] == null) {
          branches.addAll(b);
          contrasted[0] = d.clone();
        }
      });
      Avc.Result r = avc.run(in, Uniforms.seeded(42), GenerationConfig.maxNewTokens(1), null, null);
      List<Integer> layers = new ArrayList<>();
      meta.get("layers").forEach(l -> layers.add(l.asInt()));
      assertEquals(layers, java.util.Arrays.stream(r.blind().layers()).sorted().boxed().toList(), "selected layers");
      assertArrayEquals(ints(ref, "avc.blind"), r.blind().blindPositions(), "blind query positions");
      double ez = relToMax(branches.get(0), ref.get("avc.z").toFloatArray());
      double ezs = relToMax(branches.get(1), ref.get("avc.z_blind").toFloatArray());
      double ed = relToMax(contrasted[0], ref.get("avc.contrasted").toFloatArray());
      System.out.printf("instructblip avc: z %.3g, z* %.3g, contrasted %.3g%n", ez, ezs, ed);
      assertTrue(ez <= 1e-4 && ezs <= 1e-4 && ed <= 1e-4, ez + " " + ezs + " " + ed);
    }
  }
}
