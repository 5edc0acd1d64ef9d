package dev.fovea.llm.generate;

import dev.fovea.llm.llama.DecodeState;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoding branches of one generation, prefilled and advanced together: every step each branch
 * is fed the same sampled token and offers its next-token logits. Two layouts give the same
 * numbers (within float rounding of the batched products):
 *
 * <ul>
 *   <li>{@link #batched}: the branches are the rows of one {@link DecodeState} of batch N: one
 *       forward per step serves them all, so each weight is read once per step. Decode is bound by
 *       the weight reads, so N branches cost little more than one.
 *   <li>{@link #sequential}: one state per branch, stepped one after the other, as the reference
 *       implementations run them (each step reads the weights N times). Branches of different
 *       models or prompt lengths need it.
 * </ul>
 *
 * Closing a lockstep closes its states.
 */
public final class Lockstep implements AutoCloseable {
  private final List<CausalLM> models; // one per state
  private final List<DecodeState> states;
  private final int branches;
  private final List<float[]> logits;

  private Lockstep(List<CausalLM> models, List<DecodeState> states, int branches, List<float[]> logits) {
    this.models = models;
    this.states = states;
    this.branches = branches;
    this.logits = logits;
  }

  /** Branches that are the rows of {@code state} (filled, every row at the same position) of {@code model}. */
  public static Lockstep batched(CausalLM model, DecodeState state) {
    if (!model.batchesRows()) {
      throw new IllegalArgumentException("Lockstep: " + model.getClass().getSimpleName() + " does not batch rows");
    }
    List<float[]> l = new ArrayList<>();
    for (int b = 0; b < state.batch(); b++) {
      l.add(state.logits(b));
    }
    return new Lockstep(List.of(model), List.of(state), state.batch(), l);
  }

  /** One prefilled state per branch, {@code models.get(i)} stepping {@code states.get(i)}. */
  public static Lockstep sequential(List<? extends CausalLM> models, List<DecodeState> states) {
    if (models.size() != states.size() || models.isEmpty()) {
      throw new IllegalArgumentException("Lockstep: " + models.size() + " models for " + states.size() + " states");
    }
    List<float[]> l = new ArrayList<>();
    for (DecodeState s : states) {
      if (s.batch() != 1) {
        throw new IllegalArgumentException("Lockstep.sequential: states of batch 1, got " + s.batch());
      }
      l.add(s.logits());
    }
    return new Lockstep(List.copyOf(models), List.copyOf(states), states.size(), l);
  }

  /**
   * Prefills the branches: as one batch when {@code batch} is asked, there are several branches, they
   * share one model that batches rows and their prompts have one length; else one state each. On a
   * failure the states made so far are closed.
   *
   * @param maxNewTokens the states hold each prompt plus this many positions (within the model's context)
   */
  public static Lockstep prefill(List<Generator.Branch> branches, int maxNewTokens, boolean batch) {
    if (branches.isEmpty()) {
      throw new IllegalArgumentException("Lockstep: no branches");
    }
    CausalLM first = branches.get(0).model();
    boolean together = batch && branches.size() > 1 && first.batchesRows();
    for (Generator.Branch b : branches) {
      together &= b.model() == first && b.inputs().length() == branches.get(0).inputs().length();
    }
    if (together) {
      List<Inputs> rows = new ArrayList<>();
      branches.forEach(b -> rows.add(b.inputs()));
      return batched(first, first.prefillRows(rows, capacity(first, rows.get(0), maxNewTokens)));
    }
    List<CausalLM> models = new ArrayList<>();
    List<DecodeState> states = new ArrayList<>();
    try {
      for (Generator.Branch b : branches) {
        states.add(b.model().prefill(b.inputs(), capacity(b.model(), b.inputs(), maxNewTokens)));
        models.add(b.model());
      }
      return sequential(models, states);
    } catch (RuntimeException e) {
      states.forEach(DecodeState::close);
      throw e;
    }
  }

  private static int capacity(CausalLM model, Inputs inputs, int maxNewTokens) {
    return (int) Math.min(model.maxPositions(), (long) inputs.length() + maxNewTokens);
  }

  /** Number of branches. */
  public int branches() {
    return branches;
  }

  /** Whether the branches run as one batch. */
  public boolean isBatched() {
    return states.size() == 1 && branches > 1;
  }

  /** The newest logits [V] of every branch, in branch order (the arrays are the lockstep's own; do not modify). */
  public List<float[]> logits() {
    return logits;
  }

  /** The model of the first branch (EOS ids, context size). */
  public CausalLM lead() {
    return models.get(0);
  }

  /** Ids the first branch was fed (its prompt ids when given as ids, then every token). */
  public int[] history() {
    return states.get(0).tokens();
  }

  /** Whether some branch has no room for another position. */
  public boolean full() {
    for (DecodeState s : states) {
      if (s.position() >= s.capacity()) {
        return true;
      }
    }
    return false;
  }

  /** Feeds {@code token} to every branch; {@link #logits()} then hold what follows it. */
  public void feed(int token) {
    if (isBatched()) {
      float[][] rows = models.get(0).stepRows(states.get(0), token);
      for (int b = 0; b < branches; b++) {
        logits.set(b, rows[b]);
      }
      return;
    }
    for (int i = 0; i < states.size(); i++) {
      logits.set(i, models.get(i).step(states.get(i), token));
    }
  }

  @Override
  public void close() {
    states.forEach(DecodeState::close);
  }
}
