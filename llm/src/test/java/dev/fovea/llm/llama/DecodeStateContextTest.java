package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.tensor.Backends;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.testing.TestBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One execution context (on CUDA: one stream) per decoding state, on the test device, whose
 * contexts record what ran under them (ops still run at once, so the numbers are the CPU's bit for
 * bit; the CPU path is checked against PyTorch by {@link LlamaReferenceTest}): a state's forwards
 * run in its own context, row views share it, a fork copies the caches in the parent's context and
 * orders its own after the copy, closing the state closes the context, and two states stepped in
 * turn give the tokens and logits of one after the other.
 */
class DecodeStateContextTest {
  static final Device DEVICE = new Device(TestBackend.KIND, 5); // this class's own device: its log is its own
  static LlamaForCausalLM cpu;
  static LlamaForCausalLM dev;
  static TestBackend backend;
  static int[] prompt;

  @BeforeAll
  static void load() {
    backend = (TestBackend) Backends.of(DEVICE);
    cpu = LlamaForCausalLM.load(LlamaFixtures.dir("tiny"));
    dev = LlamaForCausalLM.load(LlamaFixtures.dir("tiny")).to(DEVICE);
    try (WeightSource ref = LlamaFixtures.reference("tiny")) {
      prompt = ints(ref, "prompt_ids");
    }
  }

  @AfterAll
  static void close() {
    cpu.close();
    dev.close();
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  @Test
  void aStatesForwardsRunInItsOwnContextWhichClosesWithIt() {
    try (DecodeState s = cpu.newState(1, 32)) {
      assertNull(s.context(), "the CPU has no context: the forward's only cost is a null check");
    }
    TestBackend.Context ctx;
    try (DecodeState s = dev.newState(2, 32)) {
      ctx = (TestBackend.Context) s.context();
      assertSame(ctx, s.row(1).context(), "row views share the state's context");
      long before = backend.opsIn(ctx.id);
      dev.extend(s.row(0), Inputs.ids(prompt));
      long prefill = backend.opsIn(ctx.id) - before;
      assertTrue(prefill > 4L * dev.config.numHiddenLayers(), "the layers' ops ran in the state's context: " + prefill);
      List<String> log = backend.contextLog();
      assertTrue(log.contains("enter " + ctx.id) && log.contains("leave " + ctx.id), log.toString());
      assertTrue(!ctx.closed());
    }
    assertTrue(ctx.closed());
    assertEquals("close " + ctx.id, backend.contextLog().getLast());
  }

  @Test
  void aForkCopiesInTheParentsContextAndItsOwnIsOrderedAfterTheCopy() {
    try (DecodeState parent = dev.newState(1, 32)) {
      dev.extend(parent, Inputs.ids(prompt));
      TestBackend.Context p = (TestBackend.Context) parent.context();
      int logAt = backend.contextLog().size();
      long opsBefore = backend.opsIn(p.id);
      try (DecodeState child = parent.fork()) {
        TestBackend.Context c = (TestBackend.Context) child.context();
        assertNotSame(p, c);
        List<String> log = backend.contextLog().subList(logAt, backend.contextLog().size());
        assertEquals(List.of("enter " + p.id, "leave " + p.id, "open " + c.id, "after " + c.id + " " + p.id), log);
        assertEquals(2L * dev.config.numHiddenLayers(), backend.opsIn(p.id) - opsBefore, "keys and values of every layer copied in the parent's context");
        int next = argmax(parent.logits());
        float[] fromChild = dev.step(child, next);
        float[] fromParent = dev.step(parent, next);
        assertArrayEquals(fromParent, fromChild, "the fork continues the parent's cache");
      }
    }
  }

  /** Greedy steps of one state; returns the token ids and appends each step's logits. */
  private static int[] decode(LlamaForCausalLM m, DecodeState s, int steps, List<float[]> logits) {
    int[] out = new int[steps];
    for (int i = 0; i < steps; i++) {
      out[i] = argmax(s.logits());
      logits.add(m.step(s, out[i]));
    }
    return out;
  }

  @Test
  void twoStatesSteppedInTurnGiveTheTokensOfOneAfterTheOther() {
    int[] other = Arrays.copyOf(prompt, Math.max(2, prompt.length - 2));
    int steps = 6;
    // the CPU, one state after the other: the expected values
    List<float[]> wantA = new ArrayList<>();
    List<float[]> wantB = new ArrayList<>();
    int[] ta;
    int[] tb;
    try (DecodeState a = cpu.newState(1, 32); DecodeState b = cpu.newState(1, 32)) {
      cpu.extend(a, Inputs.ids(prompt));
      ta = decode(cpu, a, steps, wantA);
      cpu.extend(b, Inputs.ids(other));
      tb = decode(cpu, b, steps, wantB);
    }
    // the device, in turn
    try (DecodeState a = dev.newState(1, 32); DecodeState b = dev.newState(1, 32)) {
      dev.extend(a, Inputs.ids(prompt));
      dev.extend(b, Inputs.ids(other));
      for (int i = 0; i < steps; i++) {
        int na = argmax(a.logits());
        int nb = argmax(b.logits());
        assertEquals(ta[i], na, "state A, step " + i);
        assertEquals(tb[i], nb, "state B, step " + i);
        assertArrayEquals(wantA.get(i), dev.step(a, na), 1e-6f, "state A's logits, step " + i);
        assertArrayEquals(wantB.get(i), dev.step(b, nb), 1e-6f, "state B's logits, step " + i);
      }
    }
  }
}
