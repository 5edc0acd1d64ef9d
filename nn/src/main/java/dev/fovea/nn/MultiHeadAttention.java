package dev.fovea.nn;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.ShapeException;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.ops.Attention;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Multi-head attention with separate q/k/v/out projections (HF CLIPAttention and LlamaAttention):
 * self or cross attention, causal or not, grouped-query (H query heads share Hkv key/value heads;
 * query head h uses kv head h / (H / Hkv)), optional rotary embeddings and an additive bias/mask.
 *
 * <p>Shapes (B batch, Tq queries, Tk keys, C embed, H heads, Hkv kv heads, D head size):
 * x [B, Tq, C]; context [B, Tk, Ckv]; q [B, H, Tq, D]; k, v [B, Hkv, Tk, D]; probabilities
 * [B, H, Tq, Tk]; output [B, Tq, C].
 *
 * <p>Two paths (DESIGN "Attention has two paths"): with no {@link AttentionHook} the layer calls
 * the fused kernel, which never materializes the probabilities (autograd, when it needs them,
 * makes the op take its explicit path by itself). With hooks it composes scores + biases, softmax,
 * the hooks' {@code onProbabilities}, and probabilities @ v, so the probabilities are a tensor of
 * the graph.
 */
public final class MultiHeadAttention extends Module {
  /**
   * @param embedDim C, the width of x and of the output
   * @param kvInputDim Ckv, the width of the context (= C for self attention)
   * @param heads H
   * @param kvHeads Hkv (divides H)
   * @param headDim D (q/k/v projections are [H*D, C], [Hkv*D, Ckv]; out [C, H*D])
   * @param qkvBias q, k and v projections have biases
   * @param outBias the output projection has a bias
   * @param outProjName checkpoint segment of the output projection: "out_proj" (CLIP) or "o_proj" (LLaMA);
   *     null for none (BERT, whose projection sits in a sibling module)
   * @param causal query i sees keys j &lt;= i + (Tk - Tq)
   */
  public record Config(int embedDim, int kvInputDim, int heads, int kvHeads, int headDim, boolean qkvBias, boolean outBias,
      String outProjName, boolean causal) {
    public Config {
      if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
        throw new TensorException("attention: num_attention_heads " + heads + " must be a positive multiple of num_key_value_heads " + kvHeads);
      }
      if (embedDim <= 0 || kvInputDim <= 0 || headDim <= 0) {
        throw new TensorException("attention: sizes must be positive (embed " + embedDim + ", kv input " + kvInputDim + ", head " + headDim + ")");
      }
    }

    /** CLIP/ViT style: head size C/H, biases everywhere, "out_proj", not causal. */
    public static Config of(int embedDim, int heads) {
      if (embedDim % heads != 0) {
        throw new TensorException("attention: hidden_size " + embedDim + " is not a multiple of num_attention_heads " + heads);
      }
      return new Config(embedDim, embedDim, heads, heads, embedDim / heads, true, true, "out_proj", false);
    }

    /** LLaMA style: no biases, "o_proj", causal, Hkv key/value heads. */
    public static Config llama(int hidden, int heads, int kvHeads) {
      if (hidden % heads != 0) {
        throw new TensorException("attention: hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
      }
      return new Config(hidden, hidden, heads, kvHeads, hidden / heads, false, false, "o_proj", true);
    }

    public Config withCausal(boolean c) {
      return new Config(embedDim, kvInputDim, heads, kvHeads, headDim, qkvBias, outBias, outProjName, c);
    }

    public Config withKvHeads(int n) {
      return new Config(embedDim, kvInputDim, heads, n, headDim, qkvBias, outBias, outProjName, causal);
    }

    /** Cross attention over a context of width {@code dim}. */
    public Config withKvInputDim(int dim) {
      return new Config(embedDim, dim, heads, kvHeads, headDim, qkvBias, outBias, outProjName, causal);
    }

    public Config withBias(boolean qkv, boolean out) {
      return new Config(embedDim, kvInputDim, heads, kvHeads, headDim, qkv, out, outProjName, causal);
    }

    public Config withOutProjName(String name) {
      return new Config(embedDim, kvInputDim, heads, kvHeads, headDim, qkvBias, outBias, name, causal);
    }

    public Config withHeadDim(int d) {
      return new Config(embedDim, kvInputDim, heads, kvHeads, d, qkvBias, outBias, outProjName, causal);
    }

    /** 1/sqrt(D). */
    public float scale() {
      return (float) (1.0 / Math.sqrt(headDim));
    }
  }

  public final Config config;
  public final Linear qProj;
  public final Linear kProj;
  public final Linear vProj;
  /** The output projection, or null for a layer without one (BERT's self-attention module). */
  public final Linear outProj;
  private final RotaryEmbedding rotary;
  private final List<AttentionHook> hooks = new CopyOnWriteArrayList<>();

  public MultiHeadAttention(Config config) {
    this(config, null);
  }

  /** With {@code rotary} applied to q and (self attention) k at the positions given to forward. */
  public MultiHeadAttention(Config config, RotaryEmbedding rotary) {
    this(config, rotary, Names.of(config));
  }

  /**
   * With the q, k and v projections under other checkpoint segments (BERT's {@code query}, {@code
   * key}, {@code value}), no rotary embedding, and no output projection when {@code
   * config.outProjName()} is null (BERT keeps it in the sibling {@code output.dense}): the forward
   * then returns the merged heads [B, Tq, H*D].
   */
  public MultiHeadAttention(Config config, String qName, String kName, String vName) {
    this(config, null, new Names(qName, kName, vName, config.outProjName()));
  }

  /**
   * Where the four projections sit below this module, as dotted checkpoint paths: CLIP and LLaMA
   * keep them as direct children ({@code q_proj} ... {@code out_proj}); HF ViT nests them ({@code
   * attention.query}, {@code attention.key}, {@code attention.value}, {@code output.dense}, with this
   * module at the layer's {@code attention}). The arithmetic is the same. A null {@code out} means no
   * output projection (the forward returns the merged heads).
   */
  public record Names(String query, String key, String value, String out) {
    /** q_proj, k_proj, v_proj and the config's output name. */
    public static Names of(Config config) {
      return new Names("q_proj", "k_proj", "v_proj", config.outProjName());
    }

    /** HF ViTAttention's layout (ViTSelfAttention under "attention", ViTSelfOutput under "output"). */
    public static final Names VIT = new Names("attention.query", "attention.key", "attention.value", "output.dense");
  }

  /** With the projections at {@code names} (see {@link Names}). */
  public MultiHeadAttention(Config config, RotaryEmbedding rotary, Names names) {
    this.config = config;
    this.rotary = rotary;
    int h = config.heads() * config.headDim();
    int hkv = config.kvHeads() * config.headDim();
    this.qProj = registerAt(names.query(), new Linear(config.embedDim(), h, config.qkvBias()));
    this.kProj = registerAt(names.key(), new Linear(config.kvInputDim(), hkv, config.qkvBias()));
    this.vProj = registerAt(names.value(), new Linear(config.kvInputDim(), hkv, config.qkvBias()));
    this.outProj = names.out() == null ? null : registerAt(names.out(), new Linear(h, config.embedDim(), config.outBias()));
  }

  /** The rotary embedding applied to q and k, or null. */
  public RotaryEmbedding rotary() {
    return rotary;
  }

  List<AttentionHook> attentionHooks() {
    return hooks;
  }

  /** Whether a hook is attached (the layer then takes the explicit path). */
  public boolean hasAttentionHooks() {
    return !hooks.isEmpty();
  }

  /** Self attention without mask or positions. */
  public Tensor forward(Tensor x) {
    return forward(x, null, null, null);
  }

  /**
   * @param x queries' input [B, Tq, C]
   * @param context keys' and values' input [B, Tk, Ckv], or null for self attention
   * @param attnBias additive bias broadcastable to [B, H, Tq, Tk] (padding or per-key masks: -inf masks), or null
   * @param positions I32/I64 [Tq] or [B, Tq] for the rotary embedding (null: 0..Tq-1); ignored without one
   * @return [B, Tq, C]
   */
  public Tensor forward(Tensor x, Tensor context, Tensor attnBias, Tensor positions) {
    return forwardImpl(x, context, attnBias, positions, null);
  }

  /**
   * Self attention with a {@link KvCache}: the new k and v (after rotary, at {@code positions})
   * are appended to the cache and the queries attend over every cached position, so Tk = cached +
   * Tq and a causal layer lets query i see keys j &lt;= i + (Tk - Tq). Hooks see [B, H, Tq, Tk].
   *
   * @param positions I32/I64 [Tq] or [B, Tq]; required (the cache does not know the positions)
   */
  public Tensor forwardCached(Tensor x, Tensor attnBias, Tensor positions, KvCache cache) {
    if (cache == null || positions == null) {
      throw new TensorException("MultiHeadAttention '" + path() + "': forward with a KV cache needs the cache and the positions");
    }
    return forwardImpl(x, null, attnBias, positions, cache);
  }

  private Tensor forwardImpl(Tensor x, Tensor context, Tensor attnBias, Tensor positions, KvCache cache) {
    boolean self = context == null;
    Tensor src = self ? x : context;
    if (x.dim() != 3 || x.size(2) != config.embedDim() || src.dim() != 3 || src.size(2) != config.kvInputDim() || src.size(0) != x.size(0)) {
      throw new ShapeException("MultiHeadAttention '" + path() + "': x " + Arrays.toString(x.shape())
          + (self ? "" : " and context " + Arrays.toString(src.shape())) + " must be [B, Tq, " + config.embedDim() + "]"
          + (self ? "" : " and [B, Tk, " + config.kvInputDim() + "]"));
    }
    int b = x.size(0);
    int tq = x.size(1);
    int tk = src.size(1);
    int h = config.heads();
    int hkv = config.kvHeads();
    int d = config.headDim();
    // projections, split into heads: q [B, H, Tq, D], k, v [B, Hkv, Tk, D]
    Tensor q;
    Tensor k;
    Tensor v;
    if (self) {
      Tensor[] qkv = Linear.forwardShared(x, qProj, kProj, vProj); // one GEMV pass at a decode step
      q = splitHeads(qkv[0], b, tq, h, d);
      k = splitHeads(qkv[1], b, tk, hkv, d);
      v = splitHeads(qkv[2], b, tk, hkv, d);
    } else {
      q = splitHeads(qProj.forward(x), b, tq, h, d);
      k = splitHeads(kProj.forward(src), b, tk, hkv, d);
      v = splitHeads(vProj.forward(src), b, tk, hkv, d);
    }
    if (rotary != null) {
      Tensor pos = positions != null ? positions : Tensor.ofInts(range(tq), tq);
      q = rotary.apply(q, pos);
      if (self) {
        k = rotary.apply(k, pos);
      }
    }
    if (cache != null) {
      Tensor[] kv = cache.append(k, v); // [B, Hkv, cached + Tq, D]
      k = kv[0];
      v = kv[1];
      tk = k.size(2);
    }
    Tensor attn;
    if (hooks.isEmpty()) {
      // fused unless autograd needs the probabilities
      attn = Attention.attention(q, k, v, attnBias, config.causal(), config.scale(), false).output();
    } else {
      attn = explicit(q, k, v, attnBias, new AttentionContext(path(), AttentionContext.layerIndexOf(path()), this, b, h, hkv, tq, tk, d, config.causal(), self));
    }
    // [B, H, Tq, D] -> [B, Tq, H*D] -> out_proj
    Tensor merged = attn.transpose(1, 2).reshape(b, tq, h * d);
    return hooked(outProj == null ? merged : outProj.forward(merged), x, context, attnBias, positions);
  }

  /** softmax(q k^T * scale + bias + hook biases, causal) with the hooks seeing the probabilities, then @ v. */
  private Tensor explicit(Tensor q, Tensor k, Tensor v, Tensor attnBias, AttentionContext ctx) {
    int[] full = ctx.probsShape();
    Tensor bias = attnBias;
    for (AttentionHook hook : hooks) {
      Tensor hb = hook.biasBeforeSoftmax(ctx);
      if (hb != null) {
        checkBroadcast("hook bias", hb, full);
        bias = bias == null ? hb : Ops.add(bias, hb);
      }
    }
    if (bias != null) {
      checkBroadcast("attention bias", bias, full);
    }
    Tensor kr = Attention.repeatKv(k, ctx.heads());
    Tensor vr = Attention.repeatKv(v, ctx.heads());
    Tensor probs = Ops.softmax(Attention.scores(q, kr, bias, ctx.causal(), config.scale()), -1); // [B, H, Tq, Tk]
    for (AttentionHook hook : hooks) {
      Tensor r = hook.onProbabilities(ctx, probs);
      if (r != null) {
        if (!Arrays.equals(r.shape(), full)) {
          throw new ShapeException("MultiHeadAttention '" + path() + "': a hook replaced probabilities " + Arrays.toString(full)
              + " by a tensor of shape " + Arrays.toString(r.shape()));
        }
        probs = r;
      }
    }
    return Ops.matmul(probs, vr);
  }

  private void checkBroadcast(String what, Tensor t, int[] full) {
    int[] bc;
    try {
      bc = Shapes.broadcast(what, t.shape(), full);
    } catch (ShapeException e) {
      bc = null;
    }
    if (bc == null || !Arrays.equals(bc, full)) {
      throw new ShapeException("MultiHeadAttention '" + path() + "': " + what + " of shape " + Arrays.toString(t.shape())
          + " does not broadcast to [B, H, Tq, Tk] = " + Arrays.toString(full));
    }
  }

  private static Tensor splitHeads(Tensor y, int b, int t, int heads, int d) {
    return y.reshape(b, t, heads, d).transpose(1, 2);
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  @Override
  protected String extraRepr() {
    return "(heads=" + config.heads() + ", kv_heads=" + config.kvHeads() + ", head_dim=" + config.headDim() + (config.causal() ? ", causal" : "")
        + (rotary != null ? ", rotary" : "") + ")";
  }
}
