package dev.fovea.llm.llama;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.nn.StateDict;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.JsonConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A LLaMA decoder's hyper-parameters, read from Hugging Face {@code config.json}
 * (huggingface/transformers {@code models/llama/configuration_llama.py}) or from a GGUF file's
 * {@code llama.*} metadata (spec section 6.2). Field names are the file's keys in camelCase;
 * defaults are resolved here (absent {@code num_key_value_heads} = heads, absent {@code head_dim} =
 * hidden / heads, {@code rope_theta} 10000), and every check names the key and the file.
 *
 * <p>Every key's JSON type is checked ({@link JsonConfig}: 64.5, "64" or 1e12 for an integer are
 * refused, absent or null keys take their defaults, unknown keys are ignored), and every size has a
 * ceiling, {@link #MAX_LAYERS} and the others: each is several times the largest published LLaMA
 * (Llama 3.1 405B: 126 layers, hidden 16384, FFN 53248, 128 heads of 128, vocabulary 128256; Llama 4
 * Scout: 10M positions), so no real checkpoint reaches one, while a hostile config cannot make the
 * loader build a million layers or overflow heads x head_dim. {@link #disagreements} then compares
 * the config with the checkpoint's tensor list before any module is built.
 *
 * @param eosTokenIds every id that ends generation ({@code eos_token_id} may be a list)
 * @param ropeScaling null, or the {@code rope_scaling} entry ("linear" and "llama3" are supported)
 * @param origin the file the values came from, for error messages
 */
public record LlamaConfig(
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    float rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    int bosTokenId,
    List<Integer> eosTokenIds,
    String origin) {

  /**
   * {@code rope_scaling}: "linear" divides positions by {@code factor}; "llama3" rescales the
   * low frequencies (transformers {@code _compute_llama3_parameters}).
   */
  public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {}

  /** Most decoder layers (Llama 3.1 405B has 126). */
  public static final int MAX_LAYERS = 1024;
  /** Widest hidden size (405B: 16384). */
  public static final int MAX_HIDDEN = 65_536;
  /** Widest feed-forward size (405B: 53248). */
  public static final int MAX_INTERMEDIATE = 262_144;
  /** Most attention heads, query or key/value (405B: 128). */
  public static final int MAX_HEADS = 1024;
  /** Widest head (published models: 64 to 256). */
  public static final int MAX_HEAD_DIM = 1024;
  /** Largest vocabulary (Llama 3: 128256; the largest published ones are about 256K). */
  public static final int MAX_VOCAB = 1 << 22;
  /** Most positions (Llama 4 Scout: 10M); the rotary tables grow on demand, so this allocates nothing. */
  public static final int MAX_POSITIONS = 1 << 24;

  public LlamaConfig {
    range("vocab_size", vocabSize, MAX_VOCAB, origin);
    range("hidden_size", hiddenSize, MAX_HIDDEN, origin);
    range("intermediate_size", intermediateSize, MAX_INTERMEDIATE, origin);
    range("num_hidden_layers", numHiddenLayers, MAX_LAYERS, origin);
    range("num_attention_heads", numAttentionHeads, MAX_HEADS, origin);
    range("num_key_value_heads", numKeyValueHeads, MAX_HEADS, origin);
    range("head_dim", headDim, MAX_HEAD_DIM, origin);
    range("max_position_embeddings", maxPositionEmbeddings, MAX_POSITIONS, origin);
    check(numAttentionHeads % numKeyValueHeads == 0, "num_key_value_heads",
        numKeyValueHeads + " does not divide num_attention_heads " + numAttentionHeads, origin);
    check(headDim % 2 == 0, "head_dim", headDim + " is odd (rotary embeddings rotate pairs)", origin);
    check(rmsNormEps > 0 && Float.isFinite(rmsNormEps), "rms_norm_eps", "must be positive, found " + rmsNormEps, origin);
    check(ropeTheta > 0 && Double.isFinite(ropeTheta), "rope_theta", "must be positive, found " + ropeTheta, origin);
    eosTokenIds = List.copyOf(eosTokenIds);
    if (ropeScaling != null) {
      check(ropeScaling.type().equals("linear") || ropeScaling.type().equals("llama3"), "rope_scaling.rope_type",
          "\"" + ErrorList.abbreviate(ropeScaling.type(), 40) + "\" is not supported (supported: \"linear\", \"llama3\")", origin);
      check(ropeScaling.factor() > 0 && Double.isFinite(ropeScaling.factor()), "rope_scaling.factor", "must be positive, found " + ropeScaling.factor(),
          origin);
      if (ropeScaling.type().equals("llama3")) {
        check(ropeScaling.highFreqFactor() > ropeScaling.lowFreqFactor(), "rope_scaling.high_freq_factor", ropeScaling.highFreqFactor()
            + " must be above low_freq_factor " + ropeScaling.lowFreqFactor(), origin);
        range("rope_scaling.original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings(), MAX_POSITIONS, origin);
      }
    }
  }

  private static void check(boolean ok, String key, String problem, String origin) {
    if (!ok) {
      throw new LlamaException(origin + ": '" + key + "' " + problem);
    }
  }

  private static void range(String key, int value, int max, String origin) {
    check(value > 0, key, "must be positive, found " + value, origin);
    check(value <= max, key, "must be at most " + max + " (fovea's limit), found " + value, origin);
  }

  /** H / Hkv, the query heads per key/value head. */
  public int groupSize() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /** Reads a Hugging Face {@code config.json}. */
  public static LlamaConfig fromJson(Path configJson) {
    return fromJson(JsonConfig.read(configJson, LlamaException::new), configJson.toString());
  }

  /** Parses {@code config.json} bytes (e.g. from an archive); {@code origin} names them in errors. */
  public static LlamaConfig fromJson(byte[] configJson, String origin) {
    return fromJson(JsonConfig.parse(configJson, origin, LlamaException::new), origin);
  }

  /** Reads the keys of a parsed {@code config.json}; {@code origin} names it in errors. */
  public static LlamaConfig fromJson(JsonNode n, String origin) {
    return fromJson(JsonConfig.of(n, origin, LlamaException::new));
  }

  /**
   * Reads the keys of a config object, which may be nested in a larger file (LLaVA's {@code
   * text_config}: errors then name {@code 'text_config.hidden_size'}).
   */
  public static LlamaConfig fromJson(JsonConfig c) {
    String nested = c.key("");
    String origin = nested.isEmpty() ? c.origin() : c.origin() + " (" + nested.substring(0, nested.length() - 1) + ")";
    String type = c.string("model_type", "llama");
    if (!type.equals("llama")) {
      throw c.error("model_type", "is \"" + ErrorList.abbreviate(type, 40) + "\", expected \"llama\" (LLaVA configs keep the decoder under text_config)");
    }
    int heads = c.integer("num_attention_heads", 1, MAX_HEADS);
    int hidden = c.integer("hidden_size", 1, MAX_HIDDEN);
    int kv = c.integer("num_key_value_heads", heads, 1, MAX_HEADS);
    int headDim;
    if (c.has("head_dim")) {
      headDim = c.integer("head_dim", 1, MAX_HEAD_DIM);
    } else if (hidden % heads != 0) {
      throw c.error("hidden_size", hidden + " is not a multiple of num_attention_heads " + heads + " and no head_dim is given");
    } else {
      headDim = hidden / heads;
    }
    String act = c.string("hidden_act", "silu");
    if (!act.equals("silu")) {
      throw c.error("hidden_act", "\"" + ErrorList.abbreviate(act, 40) + "\" is not supported (LLaMA uses \"silu\")");
    }
    for (String bias : List.of("attention_bias", "mlp_bias")) {
      if (c.bool(bias, false)) {
        throw c.error(bias, "= true is not supported (LLaMA checkpoints have no biases)");
      }
    }
    RopeScaling scaling = null;
    if (c.has("rope_scaling")) {
      JsonConfig rs = c.object("rope_scaling");
      String rt = rs.has("rope_type") ? rs.string("rope_type", "?") : rs.string("type", "?");
      if (!rt.equals("default")) {
        scaling = new RopeScaling(rt, rs.positive("factor", 1.0), rs.positive("low_freq_factor", 1.0), rs.positive("high_freq_factor", 4.0),
            rs.integer("original_max_position_embeddings", 8192, 1, MAX_POSITIONS));
      }
    }
    return new LlamaConfig(
        c.integer("vocab_size", 1, MAX_VOCAB),
        hidden,
        c.integer("intermediate_size", 1, MAX_INTERMEDIATE),
        c.integer("num_hidden_layers", 1, MAX_LAYERS),
        heads,
        kv,
        headDim,
        (float) c.positive("rms_norm_eps", 1e-6),
        c.positive("rope_theta", 10000.0),
        scaling,
        c.integer("max_position_embeddings", 2048, 1, MAX_POSITIONS),
        c.bool("tie_word_embeddings", false),
        c.integer("bos_token_id", -1, -1, Integer.MAX_VALUE),
        c.integers("eos_token_id", 0, Integer.MAX_VALUE),
        origin);
  }

  /**
   * Where the checkpoint's tensors ({@code weights}, Hugging Face names under {@code prefix})
   * disagree with this config, one line each, read from the tensor list alone so that a loader can
   * refuse before building any module: the number of {@code model.layers.N}, the embedding [V, C],
   * the head [V, C] unless tied, and layer 0's q/k/up projections. A missing tensor is left to the
   * strict load, which names it.
   */
  public List<String> disagreements(WeightSource weights, String prefix) {
    return disagreements(weights, prefix, "");
  }

  /** As {@link #disagreements(WeightSource, String)}, naming the keys under {@code keyPrefix} ("text_config."). */
  public List<String> disagreements(WeightSource weights, String prefix, String keyPrefix) {
    List<String> bad = new ArrayList<>();
    String layers = StateDict.countDisagreement(weights, prefix + "model.layers.", keyPrefix + "num_hidden_layers", numHiddenLayers);
    if (layers != null) {
      bad.add(layers);
    }
    String of = keyPrefix.isEmpty() ? "" : " of " + keyPrefix.substring(0, keyPrefix.length() - 1);
    String l0 = prefix + "model.layers.0.";
    for (String d : new String[] {
        StateDict.shapeDisagreement(weights, prefix + "model.embed_tokens.weight", "[vocab_size, hidden_size]" + of, vocabSize, hiddenSize),
        tieWordEmbeddings ? null
            : StateDict.shapeDisagreement(weights, prefix + "lm_head.weight", "[vocab_size, hidden_size]" + of, vocabSize, hiddenSize),
        StateDict.shapeDisagreement(weights, l0 + "self_attn.q_proj.weight", "[num_attention_heads * head_dim, hidden_size]" + of,
            numAttentionHeads * headDim, hiddenSize),
        StateDict.shapeDisagreement(weights, l0 + "self_attn.k_proj.weight", "[num_key_value_heads * head_dim, hidden_size]" + of,
            numKeyValueHeads * headDim, hiddenSize),
        StateDict.shapeDisagreement(weights, l0 + "mlp.up_proj.weight", "[intermediate_size, hidden_size]" + of, intermediateSize, hiddenSize)}) {
      if (d != null) {
        bad.add(d);
      }
    }
    return bad;
  }

  /**
   * Reads {@code llama.*} metadata (llama.cpp's names) and the tokenizer ids; tied embeddings when
   * the file has no {@code output.weight}. Checks the metadata against the tensors' shapes.
   */
  public static LlamaConfig fromGguf(GgufSource s) {
    String origin = s.origin();
    String arch = s.has("general.architecture") ? s.getString("general.architecture") : "?";
    if (!arch.equals("llama")) {
      throw new LlamaException(origin + ": general.architecture is \"" + ErrorList.abbreviate(arch, 40) + "\", expected \"llama\"");
    }
    GgufLlamaNames.Params p;
    try {
      p = GgufLlamaNames.params(s);
    } catch (RuntimeException e) {
      throw new LlamaException(origin + ": unusable llama.* metadata: " + e.getMessage(), e);
    }
    // the same ceilings as config.json, named by the GGUF keys
    ggufRange(origin, "llama.attention.head_count", p.headCount(), MAX_HEADS);
    ggufRange(origin, "llama.attention.head_count_kv", p.headCountKv(), MAX_HEADS);
    ggufRange(origin, "llama.embedding_length", p.embeddingLength(), MAX_HIDDEN);
    ggufRange(origin, "llama.feed_forward_length", p.feedForwardLength(), MAX_INTERMEDIATE);
    ggufRange(origin, "llama.block_count", p.blockCount(), MAX_LAYERS);
    ggufRange(origin, "llama.context_length", p.contextLength(), MAX_POSITIONS);
    if (p.embeddingLength() % p.headCount() != 0) {
      throw new LlamaException(origin + ": metadata 'llama.embedding_length' " + p.embeddingLength() + " is not a multiple of llama.attention.head_count "
          + p.headCount());
    }
    int headDim = p.embeddingLength() / p.headCount();
    if (p.ropeDimensionCount() != headDim) {
      throw new LlamaException(origin + ": llama.rope.dimension_count = " + p.ropeDimensionCount() + " but embedding_length / head_count = "
          + headDim + " (partial rotary is not supported)");
    }
    if (s.has("llama.rope.scaling.type") && !s.getString("llama.rope.scaling.type").equals("none")) {
      throw new LlamaException(origin + ": llama.rope.scaling.type \"" + ErrorList.abbreviate(s.getString("llama.rope.scaling.type"), 40)
          + "\" is not supported in GGUF files");
    }
    var embd = s.info("token_embd.weight");
    if (embd == null || embd.shape().length != 2) {
      throw new LlamaException(origin + ": tensor token_embd.weight is " + (embd == null ? "missing" : "not a matrix: " + Arrays.toString(embd.shape())));
    }
    int vocab = p.vocabSize() > 0 ? p.vocabSize() : embd.shape()[0];
    LlamaConfig c = new LlamaConfig(vocab, p.embeddingLength(), p.feedForwardLength(), p.blockCount(), p.headCount(), p.headCountKv(), headDim,
        p.rmsNormEps(), p.ropeFreqBase(), null, p.contextLength(), !s.names().contains("output.weight"),
        s.getInt("tokenizer.ggml.bos_token_id", 1), List.of(s.getInt("tokenizer.ggml.eos_token_id", 2)), origin);
    c.checkGgufShapes(s);
    return c;
  }

  private static void ggufRange(String origin, String key, int value, int max) {
    if (value <= 0 || value > max) {
      throw new LlamaException(origin + ": metadata '" + key + "' must be " + (value <= 0 ? "positive" : "at most " + max + " (fovea's limit)")
          + ", found " + value);
    }
  }

  /**
   * The metadata must describe the tensors: block count, embedding [vocab, hidden], and per block
   * q/k and FFN; the report lists the first few disagreements and counts the rest.
   */
  private void checkGgufShapes(GgufSource s) {
    List<String> bad = new ArrayList<>();
    String blocks = StateDict.countDisagreement(s, "blk.", "llama.block_count", numHiddenLayers);
    if (blocks != null) {
      bad.add(blocks);
    }
    expect(s, "token_embd.weight", new int[] {vocabSize, hiddenSize}, bad);
    for (int i = 0; blocks == null && i < numHiddenLayers; i++) {
      expect(s, "blk." + i + ".attn_q.weight", new int[] {numAttentionHeads * headDim, hiddenSize}, bad);
      expect(s, "blk." + i + ".attn_k.weight", new int[] {numKeyValueHeads * headDim, hiddenSize}, bad);
      expect(s, "blk." + i + ".ffn_up.weight", new int[] {intermediateSize, hiddenSize}, bad);
    }
    if (!bad.isEmpty()) {
      throw new LlamaException(s.origin() + ": GGUF metadata disagrees with its tensors" + ErrorList.lines(bad));
    }
  }

  private static void expect(GgufSource s, String name, int[] shape, List<String> bad) {
    var info = s.info(name);
    if (info == null) {
      bad.add("tensor " + name + " is missing");
    } else if (!Arrays.equals(info.shape(), shape)) {
      bad.add("tensor " + name + " has shape " + Arrays.toString(info.shape()) + ", the llama.* metadata implies " + Arrays.toString(shape));
    }
  }
}
