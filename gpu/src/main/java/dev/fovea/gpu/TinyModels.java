package dev.fovea.gpu;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Device;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.ops.Rope;
import java.util.List;
import java.util.Random;

/**
 * LLaMA and CLIP-ViT forwards written with Ops alone, at any size, with random weights: the
 * device check's model cases (tiny sizes, CPU against GPU) and its throughput runs (TinyLlama's and
 * ViT-L/14-336's sizes). The same steps as llm's Llama and vit's ClipVision (pre-norm blocks, GQA
 * attention with half-rotation RoPE and SwiGLU; CLIP's pre-layernorm, quick_gelu MLP and class
 * token), without their loaders: the real model classes do not move their weights to a device yet.
 *
 * <p>Shape letters: T tokens, C channels (dim), H heads, K kv heads, D head size, F MLP width, V vocabulary.
 */
final class TinyModels {
  private TinyModels() {}

  record LlamaShape(int dim, int layers, int heads, int kvHeads, int ffn, int vocab) {
    static final LlamaShape TINY = new LlamaShape(64, 2, 4, 2, 172, 101);
    /** TinyLlama-1.1B. */
    static final LlamaShape TINYLLAMA = new LlamaShape(2048, 22, 32, 4, 5632, 32000);

    int headDim() {
      return dim / heads;
    }
  }

  record VitShape(int dim, int layers, int heads, int mlp, int image, int patch) {
    static final VitShape TINY = new VitShape(64, 2, 4, 256, 28, 14);
    /** CLIP ViT-L/14 at 336 pixels: 576 patches and the class token. */
    static final VitShape VIT_L14_336 = new VitShape(1024, 24, 16, 4096, 336, 14);

    int tokens() {
      return (image / patch) * (image / patch) + 1;
    }
  }

  /** Random values of scale {@code scale} (uniform, cheap to make at billions of elements). */
  static Tensor rand(Random rng, float scale, int... shape) {
    return Tensor.rand(rng, -scale, scale, shape);
  }

  /** One LLaMA layer's weights; the throughput runs share one set across layers (memory traffic per layer is the same). */
  record LlamaLayer(Tensor attnNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor ffnNorm, Tensor gate, Tensor up, Tensor down) {
    static LlamaLayer random(LlamaShape s, Random rng, Device d, DType dtype) {
      float a = (float) (1 / Math.sqrt(s.dim()));
      float f = (float) (1 / Math.sqrt(s.ffn()));
      int kv = s.kvHeads() * s.headDim();
      return new LlamaLayer(
          Ops.addScalar(rand(rng, 0.1f, s.dim()), 1f).to(d),
          rand(rng, a, s.dim(), s.dim()).to(dtype).to(d),
          rand(rng, a, kv, s.dim()).to(dtype).to(d),
          rand(rng, a, kv, s.dim()).to(dtype).to(d),
          rand(rng, a, s.dim(), s.dim()).to(dtype).to(d),
          Ops.addScalar(rand(rng, 0.1f, s.dim()), 1f).to(d),
          rand(rng, a, s.ffn(), s.dim()).to(dtype).to(d),
          rand(rng, a, s.ffn(), s.dim()).to(dtype).to(d),
          rand(rng, f, s.dim(), s.ffn()).to(dtype).to(d));
    }
  }

  record Llama(LlamaShape shape, Tensor embed, List<LlamaLayer> layers, Tensor norm, Tensor lmHead) {
    static Llama random(LlamaShape s, long seed, Device d, DType dtype, boolean shareLayers) {
      Random rng = new Random(seed);
      Tensor embed = rand(rng, 1f, s.vocab(), s.dim()).to(d);
      LlamaLayer first = LlamaLayer.random(s, rng, d, dtype);
      LlamaLayer[] ls = new LlamaLayer[s.layers()];
      for (int i = 0; i < ls.length; i++) {
        ls[i] = i == 0 || shareLayers ? first : LlamaLayer.random(s, rng, d, dtype);
      }
      Tensor norm = Ops.addScalar(rand(rng, 0.1f, s.dim()), 1f).to(d);
      Tensor head = shareLayers ? embed : rand(rng, (float) (1 / Math.sqrt(s.dim())), s.vocab(), s.dim()).to(dtype).to(d);
      return new Llama(s, embed, List.of(ls), norm, head);
    }
  }

  /** Per-layer key and value caches [1, K, maxT, D]. */
  record KvCache(Tensor[] k, Tensor[] v) {
    static KvCache empty(LlamaShape s, int maxT, Device d) {
      Tensor[] k = new Tensor[s.layers()];
      Tensor[] v = new Tensor[s.layers()];
      for (int i = 0; i < k.length; i++) {
        k[i] = Tensor.empty(d, DType.F32, 1, s.kvHeads(), maxT, s.headDim());
        v[i] = Tensor.empty(d, DType.F32, 1, s.kvHeads(), maxT, s.headDim());
      }
      return new KvCache(k, v);
    }
  }

  /** Logits [T, V] of tokens {@code ids} at positions pos..pos+T-1; keys and values go to {@code cache} when given. */
  static Tensor llamaForward(Llama m, int[] ids, int pos, KvCache cache) {
    LlamaShape s = m.shape();
    int t = ids.length;
    int d = s.headDim();
    Tensor x = Ops.embedding(m.embed(), Tensor.ofInts(ids, t)); // [T, C]
    Tensor[] rope = Rope.tables(pos, t, d, 10000);
    for (int l = 0; l < s.layers(); l++) {
      LlamaLayer w = m.layers().get(l);
      // attention: rmsnorm -> q/k/v -> rope -> cache -> GQA causal attention -> o
      Tensor h = Ops.rmsNorm(x, w.attnNorm(), 1e-5f);
      Tensor q = Ops.linear(h, w.wq(), null).reshape(1, t, s.heads(), d).transpose(1, 2);      // [1, H, T, D]
      Tensor k = Ops.linear(h, w.wk(), null).reshape(1, t, s.kvHeads(), d).transpose(1, 2);    // [1, K, T, D]
      Tensor v = Ops.linear(h, w.wv(), null).reshape(1, t, s.kvHeads(), d).transpose(1, 2);
      q = Ops.rope(q, rope[0], rope[1], false);
      k = Ops.rope(k, rope[0], rope[1], false);
      if (cache != null) {
        Ops.copyInto(k, cache.k()[l].slice(2, pos, pos + t));
        Ops.copyInto(v, cache.v()[l].slice(2, pos, pos + t));
        k = cache.k()[l].slice(2, 0, pos + t);
        v = cache.v()[l].slice(2, 0, pos + t);
      }
      Tensor a = Ops.scaledDotProductAttention(q, k, v, null, true, (float) (1 / Math.sqrt(d)));
      x = Ops.add(x, Ops.linear(a.transpose(1, 2).reshape(t, s.dim()), w.wo(), null));
      // MLP: rmsnorm -> down(silu(gate) * up)
      Tensor h2 = Ops.rmsNorm(x, w.ffnNorm(), 1e-5f);
      Tensor[] gu = Ops.linearShared(h2, w.gate(), w.up());
      x = Ops.add(x, Ops.linear(Ops.mul(Ops.silu(gu[0]), gu[1]), w.down(), null));
    }
    return Ops.linear(Ops.rmsNorm(x, m.norm(), 1e-5f), m.lmHead(), null);
  }

  /** The check's tiny LLaMA: logits of 9 tokens, prefill of 6 then 3 decode steps through a cache. */
  static Tensor llama(Device d, LlamaShape s, long seed, long tokenSeed) {
    Llama m = Llama.random(s, seed, d, DType.F32, false);
    Random rng = new Random(tokenSeed);
    int[] ids = new int[9];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rng.nextInt(s.vocab());
    }
    KvCache cache = KvCache.empty(s, 16, d);
    Tensor prefill = llamaForward(m, java.util.Arrays.copyOf(ids, 6), 0, cache);
    Tensor[] outs = new Tensor[4];
    outs[0] = prefill;
    for (int i = 6; i < 9; i++) {
      outs[i - 5] = llamaForward(m, new int[] {ids[i]}, i, cache);
    }
    return Ops.concat(List.of(outs), 0);
  }

  record VitLayer(Tensor ln1w, Tensor ln1b, Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv, Tensor wo, Tensor bo,
      Tensor ln2w, Tensor ln2b, Tensor fc1, Tensor b1, Tensor fc2, Tensor b2) {
    static VitLayer random(VitShape s, Random rng, Device d) {
      float a = (float) (1 / Math.sqrt(s.dim()));
      float f = (float) (1 / Math.sqrt(s.mlp()));
      int c = s.dim();
      return new VitLayer(
          Ops.addScalar(rand(rng, 0.1f, c), 1f).to(d), rand(rng, 0.1f, c).to(d),
          rand(rng, a, c, c).to(d), rand(rng, 0.1f, c).to(d),
          rand(rng, a, c, c).to(d), rand(rng, 0.1f, c).to(d),
          rand(rng, a, c, c).to(d), rand(rng, 0.1f, c).to(d),
          rand(rng, a, c, c).to(d), rand(rng, 0.1f, c).to(d),
          Ops.addScalar(rand(rng, 0.1f, c), 1f).to(d), rand(rng, 0.1f, c).to(d),
          rand(rng, a, s.mlp(), c).to(d), rand(rng, 0.1f, s.mlp()).to(d),
          rand(rng, f, c, s.mlp()).to(d), rand(rng, 0.1f, c).to(d));
    }
  }

  record Vit(VitShape shape, Tensor patchW, Tensor cls, Tensor pos, Tensor preW, Tensor preB, List<VitLayer> layers, Tensor postW, Tensor postB) {
    static Vit random(VitShape s, long seed, Device d, boolean shareLayers) {
      Random rng = new Random(seed);
      int c = s.dim();
      Tensor patchW = rand(rng, (float) (1 / Math.sqrt(3.0 * s.patch() * s.patch())), c, 3, s.patch(), s.patch()).to(d);
      Tensor cls = rand(rng, 1f, c).to(d);
      Tensor pos = rand(rng, 0.1f, s.tokens(), c).to(d);
      Tensor preW = Ops.addScalar(rand(rng, 0.1f, c), 1f).to(d);
      Tensor preB = rand(rng, 0.1f, c).to(d);
      VitLayer first = VitLayer.random(s, rng, d);
      VitLayer[] ls = new VitLayer[s.layers()];
      for (int i = 0; i < ls.length; i++) {
        ls[i] = i == 0 || shareLayers ? first : VitLayer.random(s, rng, d);
      }
      return new Vit(s, patchW, cls, pos, preW, preB, List.of(ls), Ops.addScalar(rand(rng, 0.1f, c), 1f).to(d), rand(rng, 0.1f, c).to(d));
    }
  }

  /** CLIP vision forward of pixels [1, 3, S, S]: the pooled (post-layernorm) class token [1, C] and the last hidden states. */
  static Tensor vitForward(Vit m, Tensor pixels) {
    VitShape s = m.shape();
    int c = s.dim();
    int t = s.tokens();
    int hd = c / s.heads();
    Tensor patches = Ops.conv2d(pixels, m.patchW(), null, s.patch(), 0);            // [1, C, g, g]
    Tensor x = patches.reshape(c, t - 1).transpose(0, 1);                           // [T-1, C]
    x = Ops.concat(List.of(m.cls().reshape(1, c), x), 0);                           // [T, C]
    x = Ops.layerNorm(Ops.add(x, m.pos()), m.preW(), m.preB(), 1e-5f);              // pre_layrnorm
    for (VitLayer w : m.layers()) {
      Tensor h = Ops.layerNorm(x, w.ln1w(), w.ln1b(), 1e-5f);
      Tensor q = Ops.linear(h, w.wq(), w.bq()).reshape(1, t, s.heads(), hd).transpose(1, 2);
      Tensor k = Ops.linear(h, w.wk(), w.bk()).reshape(1, t, s.heads(), hd).transpose(1, 2);
      Tensor v = Ops.linear(h, w.wv(), w.bv()).reshape(1, t, s.heads(), hd).transpose(1, 2);
      Tensor a = Ops.scaledDotProductAttention(q, k, v, null, false, (float) (1 / Math.sqrt(hd)));
      x = Ops.add(x, Ops.linear(a.transpose(1, 2).reshape(t, c), w.wo(), w.bo()));
      Tensor h2 = Ops.layerNorm(x, w.ln2w(), w.ln2b(), 1e-5f);
      x = Ops.add(x, Ops.linear(Ops.quickGelu(Ops.linear(h2, w.fc1(), w.b1())), w.fc2(), w.b2()));
    }
    Tensor pooled = Ops.layerNorm(x.narrow(0, 0, 1), m.postW(), m.postB(), 1e-5f);
    return Ops.concat(List.of(pooled, x), 0);
  }

  /** The check's tiny ViT on a random image (pixels made on the CPU: the first matmul moves them to the device). */
  static Tensor vit(Device d, VitShape s, long seed) {
    Vit m = Vit.random(s, seed, d, false);
    Tensor pixels = Tensor.randn(new Random(seed + 1), 1, 3, s.image(), s.image());
    return vitForward(m, pixels);
  }
}
