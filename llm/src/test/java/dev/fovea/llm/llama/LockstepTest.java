package dev.fovea.llm.llama;

import static dev.fovea.llm.llama.LlamaFixtures.ints;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.llm.generate.GenerationConfig;
import dev.fovea.llm.generate.Generator;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.Lockstep;
import dev.fovea.llm.generate.LogitsCombiner;
import dev.fovea.llm.generate.Sampler;
import dev.fovea.llm.generate.SamplingConfig;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Branches as the rows of one batched state against the same branches as separate states (the
 * references' layout): the same tokens, and at every step the same logits within 1e-5 relative.
 */
class LockstepTest {
  static LlamaForCausalLM model;
  static int[] prompt;

  @BeforeAll
  static void load() {
    model = LlamaForCausalLM.load(LlamaFixtures.dir("tiny"));
    try (WeightSource ref = LlamaFixtures.reference("tiny")) {
      prompt = ints(ref, "prompt_ids");
    }
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** The second branch: the prompt with the embeddings of positions 2..6 zeroed (as AVC zeroes image rows). */
  static Tensor edited() {
    Tensor e = model.embed(Tensor.ofInts(prompt, 1, prompt.length)).contiguous();
    Ops.copyInto(Tensor.zeros(1, 5, model.config.hiddenSize()), e.narrow(1, 2, 5));
    return e;
  }

  /** Runs sampled contrastive decoding, recording every step's branch logits. */
  static Generator.Result run(List<Generator.Branch> branches, boolean batch, List<List<float[]>> seen) {
    LogitsCombiner vcd = LogitsCombiner.contrastive(1f, 0.1f);
    LogitsCombiner recording = l -> {
      List<float[]> copy = new ArrayList<>();
      l.forEach(x -> copy.add(x.clone()));
      seen.add(copy);
      return vcd.combine(l);
    };
    return Generator.generate(branches, recording, GenerationConfig.maxNewTokens(20).withStopAtEos(false).withBatchBranches(batch),
        Sampler.seeded(SamplingConfig.sampling(1f), 7), null, null);
  }

  static void assertClose(float[] want, float[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int j = 0; j < want.length; j++) {
      float tol = 1e-5f * Math.max(1f, Math.abs(want[j]));
      assertTrue(Math.abs(want[j] - got[j]) <= tol, what + ": logit " + j + " " + got[j] + " vs " + want[j]);
    }
  }

  @Test
  void batchedBranchesEqualSequentialBranches() {
    try (var scope = Scope.open()) {
      List<Generator.Branch> branches = List.of(new Generator.Branch(model, Inputs.ids(prompt)), new Generator.Branch(model, Inputs.embeddings(edited())));
      List<List<float[]>> seq = new ArrayList<>();
      List<List<float[]>> bat = new ArrayList<>();
      Generator.Result a = run(branches, false, seq);
      Generator.Result b = run(branches, true, bat);
      assertFalse(a.batched());
      assertTrue(b.batched());
      assertArrayEquals(a.tokens(), b.tokens());
      assertEquals(20, a.tokens().length);
      assertEquals(seq.size(), bat.size());
      for (int step = 0; step < seq.size(); step++) {
        for (int br = 0; br < 2; br++) {
          assertClose(seq.get(step).get(br), bat.get(step).get(br), "step " + step + " branch " + br);
        }
      }
      // the branches differ (else the test would not tell rows apart)
      assertFalse(java.util.Arrays.equals(seq.get(0).get(0), seq.get(0).get(1)));
      assertEquals(a.tokens().length - 1, b.stepNanos().length);
    }
  }

  /**
   * Rows filled one at a time through views (row 0 in two parts, as AVC reads the last position's
   * attention, then row 1), then stepped as a batch: the same logits as two separate states.
   */
  @Test
  void rowViewsFillABatchThatStepsLikeSeparateStates() {
    int t = prompt.length;
    try (var scope = Scope.open(); DecodeState batch = model.newState(2, t + 8);
        DecodeState s0 = model.prefill(Inputs.ids(prompt), t + 8); DecodeState s1 = model.prefill(Inputs.embeddings(edited()), t + 8)) {
      DecodeState r0 = batch.row(0);
      model.extend(r0, Inputs.ids(java.util.Arrays.copyOf(prompt, t - 1)));
      assertThrows(LlamaException.class, () -> model.stepRows(batch, 3), "rows at different positions must not step together");
      model.extend(batch.row(0), Inputs.ids(prompt[t - 1]));
      model.extend(batch.row(1), Inputs.embeddings(edited()));
      assertEquals(t, batch.position());
      assertClose(s0.logits(), batch.logits(0), "prefill row 0");
      assertClose(s1.logits(), batch.logits(1), "prefill row 1");
      assertArrayEquals(prompt, batch.tokens());
      for (int token : new int[] {5, 9, 17}) {
        float[][] rows = model.stepRows(batch, token);
        assertClose(model.step(s0, token), rows[0], "step row 0");
        assertClose(model.step(s1, token), rows[1], "step row 1");
      }
      try (Lockstep l = Lockstep.batched(model, batch.fork())) {
        assertTrue(l.isBatched());
        assertEquals(2, l.logits().size());
      }
    }
  }

  @Test
  void rowsOfDifferentLengthsAreRefusedByName() {
    var e = assertThrows(LlamaException.class,
        () -> model.prefillRows(List.of(Inputs.ids(prompt), Inputs.ids(java.util.Arrays.copyOf(prompt, prompt.length - 1))), 64));
    assertTrue(e.getMessage().contains("row 1 has " + (prompt.length - 1) + " positions"), e.getMessage());
  }
}
