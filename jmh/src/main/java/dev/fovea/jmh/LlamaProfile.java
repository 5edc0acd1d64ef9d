package dev.fovea.jmh;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.llm.llama.LlamaDecoderLayer;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.nn.KvCache;
import dev.fovea.nn.Linear;
import dev.fovea.nn.RotaryEmbedding;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.autograd.GradMode;
import dev.fovea.tensor.cpu.Parallel;
import dev.fovea.tensor.ops.Attention;
import java.lang.foreign.Arena;

/**
 * A simple op breakdown of one LLaMA decode step (TinyLlama shapes, random weights, as {@link
 * LlamaBench}): the decoder layer is replayed op by op (the same Ops calls as LlamaDecoderLayer,
 * MultiHeadAttention and GatedMLP) with a timer around each, next to the model's own step.
 * Usage: {@code LlamaProfile [f32|bf16|q8_0] [layers] [context] [threads] [repeats]}; with {@code
 * -DgemvOnly=true} it then times gate/down/q/k projections alone at 1..threads threads (GB/s), with
 * {@code -DgemvSeq=true} every GEMV of a step in the step's order and nothing else (mean ms), with
 * {@code -DattnTwice=true} the attention once more right after (K/V then warm in cache), and with
 * {@code -Dprefill=true} it only runs whole prefills (for a sampling profiler such as JFR), and with
 * {@code -DabSpin=N} it only runs model.step alternating step by step between {@link
 * Parallel#setSpinMicros} 0 and N (an A/B in one process: both halves see the same memory phases). It
 * always prints the read bandwidth of the model's weights in this process ({@link WeightReads}).
 */
public final class LlamaProfile {
  private LlamaProfile() {}

  /** The model's weights read in this process, GB/s, best of three passes (the first warms the JIT). */
  private static double readRate(LlamaForCausalLM model) {
    return WeightReads.of(model).best(3);
  }

  public static void main(String[] args) {
    String dtype = args.length > 0 ? args[0] : "f32";
    int layers = args.length > 1 ? Integer.parseInt(args[1]) : 22;
    int context = args.length > 2 ? Integer.parseInt(args[2]) : 600;
    int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 20;
    Parallel.setThreads(threads);
    Arena arena = Arena.ofShared();
    LlamaForCausalLM model = LlamaBench.randomModel(layers, dtype, arena);
    int[] prompt = LlamaBench.prompt(context);
    if (Boolean.getBoolean("prefill")) {
      // whole prefills only (for a sampling profiler: -XX:StartFlightRecording)
      for (int r = 0; r < repeats; r++) {
        long t0 = System.nanoTime();
        model.prefill(Inputs.ids(prompt), context).close();
        System.out.printf("prefill %d tokens: %.3f s%n", context, (System.nanoTime() - t0) / 1e9);
      }
      arena.close();
      return;
    }
    DecodeState state = model.prefill(Inputs.ids(prompt), context + 8);
    long ab = Long.getLong("abSpin", -1);
    if (ab >= 0) {
      // model.step alternating between spin 0 and spin ab, step by step (same memory phases)
      long[] sum = new long[2];
      for (int r = 0; r < 2 * repeats + 4; r++) {
        int v = r % 2;
        Parallel.setSpinMicros(v == 0 ? 0 : ab);
        long s0 = System.nanoTime();
        model.step(state, 17);
        long dt = System.nanoTime() - s0;
        state.truncate(context);
        if (r >= 4) {
          sum[v] += dt;
        }
      }
      System.out.printf("A/B model.step: spin 0 %.2f ms, spin %d us %.2f ms (mean of %d each)%n", sum[0] / 1e6 / repeats, ab,
          sum[1] / 1e6 / repeats, repeats);
      System.out.printf("  weights read at %.1f GB/s (best of 3 passes, this process)%n", readRate(model));
      return;
    }
    LlamaConfig cfg = model.config;
    RotaryEmbedding rotary = model.model.layers.get(0).selfAttn.rotary(); // the model's own (cached tables)
    int h = cfg.numAttentionHeads();
    int hkv = cfg.numKeyValueHeads();
    int d = cfg.headDim();
    float scale = (float) (1 / Math.sqrt(d));
    OpTimes t = new OpTimes();
    long stepNanos = 0;
    for (int r = 0; r <= repeats; r++) {
      if (r == 1) {
        t.clear(); // the first pass warms up the JIT
        stepNanos = 0;
      }
      long s0 = System.nanoTime();
      model.step(state, 17);
      stepNanos += r == 0 ? 0 : System.nanoTime() - s0;
      state.truncate(context);
      long whole = System.nanoTime();
      try (Scope s = Scope.open(); var g = GradMode.disable()) {
        long t0 = System.nanoTime();
        Tensor x = model.embed(Tensor.ofInts(new int[] {17}, 1, 1));
        Tensor pos = Tensor.ofInts(new int[] {context}, 1);
        t.add("embed", t0);
        for (int li = 0; li < layers; li++) {
          LlamaDecoderLayer layer = model.model.layers.get(li);
          KvCache cache = state.cache(li);
          var a = layer.selfAttn;
          t0 = System.nanoTime();
          Tensor n1 = layer.inputLayernorm.forward(x);
          t.add("rms norms", t0);
          t0 = System.nanoTime();
          Tensor[] qkv = Linear.forwardShared(n1, a.qProj, a.kProj, a.vProj);
          Tensor q = qkv[0].reshape(1, 1, h, d).transpose(1, 2);
          Tensor k = qkv[1].reshape(1, 1, hkv, d).transpose(1, 2);
          Tensor v = qkv[2].reshape(1, 1, hkv, d).transpose(1, 2);
          t.add("q/k/v_proj (one pass)", t0);
          t0 = System.nanoTime();
          q = rotary.apply(q, pos);
          k = rotary.apply(k, pos);
          t.add("rotary (q, k)", t0);
          t0 = System.nanoTime();
          Tensor[] kv = cache.append(k, v);
          t.add("cache append", t0);
          t0 = System.nanoTime();
          Tensor o = Attention.attention(q, kv[0], kv[1], null, true, scale, false).output();
          o.get(0, 0, 0, 0);
          t.add("attention (fused)", t0);
          if (Boolean.getBoolean("attnTwice")) {
            t0 = System.nanoTime();
            Attention.attention(q, kv[0], kv[1], null, true, scale, false).output().get(0, 0, 0, 0);
            t.add("attention again (K/V warm)", t0);
          }
          cache.truncate(context);
          t0 = System.nanoTime();
          Tensor merged = o.transpose(1, 2).reshape(1, 1, h * d);
          Tensor y = a.outProj.forward(merged);
          t.add("o_proj (+ head merge)", t0);
          t0 = System.nanoTime();
          Tensor h1 = Ops.add(x, y);
          t.add("residual adds", t0);
          t0 = System.nanoTime();
          Tensor n2 = layer.postAttentionLayernorm.forward(h1);
          t.add("rms norms", t0);
          t0 = System.nanoTime();
          Tensor[] gu = Linear.forwardShared(n2, layer.mlp.gateProj, layer.mlp.upProj);
          t.add("gate/up_proj (one pass)", t0);
          t0 = System.nanoTime();
          Tensor m = Ops.mul(Ops.silu(gu[0]), gu[1]);
          t.add("silu * up", t0);
          t0 = System.nanoTime();
          Tensor dn = layer.mlp.downProj.forward(m);
          t.add("down_proj", t0);
          t0 = System.nanoTime();
          x = Ops.add(h1, dn);
          t.add("residual adds", t0);
        }
        t0 = System.nanoTime();
        Tensor n = model.model.norm.forward(x);
        t.add("rms norms", t0);
        t0 = System.nanoTime();
        Ops.linear(n, model.lmHead.weight.get(), null).toFloatArray();
        t.add("lm_head (+ copy out)", t0);
      }
      t.add(OpTimes.TOTAL, whole);
    }
    double total = t.totalMs(repeats);
    System.out.printf("%s layers %d context %d threads %d: model.step %.1f ms, replay %.1f ms (mean of %d)%n", dtype, layers, context, threads,
        stepNanos / 1e6 / repeats, total, repeats);
    t.print(repeats, 28, 2);
    System.out.printf("  weights read at %.1f GB/s (best of 3 passes, this process)%n", readRate(model));
    if (Boolean.getBoolean("gemvSeq")) {
      // every GEMV of a step in the step's order, nothing else (mean over the repeats)
      Tensor x1 = Tensor.ones(1, 1, cfg.hiddenSize()).copyTo(Scope.global());
      Tensor xi = Tensor.ones(1, 1, cfg.intermediateSize()).copyTo(Scope.global());
      Tensor xo = Tensor.ones(1, 1, h * d).copyTo(Scope.global());
      OpTimes g2 = new OpTimes();
      for (int r = 0; r <= repeats; r++) {
        if (r == 1) {
          g2.clear();
        }
        long whole = System.nanoTime();
        try (Scope s = Scope.open(); var g = GradMode.disable()) {
          for (LlamaDecoderLayer layer : model.model.layers) {
            long t0 = System.nanoTime();
            Linear.forwardShared(x1, layer.selfAttn.qProj, layer.selfAttn.kProj, layer.selfAttn.vProj);
            g2.add("q/k/v", t0);
            t0 = System.nanoTime();
            layer.selfAttn.outProj.forward(xo);
            g2.add("o_proj", t0);
            t0 = System.nanoTime();
            Linear.forwardShared(x1, layer.mlp.gateProj, layer.mlp.upProj);
            g2.add("gate/up", t0);
            t0 = System.nanoTime();
            layer.mlp.downProj.forward(xi);
            g2.add("down", t0);
          }
          long t0 = System.nanoTime();
          model.lmHead.forward(x1);
          g2.add("lm_head", t0);
        }
        g2.add(OpTimes.TOTAL, whole);
      }
      double ms = g2.totalMs(repeats);
      System.out.printf("GEMVs of a step alone: %.1f ms%n", ms);
      g2.print(repeats, 28, 2);
    }
    if (Boolean.getBoolean("gemvOnly")) {
      // one projection of every layer in turn, each alone (the model's weights, one GEMV each)
      for (int thr = 1; thr <= threads; thr++) {
        Parallel.setThreads(thr);
        for (String which : new String[] {"gate_proj", "down_proj", "q_proj", "k_proj"}) {
          long best = Long.MAX_VALUE;
          long bytes = 0;
          for (int r = 0; r < 10; r++) {
            try (Scope s = Scope.open(); var g = GradMode.disable()) {
              long t0 = System.nanoTime();
              bytes = 0;
              for (LlamaDecoderLayer layer : model.model.layers) {
                Linear lin = switch (which) {
                  case "gate_proj" -> layer.mlp.gateProj;
                  case "down_proj" -> layer.mlp.downProj;
                  case "q_proj" -> layer.selfAttn.qProj;
                  default -> layer.selfAttn.kProj;
                };
                lin.forward(Tensor.ones(1, 1, lin.inFeatures));
                bytes += lin.weight.get().storage().segment().byteSize();
              }
              best = Math.min(best, System.nanoTime() - t0);
            }
          }
          System.out.printf("  %s x %d layers, %d threads: %.2f ms, %.1f GB/s%n", which, layers, thr, best / 1e6, bytes / (double) best);
        }
      }
    }
    state.close();
    arena.close();
  }
}
