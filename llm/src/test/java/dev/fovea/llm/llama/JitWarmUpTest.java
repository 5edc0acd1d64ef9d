package dev.fovea.llm.llama;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JitWarmUpTest {

  /** Every weight type a LLaMA file can hold runs through the tiny model's prefill and steps (a failure would be swallowed in the thread). */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
  void everyWeightTypeRuns(DType weights) {
    assertDoesNotThrow(() -> JitWarmUp.run(weights));
  }

  @Test
  void awaitReturnsOnceTheQueuedRoundsAreDone() {
    JitWarmUp w = JitWarmUp.begin().weights(DType.Q8_0).weights(DType.F32);
    Thread t = thread(w);
    assertTrue(t.isDaemon(), "a warm-up must never keep the JVM alive");
    w.await(120_000);
    assertFalse(t.isAlive(), "the thread ends after the queued rounds");
    w.await(1); // a second wait returns at once
    w.close();
  }

  @Test
  void offWithTheProperty() {
    String before = System.getProperty("fovea.warmup");
    System.setProperty("fovea.warmup", "false");
    try {
      JitWarmUp w = JitWarmUp.begin().weights(DType.BF16);
      assertEquals(Thread.State.NEW, thread(w).getState(), "no thread is started");
      w.await(1);
      w.close();
    } finally {
      if (before == null) {
        System.clearProperty("fovea.warmup");
      } else {
        System.setProperty("fovea.warmup", before);
      }
    }
  }

  private static Thread thread(JitWarmUp w) {
    return w.thread();
  }
}
