package dev.fovea.methods.vicrop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * ViCrop's chained maps on the tiny InstructBLIP (llm's fixture; 4 x 4 patch grid, 8 queries, cross
 * layers 0, 2, 4 of 6, LLM layer 1 of 2) against tools/reference/instructblip's plain-torch chain of
 * the intended formulation, and pure-grad's pixel-gradient norms. Tolerances: each prompt's rel-att chain, the grad-att map and the pixel-gradient norms within
 * 1e-4 relative to the largest reference value; the ratio within 1e-4 relative per cell (every
 * denominator is well away from 0 here). The released code's slicing fails as torch's bmm does.
 */
class InstructBlipImportanceReferenceTest {
  static final Path MODEL = Path.of("../llm/src/test/resources/instructblip-reference/tiny");

  static int[] ints(WeightSource ref, String name) {
    long[] v = ref.get(name).toLongArray();
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }

  /** max |a - b| / max |b|. */
  static double relToMax(float[] a, float[] b) {
    assertEquals(b.length, a.length);
    double m = 0;
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(b[i]));
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d / m;
  }

  @Test
  void chainedMapsMatchTheIntendedFormulation() throws Exception {
    JsonNode meta = new ObjectMapper().readTree(MODEL.resolve("reference.json").toFile()).get("vicrop");
    try (var model = InstructBlipForConditionalGeneration.load(MODEL); WeightSource ref = WeightFiles.open(MODEL.resolve("reference.safetensors"));
        var scope = Scope.open()) {
      var layers = new InstructBlipImportance.Layers(meta.get("cross_index").asInt(), meta.get("llm_layer").asInt(),
          InstructBlipImportance.Columns.INTENDED);
      var imp = new InstructBlipImportance(model, layers);
      assertEquals(meta.get("qformer_layer").asInt(), imp.qformerLayer(), "cross-attention index 2 names Q-Former layer 4");
      Tensor pixels = ref.get("pixels");
      float[] q = imp.relAttChain(pixels, ints(ref, "vicrop.q.qformer_ids"), ints(ref, "vicrop.q.prompt_ids"));
      float[] g = imp.relAttChain(pixels, ints(ref, "vicrop.g.qformer_ids"), ints(ref, "vicrop.g.prompt_ids"));
      ImportanceMap rel = imp.relAtt(pixels, ints(ref, "vicrop.q.qformer_ids"), ints(ref, "vicrop.q.prompt_ids"), ints(ref, "vicrop.g.qformer_ids"),
          ints(ref, "vicrop.g.prompt_ids"));
      ImportanceMap grad = imp.gradAtt(pixels, ints(ref, "vicrop.q.qformer_ids"), ints(ref, "vicrop.q.prompt_ids"));
      double eq = relToMax(q, ref.get("vicrop.q.map").toFloatArray());
      double eg = relToMax(g, ref.get("vicrop.g.map").toFloatArray());
      float[] wantRel = ref.get("vicrop.rel_att").toFloatArray();
      double er = 0;
      for (int i = 0; i < wantRel.length; i++) {
        er = Math.max(er, Math.abs(rel.values()[i] - wantRel[i]) / Math.abs(wantRel[i]));
      }
      double ega = relToMax(grad.values(), ref.get("vicrop.grad_att").toFloatArray());
      System.out.printf("instructblip vicrop: chain q %.3g, chain g %.3g, rel-att %.3g, grad-att %.3g%n", eq, eg, er, ega);
      assertEquals(4, rel.rows());
      assertEquals(4, rel.cols());
      assertTrue(eq <= 1e-4, "Pq chain rel err " + eq);
      assertTrue(eg <= 1e-4, "Pg chain rel err " + eg);
      assertTrue(er <= 1e-4, "rel-att ratio rel err " + er);
      assertTrue(ega <= 1e-4, "grad-att rel err " + ega);
      float max = 0;
      for (float v : grad.values()) {
        max = Math.max(max, v);
      }
      assertTrue(max > 0, "grad-att keeps some positive evidence");

      float[] norms = imp.pixelGradientNorms(pixels, ints(ref, "vicrop.q.qformer_ids"), ints(ref, "vicrop.q.prompt_ids"));
      double en = relToMax(norms, ref.get("vicrop.q.pixel_grad_norms").toFloatArray());
      System.out.printf("instructblip pure-grad pixel norms %.3g%n", en);
      assertTrue(en <= 1e-4, "pure-grad pixel gradient norms rel err " + en);

      // the released code's columns: 16 key positions against 8 queries cannot multiply (torch: "Expected size ... [1, 16] but got: [1, 8]")
      assertTrue(meta.get("released_bmm").asText().contains("Expected size"), meta.get("released_bmm").asText());
      var released = new InstructBlipImportance(model, new InstructBlipImportance.Layers(layers.crossAttentionIndex(), layers.llmLayer(),
          InstructBlipImportance.Columns.RELEASED));
      var e = assertThrows(ViCropException.class, () -> released.relAttChain(pixels, ints(ref, "vicrop.q.qformer_ids"), ints(ref, "vicrop.q.prompt_ids")));
      assertTrue(e.getMessage().contains("first 16 key positions") && e.getMessage().contains("8 queries"), e.getMessage());
    }
  }

  @Test
  void namesLayersThatDoNotExist() {
    try (var model = InstructBlipForConditionalGeneration.load(MODEL)) {
      var e = assertThrows(ViCropException.class, () -> new InstructBlipImportance(model, new InstructBlipImportance.Layers(3, 1,
          InstructBlipImportance.Columns.INTENDED)));
      assertTrue(e.getMessage().contains("3 cross-attending layers"), e.getMessage());
      var l = assertThrows(ViCropException.class, () -> new InstructBlipImportance(model, new InstructBlipImportance.Layers(2, 15,
          InstructBlipImportance.Columns.INTENDED)));
      assertTrue(l.getMessage().contains("attention layer 15 does not exist"), l.getMessage());
    }
  }
}
