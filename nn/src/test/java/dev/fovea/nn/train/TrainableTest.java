package dev.fovea.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Frozen parameters, F16 weights, and the module after training. */
class TrainableTest {

  /** Training only fc2 and the norm leaves the embedding and fc1 as they were, bit for bit, and gives them no gradient. */
  @Test
  void frozenParametersStayAsTheyAre() {
    TokenMlp model = new TokenMlp(12, 8, 16);
    model.initRandom(3);
    Tensor embed = model.embed.weight.get();
    float[] fc1 = model.fc1.weight.get().toFloatArray();
    float[] fc2 = model.fc2.weight.get().toFloatArray();
    try (Trainable params = Trainable.of(model, n -> n.startsWith("fc2.") || n.startsWith("norm."));
        AdamW opt = new AdamW(params, AdamW.Config.defaults().withLr(1e-2))) {
      assertEquals(List.of("norm.weight", "norm.bias", "fc2.weight", "fc2.bias"), params.names());
      new Trainer<List<TrainerTest.Example>>(params, opt, LrSchedule.constant(), BatchSource.shuffled(TrainerTest.dataset(10, 12, 5), 2),
          TrainerTest.loss(model), Trainer.Config.steps(3)).run();
      assertTrue(embed == model.embed.weight.get(), "a frozen parameter keeps its tensor");
      assertFalse(embed.requiresGrad());
      assertArrayEquals(fc1, model.fc1.weight.get().toFloatArray());
      assertFalse(java.util.Arrays.equals(fc2, model.fc2.weight.get().toFloatArray()), "fc2 was trained");
    }
    // after close the module holds plain tensors with the trained values, and still runs
    assertFalse(model.fc2.weight.get().requiresGrad());
    try (Scope s = Scope.open()) {
      assertEquals(1, model.loss(Tensor.ofInts(new int[] {1, 2}, 1, 2), Tensor.ofInts(new int[] {3, 4}, 1, 2)).numel());
    }
  }

  /** F16 weights are trained as F32 copies; the module's own tensor is replaced, the source left alone. */
  @Test
  void halfPrecisionWeightsAreWidened() {
    TokenMlp model = new TokenMlp(12, 8, 16);
    model.initRandom(4);
    Tensor f16 = model.fc1.weight.get().to(DType.F16).copyTo(Scope.global());
    model.fc1.weight.set(f16);
    try (Trainable params = Trainable.of(model, n -> n.equals("fc1.weight"))) {
      assertEquals(DType.F32, model.fc1.weight.get().dtype());
      assertNotSame(f16, model.fc1.weight.get());
      assertArrayEquals(f16.toFloatArray(), params.value(0).toFloatArray());
    }
  }

  @Test
  void nothingToTrainIsRefused() {
    TokenMlp model = new TokenMlp(12, 8, 16);
    model.initRandom(5);
    TrainException e = assertThrows(TrainException.class, () -> Trainable.of(model, n -> false));
    assertTrue(e.getMessage().contains("the predicate accepted none of 7"), e.getMessage());
  }
}
