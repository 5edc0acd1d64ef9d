package dev.fovea.nn.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The cosine schedule against transformers' formulas as written in tools/reference/train (Python
 * doubles): equal to 1e-15 over warm-up, decay and four steps past the end, where the floor holds.
 */
class LrScheduleTest {

  @Test
  void cosineWithWarmupMatchesTransformers() {
    JsonNode c = TrainFixtures.meta().get("schedule");
    long warmup = c.get("warmup").asLong();
    long total = c.get("total").asLong();
    double[] plain = TrainFixtures.series("schedule.cosine");
    double[] floored = TrainFixtures.series("schedule.cosine_min");
    LrSchedule a = LrSchedule.cosineWithWarmup(warmup, total);
    LrSchedule b = LrSchedule.cosineWithWarmup(warmup, total, c.get("min_lr_rate").asDouble());
    for (int s = 0; s <= total; s++) {
      assertEquals(plain[s], a.factor(s), 1e-15, "cosine at step " + s);
      assertEquals(floored[s], b.factor(s), 1e-15, "cosine with min lr at step " + s);
    }
    for (int s = (int) total + 1; s < plain.length; s++) {
      assertEquals(0.0, a.factor(s), "past the end the factor stays at 0");
      assertEquals(c.get("min_lr_rate").asDouble(), b.factor(s), 1e-15, "past the end the factor stays at the floor");
    }
    assertEquals(0.0, a.factor(0), "the first update of a warm-up runs at lr 0, as the HF Trainer's");
    assertEquals(1.0, LrSchedule.cosineWithWarmup(0, 10).factor(0));
    assertEquals(1.0, LrSchedule.constant().factor(123));
  }

  @Test
  void badSettingsAreRefused() {
    assertThrows(TrainException.class, () -> LrSchedule.cosineWithWarmup(11, 10));
    assertThrows(TrainException.class, () -> LrSchedule.cosineWithWarmup(1, 0));
    assertThrows(TrainException.class, () -> LrSchedule.cosineWithWarmup(1, 10, 1.5));
  }
}
