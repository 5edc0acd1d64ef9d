package dev.fovea.tensor.io;

import dev.fovea.tensor.NativeMemory;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LLaMA GGUF ({@code general.architecture = "llama"}) seen as a Hugging Face {@code LlamaForCausalLM}
 * checkpoint (ggml-org/llama.cpp {@code gguf-py/gguf/tensor_mapping.py}, {@code convert_hf_to_gguf.py}):
 *
 * <pre>
 * token_embd.weight          model.embed_tokens.weight
 * blk.N.attn_norm.weight     model.layers.N.input_layernorm.weight
 * blk.N.attn_q.weight        model.layers.N.self_attn.q_proj.weight   (rows un-permuted, see below)
 * blk.N.attn_k.weight        model.layers.N.self_attn.k_proj.weight   (rows un-permuted, see below)
 * blk.N.attn_v.weight        model.layers.N.self_attn.v_proj.weight
 * blk.N.attn_output.weight   model.layers.N.self_attn.o_proj.weight
 * blk.N.ffn_norm.weight      model.layers.N.post_attention_layernorm.weight
 * blk.N.ffn_gate.weight      model.layers.N.mlp.gate_proj.weight
 * blk.N.ffn_up.weight        model.layers.N.mlp.up_proj.weight
 * blk.N.ffn_down.weight      model.layers.N.mlp.down_proj.weight
 * output_norm.weight         model.norm.weight
 * output.weight              lm_head.weight   (absent in tied files: no lm_head is invented)
 * </pre>
 *
 * Other names (e.g. {@code rope_freqs.weight}) pass through unchanged so a strict loader reports them.
 *
 * <p>RoPE layout (spec 3.4): llama.cpp stores q/k rows in Meta's interleaved order, HF row
 * {@code c*hd/2 + i} of a head as GGUF row {@code 2i + c}. The view returns q (with
 * {@code llama.attention.head_count} heads) and k (with {@code head_count_kv}) in HF order, as a
 * row-permuted copy made on first use and owned by the view (freed by {@link WeightSource#release}
 * or close); every other tensor is the source's.
 * Rows are whole ggml blocks, so this works for quantized q/k too.
 */
public final class GgufLlamaNames {
  private GgufLlamaNames() {}

  private static final Pattern BLK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.weight");
  private static final Map<String, String> GLOBAL =
      Map.of("token_embd.weight", "model.embed_tokens.weight", "output_norm.weight", "model.norm.weight", "output.weight", "lm_head.weight");
  private static final Map<String, String> BLOCK =
      Map.of(
          "attn_norm", "input_layernorm",
          "attn_q", "self_attn.q_proj",
          "attn_k", "self_attn.k_proj",
          "attn_v", "self_attn.v_proj",
          "attn_output", "self_attn.o_proj",
          "ffn_norm", "post_attention_layernorm",
          "ffn_gate", "mlp.gate_proj",
          "ffn_up", "mlp.up_proj",
          "ffn_down", "mlp.down_proj");

  /** The HF name of a llama GGUF tensor, or null when it has none. */
  public static String toHuggingFace(String gguf) {
    String g = GLOBAL.get(gguf);
    if (g != null) {
      return g;
    }
    Matcher m = BLK.matcher(gguf);
    if (m.matches() && BLOCK.containsKey(m.group(2))) {
      return "model.layers." + m.group(1) + "." + BLOCK.get(m.group(2)) + ".weight";
    }
    return null;
  }

  /** The GGUF name of an HF LLaMA tensor, or null when it has none. */
  public static String toGguf(String hf) {
    for (Map.Entry<String, String> e : GLOBAL.entrySet()) {
      if (e.getValue().equals(hf)) {
        return e.getKey();
      }
    }
    if (hf.startsWith("model.layers.")) {
      String rest = hf.substring("model.layers.".length());
      int dot = rest.indexOf('.');
      if (dot > 0 && rest.endsWith(".weight")) {
        String layer = rest.substring(0, dot);
        String mod = rest.substring(dot + 1, rest.length() - ".weight".length());
        for (Map.Entry<String, String> e : BLOCK.entrySet()) {
          if (e.getValue().equals(mod) && layer.chars().allMatch(Character::isDigit)) {
            return "blk." + layer + "." + e.getKey() + ".weight";
          }
        }
      }
    }
    return null;
  }

  /** The GGUF source under HF names, with q/k rows in HF's half-split rope order. Closing it closes {@code src}. */
  public static WeightSource asHuggingFace(GgufSource src) {
    String arch = src.has("general.architecture") ? src.getString("general.architecture") : "?";
    if (!arch.equals("llama")) {
      throw new FormatException(src.origin(), "metadata 'general.architecture'", "is '" + arch + "', the HF LLaMA view needs 'llama'");
    }
    int nHead = src.getInt("llama.attention.head_count");
    int nKv = src.getInt("llama.attention.head_count_kv", nHead);
    Map<String, String> toGguf = new LinkedHashMap<>();
    for (String n : src.names()) {
      String hf = toHuggingFace(n);
      toGguf.put(hf == null ? n : hf, n);
    }
    return new HfView(src, Collections.unmodifiableMap(toGguf), nHead, nKv);
  }

  private static final class HfView implements WeightSource {
    final GgufSource src;
    final Map<String, String> toGguf;
    final int nHead;
    final int nKv;
    record Copy(Tensor tensor, Arena arena) {}

    final Map<String, Copy> permuted = new ConcurrentHashMap<>();

    HfView(GgufSource src, Map<String, String> toGguf, int nHead, int nKv) {
      this.src = src;
      this.toGguf = toGguf;
      this.nHead = nHead;
      this.nKv = nKv;
    }

    @Override
    public Set<String> names() {
      return toGguf.keySet();
    }

    @Override
    public TensorInfo info(String name) {
      String g = toGguf.get(name);
      if (g == null) {
        return null;
      }
      TensorInfo i = src.info(g);
      return new TensorInfo(name, i.dtype(), i.shape());
    }

    @Override
    public Tensor get(String name) {
      String g = toGguf.get(name);
      if (g == null) {
        throw new TensorException("tensor '" + name + "' not found in " + origin() + " (" + toGguf.size() + " tensors)");
      }
      Matcher m = BLK.matcher(g);
      if (m.matches() && (m.group(2).equals("attn_q") || m.group(2).equals("attn_k"))) {
        int heads = m.group(2).equals("attn_q") ? nHead : nKv;
        return permuted.computeIfAbsent(name, n -> {
          Arena arena = Arena.ofShared();
          try {
            Tensor t = permute(src.get(g), heads, false, arena, src.origin() + " tensor '" + g + "'");
            src.release(g); // the GGUF-order original (a dequantized copy for K-quants) is not needed again
            return new Copy(t, arena);
          } catch (RuntimeException e) {
            arena.close();
            throw e;
          }
        }).tensor();
      }
      return src.get(g);
    }

    @Override
    public void release(String name) {
      String g = toGguf.get(name);
      if (g == null) {
        return;
      }
      permuted.computeIfPresent(name, (n, c) -> {
        c.arena().close();
        return null;
      });
      src.release(g);
    }

    @Override
    public Map<String, Object> metadata() {
      return src.metadata();
    }

    @Override
    public String origin() {
      return src.origin() + " (as Hugging Face LLaMA)";
    }

    @Override
    public void close() {
      permuted.values().forEach(c -> c.arena().close());
      permuted.clear();
      src.close();
    }
  }

  /** GGUF (interleaved) rows of a q/k weight to HF (half-split) order; a copy in the current {@link Scope}. */
  public static Tensor unpermuteRows(Tensor w, int nHead) {
    return permute(w, nHead, false, null, "unpermuteRows");
  }

  /** HF (half-split) rows of a q/k weight to GGUF (interleaved) order, as llama.cpp's converter does; a copy in the current {@link Scope}. */
  public static Tensor permuteRows(Tensor w, int nHead) {
    return permute(w, nHead, true, null, "permuteRows");
  }

  /**
   * The HF tensor {@code hfName} as a llama GGUF stores it: q/k projections in GGUF row order
   * ({@link #permuteRows}, with {@code heads} and {@code kvHeads}), anything else as it is.
   */
  public static Tensor ggufRows(String hfName, Tensor t, int heads, int kvHeads) {
    if (hfName.endsWith("q_proj.weight")) {
      return permuteRows(t, heads);
    }
    return hfName.endsWith("k_proj.weight") ? permuteRows(t, kvHeads) : t;
  }

  /**
   * Reorders the rows of {@code w [rows, cols]} within each of {@code nHead} heads of {@code hd}
   * rows: toGguf moves HF row {@code c*hd/2 + i} to {@code 2i + c}; otherwise the inverse.
   */
  private static Tensor permute(Tensor w, int nHead, boolean toGguf, Arena arena, String what) {
    int[] shape = w.shape();
    if (shape.length != 2 || nHead <= 0 || shape[0] % (2 * nHead) != 0) {
      throw new TensorException(what + ": cannot split rows of shape " + Shapes.str(shape) + " into " + nHead + " heads of even size");
    }
    Tensor src = w.contiguous();
    int hd = shape[0] / nHead;
    long rowBytes = w.dtype().byteSize(shape[1]);
    long total = rowBytes * shape[0];
    MemorySegment dst =
        arena != null
            ? NativeMemory.allocate(arena, total)
            : Scope.current().allocateStorage(w.dtype(), w.numel()).segment();
    MemorySegment in = src.storage().segment().asSlice(w.dtype().byteOffset(src.offset()), total);
    for (int h = 0; h < nHead; h++) {
      for (int i = 0; i < hd / 2; i++) {
        for (int c = 0; c < 2; c++) {
          long hf = (long) h * hd + c * (hd / 2) + i;
          long gg = (long) h * hd + 2L * i + c;
          long from = toGguf ? hf : gg;
          long to = toGguf ? gg : hf;
          MemorySegment.copy(in, from * rowBytes, dst, to * rowBytes, rowBytes);
        }
      }
    }
    return new Tensor(Storage.wrap(dst, w.dtype(), w.numel()), shape, Shapes.contiguousStrides(shape), 0);
  }

  /** LLaMA hyper-parameters from the {@code llama.*} keys (names as in spec 6.2). */
  public record Params(
      int contextLength,
      int embeddingLength,
      int blockCount,
      int feedForwardLength,
      int headCount,
      int headCountKv,
      int ropeDimensionCount,
      float rmsNormEps,
      float ropeFreqBase,
      int vocabSize) {}

  /** Reads {@link Params}; optional keys default as llama.cpp does (kv heads = heads, rope base 10000, vocab = token count). */
  public static Params params(GgufSource s) {
    int heads = s.getInt("llama.attention.head_count");
    int emb = s.getInt("llama.embedding_length");
    int vocab =
        s.has("llama.vocab_size") ? s.getInt("llama.vocab_size") : s.has("tokenizer.ggml.tokens") ? s.getArray("tokenizer.ggml.tokens").size() : 0;
    return new Params(
        s.getInt("llama.context_length"),
        emb,
        s.getInt("llama.block_count"),
        s.getInt("llama.feed_forward_length"),
        heads,
        s.getInt("llama.attention.head_count_kv", heads),
        s.getInt("llama.rope.dimension_count", heads > 0 ? emb / heads : 0), // heads 0: refused by the caller
        s.getFloat("llama.attention.layer_norm_rms_epsilon"),
        s.getFloat("llama.rope.freq_base", 10000f),
        vocab);
  }

  /** The SentencePiece vocabulary of a llama GGUF ({@code tokenizer.ggml.*}); ids are -1 when absent. */
  public record Vocabulary(String model, List<String> tokens, float[] scores, int[] tokenTypes, int bosId, int eosId, int unknownId, int paddingId) {}

  public static Vocabulary vocabulary(GgufSource s) {
    List<String> tokens = s.getStrings("tokenizer.ggml.tokens");
    float[] scores = s.has("tokenizer.ggml.scores") ? s.getFloats("tokenizer.ggml.scores") : new float[tokens.size()];
    int[] types = s.has("tokenizer.ggml.token_type") ? s.getInts("tokenizer.ggml.token_type") : new int[tokens.size()];
    if (scores.length != tokens.size() || types.length != tokens.size()) {
      throw new FormatException(
          s.origin(), "tokenizer.ggml", tokens.size() + " tokens but " + scores.length + " scores and " + types.length + " token types");
    }
    return new Vocabulary(
        s.has("tokenizer.ggml.model") ? s.getString("tokenizer.ggml.model") : "llama",
        tokens,
        scores,
        types,
        s.getInt("tokenizer.ggml.bos_token_id", -1),
        s.getInt("tokenizer.ggml.eos_token_id", -1),
        s.getInt("tokenizer.ggml.unknown_token_id", -1),
        s.getInt("tokenizer.ggml.padding_token_id", -1));
  }
}
