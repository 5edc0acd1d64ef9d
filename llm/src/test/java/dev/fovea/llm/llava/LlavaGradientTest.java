package dev.fovea.llm.llava;

import static dev.fovea.llm.llava.LlavaFixtures.ints;
import static dev.fovea.llm.llava.LlavaFixtures.maxAbs;
import static dev.fovea.llm.llava.LlavaFixtures.maxAbsErr;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.autograd.GradMode;
import org.junit.jupiter.api.Test;

/**
 * d log p(top next token) / d pixels through decoder, splice, projector and vision tower, against
 * torch autograd. Tolerance: max |a - b| &lt;= 1e-6 + 1e-4 max |b|.
 */
class LlavaGradientTest {

  @Test
  void gradientOfTopLogProbabilityWithRespectToPixelsMatchesTorch() {
    try (var model = LlavaForConditionalGeneration.load(LlavaFixtures.dir()); WeightSource ref = LlavaFixtures.reference();
        var scope = Scope.open(); var g = GradMode.enable()) {
      Tensor pixels = ref.get("one.pixels").contiguous().detach().requiresGrad(true);
      LlavaInputs in = model.prepare(ints(ref, "one.prompt_ids"), pixels);
      try (var state = model.newState(1, in.length())) {
        Tensor lp = Ops.logSoftmax(model.forward(in, state, false).reshape(model.vocabSize()), -1);
        int top = (int) Ops.argmax(lp, 0, false).getLong();
        lp.select(0, top).backward();
      }
      assertNotNull(pixels.grad(), "pixels kept no gradient");
      float[] want = ref.get("one.grad_pixels").toFloatArray();
      double err = maxAbsErr(pixels.grad().toFloatArray(), want);
      System.out.printf("llava d/dpixels: max abs err %.3g (max |grad| %.3g)%n", err, maxAbs(want));
      assertTrue(err <= 1e-6 + 1e-4 * maxAbs(want), "grad pixels err " + err);
    }
  }
}
