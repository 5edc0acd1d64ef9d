package dev.fovea.llm.llama;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Gemv;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Compiles the decoder's kernels before a one-shot run needs them. A new JVM runs the Vector API
 * kernels in the interpreter and in C1 (which box every vector) until C2 has compiled them, so the
 * first prefill of a one-shot {@code ask} paid for its compiles at full size: 1.7-2.5x the warmed
 * prefill of TinyLlama's shapes (bench/oneshot.sh). A warm-up runs a tiny LLaMA (one layer, width
 * 128, random weights) through a prefill and decode steps on a daemon thread while the command loads
 * and pages in the weights and tokenizes: the same kernels and code paths at a size where the slow
 * tiers cost little, so most of C2's compiles are done by the time the real prefill starts (it then
 * ran at 1.3-1.7x the warmed one; what still compiles during it is in the README). It starts with F32 weights (the
 * activations' kernels, which every weight type shares) before the model's file is read, and {@link
 * #weights} adds the model's weight type once known.
 *
 * <p>It reads nothing of the real model and its results are thrown away; a model's outputs do not
 * depend on it (every kernel computes the same values at every tier). Off with {@code
 * -Dfovea.warmup=false}.
 */
public final class JitWarmUp implements AutoCloseable {

  private final LinkedBlockingQueue<Object> rounds = new LinkedBlockingQueue<>();
  private final List<DType> queued = new ArrayList<>();
  private final Thread thread;

  private JitWarmUp() {
    thread = new Thread(this::loop, "fovea-jit-warm-up");
    thread.setDaemon(true);
  }

  /** Whether {@code -Dfovea.warmup} leaves the warm-up on (the default). */
  public static boolean enabled() {
    return !"false".equalsIgnoreCase(System.getProperty("fovea.warmup", "true"));
  }

  /** Starts a warm-up with F32 weights (a no-op one when {@link #enabled()} is false). */
  public static JitWarmUp begin() {
    JitWarmUp w = new JitWarmUp();
    if (enabled()) {
      w.weights(DType.F32);
      w.thread.start();
    }
    return w;
  }

  /** Adds a round with matrices stored as {@code dtype} (F16, BF16, Q8_0, Q4_0), unless one ran or is queued. */
  public synchronized JitWarmUp weights(DType dtype) {
    if (enabled() && !queued.contains(dtype)) {
      queued.add(dtype);
      rounds.add(dtype);
    }
    return this;
  }

  /**
   * Waits until the queued rounds are done (at most {@code maxMillis}): the real work then runs
   * alone on the cores with compiled kernels instead of sharing them with the warm-up.
   */
  public void await(long maxMillis) {
    if (!thread.isAlive()) {
      return;
    }
    rounds.add(Boolean.FALSE);
    try {
      thread.join(maxMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The warm-up's thread (tests). */
  Thread thread() {
    return thread;
  }

  /** Lets the thread end after what is queued, without waiting for it. */
  @Override
  public void close() {
    rounds.add(Boolean.FALSE);
  }

  private void loop() {
    try {
      for (Object r = rounds.poll(1, TimeUnit.MINUTES); r instanceof DType d; r = rounds.poll(1, TimeUnit.MINUTES)) {
        run(d);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      // A warm-up that fails costs nothing but its speed-up: the real run reports its own errors.
    }
  }

  /**
   * The tiny model: one layer, width 128, four query heads over one key/value head of 32 (a group of
   * four, so the decode attention's four-heads-at-a-time value kernel runs, as it does for
   * TinyLlama's and LLaMA-2-70B's groups of eight; with two it first ran, and deoptimized, in the real
   * decode), an MLP of
   * 800: its down projection's k passes one GEMM panel (768), so the kernel's accumulate branch runs
   * here and not first in the real prefill (where C2's kernel, compiled without it, deoptimized). A
   * vocabulary of 509 (odd) gives the logits' GEMV an odd row count, so the GEMV kernels' lone last
   * row after the row pairs runs here too (with 512 it ran first in a real decode step: {@code
   * Gemv.rows16} deoptimized there, {@code -Xlog:deoptimization=debug}).
   */
  static LlamaConfig tiny() {
    return new LlamaConfig(509, 128, 800, 1, 4, 1, 32, 1e-5f, 10_000, null, 512, false, 1, List.of(2), "jit warm-up");
  }

  /**
   * One round on the calling thread: four prefills of 37 and 50 tokens (the GEMM path; no multiple
   * of the GEMM's 8-row tiles, so edge tiles run), each followed by 16 decode steps (the GEMV path)
   * that fill the cache to its capacity, with matrices stored as {@code weights}, then the long
   * GEMVs of {@link #longRows}. Two lengths so that the decode attention sees both an odd (3) and an
   * even (4) count of whole key vectors ({@code scoreHead8} deoptimized on the even case in the real
   * prefill's last step when every step here had three). To capacity because the decode attention
   * reads whole vectors past the last position only while they fit in the cache and takes a scalar
   * tail in the last steps before it is full: with a capacity of 32 more positions that branch first
   * ran in a real answer's last tokens, where C2's attention kernel deoptimized and recompiled
   * ({@code -XX:+PrintCompilation} of a 64-token BF16 {@code ask}: {@code keyMajorDecode} and {@code
   * scoreRows8} "made not entrant: uncommon trap" 3 s into the decode). Filling it with 32 steps
   * instead cost the F32 round ~0.35 s (3 runs each); a capacity of 16 more costs nothing. Small, so
   * the interpreter and C1 run it in a fraction of a second; most of a round's ~2.5 s on 2 cores is
   * C2 compiling. The MLP of 800 (was 352) and 37 tokens (was 32), against the old shapes alternated
   * in one sitting (2026-12-07, one-shot ask of the 22-layer GGUFs, 3 pairs): prefill F32 -2% to
   * -11%, Q8_0 -1% to -29%; the warm-up itself 0.2-0.4 s longer, so the first token from the
   * process's start moved less (-1.8 to +0.7 s).
   */
  static void run(DType weights) {
    try (Scope held = Scope.detached()) {
      LlamaForCausalLM m = new LlamaForCausalLM(tiny());
      Random rng = new Random(1);
      for (Parameter p : m.namedParameters().values()) {
        int[] shape = p.shape();
        int n = 1;
        for (int s : shape) {
          n *= s;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = shape.length == 1 ? 1f : (float) (rng.nextGaussian() * 0.05);
        }
        try (Scope s = Scope.open()) {
          Tensor f = Tensor.of(v, shape);
          Tensor w = shape.length == 2 && weights != DType.F32 ? f.to(weights) : f;
          p.set(w.copyTo(held));
        }
      }
      for (int round = 0; round < 4; round++) {
        int[] ids = new int[round < 2 ? 37 : 50];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = 3 + (i * 37) % 500;
        }
        try (DecodeState state = m.prefill(Inputs.ids(ids), ids.length + 16)) {
          int token = 5;
          for (int i = 0; i < 16; i++) {
            float[] logits = m.step(state, token);
            token = 3 + Math.floorMod(Float.floatToRawIntBits(logits[i]), 500);
          }
        }
      }
    }
    int k = Gemv.fourRowK(weights);
    if (k > 0) {
      longRows(weights, k);
    }
  }

  /**
   * Rows of the GEMV in {@link #longRows}, one chunk: four fours, then a pair and a lone row; for
   * Q8_0 (eights from {@code Gemv.QUANT_OCT_K}) two eights, a pair and a lone row.
   */
  static final int LONG_ROW_COUNT = 19;

  /**
   * GEMVs of length k at a decode step's shape ([1, 1, k] against [19, k] weights stored as {@code
   * weights}), 32 times: k is {@link Gemv#fourRowK} (4096 by default for Q8_0 / Q4_0, 2048 for F32,
   * 256 for F16 and BF16), where the GEMV starts taking rows in fours. The tiny model's k (128,
   * 800) never gets there but for F16 and BF16 (for which these GEMVs compile nothing new; they are
   * kept for one path, at a few microseconds): C2 compiled {@code Gemv.rowsBlocks} and {@code
   * Gemv.rowsF32} with that branch as an uncommon trap, and a one-shot {@code ask} of TinyLlama
   * deoptimized them in its first decode step ({@code -Xlog:deoptimization=debug}, 2026-12-07), then
   * ran the four-row kernel in the interpreter and C1 until C2 had compiled it. With these GEMVs the
   * only {@code Gemv} deoptimizations left are these, in the warm-up. One-shot {@code ask} (728-token
   * prompt, 64 new tokens, Zen 4, runs with and without alternated, medians): decode Q8_0 16.9 ->
   * 18.8 tok/s and Q4_0 17.1 -> 20.3 (3 of 3 pairs faster each), F32 6.7 -> 8.1 (7 of 8 pairs); the
   * time before the prefill unchanged within 0.15 s. A first form, 67 rows 48 times with k 4096 in
   * the F32 round too: Q8_0 14.2 -> 18.3, but Q4_0's time before the prefill 0.4-1.5 s longer and
   * the F32 decode slower in 6 of 7 pairs (8.1 -> 7.5 tok/s). So F32 warms at its own threshold,
   * which is also TinyLlama's k; whether a model with F32 rows of 4096 (LLaMA-7B) gains or loses
   * from it was not measured.
   */
  static void longRows(DType weights, int k) {
    Random rng = new Random(2);
    float[] w = new float[LONG_ROW_COUNT * k];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rng.nextGaussian() * 0.05);
    }
    float[] x = new float[k];
    for (int i = 0; i < k; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    try (Scope s = Scope.open()) {
      Tensor wf = Tensor.of(w, LONG_ROW_COUNT, k);
      Tensor wt = weights == DType.F32 ? wf : wf.to(weights);
      Tensor xt = Tensor.of(x, 1, 1, k);
      for (int i = 0; i < 32; i++) {
        try (Scope step = Scope.open()) {
          Ops.linear(xt, wt, null);
        }
      }
    }
  }
}
