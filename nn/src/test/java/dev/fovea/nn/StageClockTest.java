package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * StageClock: each stage is timed from the end of the one before to the end of its own module's
 * forward. Hooks that sleep inside two layers' forwards (registered before the clock's, so they run
 * first) put their sleep into the right stage; the clock's hooks go away when it closes.
 */
class StageClockTest {
  static ForwardHook sleep(long millis) {
    return (path, module, inputs, output) -> {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      return null;
    };
  }

  @Test
  void eachStageRunsFromThePreviousEndToItsOwn() {
    Encoder m = AttentionHookTest.model();
    Tensor x = AttentionHookTest.input();
    m.forward(x); // compiled before the timing, so the sleeps outweigh the layers' own work
    m.forward(x);
    try (var a = m.addForwardHook("layers.0", sleep(40)); var b = m.addForwardHook("layers.1", sleep(400));
        StageClock clock = StageClock.attach(m, "layers.0", "layers.1")) {
      long t0 = System.nanoTime();
      m.forward(x);
      double elapsed = (System.nanoTime() - t0) / 1e6;
      Map<String, Double> ms = clock.millis();
      assertEquals(List.of("layers.0", "layers.1"), List.copyOf(ms.keySet()));
      assertTrue(ms.get("layers.0") >= 40 && ms.get("layers.0") < 400, ms.toString());
      assertTrue(ms.get("layers.1") >= 400, ms.toString());
      // the stages split the forward's time: they do not overlap
      assertTrue(ms.get("layers.0") + ms.get("layers.1") <= elapsed + 0.2, ms + " over a forward of " + elapsed + " ms");
      // only the first forward after start counts; start() begins again
      m.forward(x);
      assertEquals(ms, clock.millis());
      clock.start();
      assertEquals(Map.of(), clock.millis());
    }
    assertFalse(m.module("layers.0").hasForwardHooks(), "closing the clock removes its hooks");
    assertThrows(RuntimeException.class, () -> StageClock.attach(m, "layers.7"));
  }
}
