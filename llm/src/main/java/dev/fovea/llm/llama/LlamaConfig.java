package dev.fovea.llm.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A LLaMA decoder's hyper-parameters, read from Hugging Face {@code config.json}
 * (huggingface/transformers {@code models/llama/configuration_llama.py}) or from a GGUF file's
 * {@code llama.*} metadata (spec section 6.2). Field names are the file's keys in camelCase;
 * defaults are resolved here (absent {@code num_key_value_heads} = heads, absent {@code head_dim} =
 * hidden / heads, {@code rope_theta} 10000), and every check names the key and the file.
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

  public LlamaConfig {
    check(vocabSize > 0, "vocab_size", vocabSize, "must be positive", origin);
    check(hiddenSize > 0, "hidden_size", hiddenSize, "must be positive", origin);
    check(intermediateSize > 0, "intermediate_size", intermediateSize, "must be positive", origin);
    check(numHiddenLayers > 0, "num_hidden_layers", numHiddenLayers, "must be positive", origin);
    check(numAttentionHeads > 0, "num_attention_heads", numAttentionHeads, "must be positive", origin);
    check(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0, "num_key_value_heads", numKeyValueHeads,
        "must divide num_attention_heads = " + numAttentionHeads, origin);
    check(headDim > 0 && headDim % 2 == 0, "head_dim", headDim, "must be positive and even (rotary pairs)", origin);
    check(maxPositionEmbeddings > 0, "max_position_embeddings", maxPositionEmbeddings, "must be positive", origin);
    check(rmsNormEps > 0, "rms_norm_eps", rmsNormEps, "must be positive", origin);
    check(ropeTheta > 0, "rope_theta", ropeTheta, "must be positive", origin);
    eosTokenIds = List.copyOf(eosTokenIds);
    if (ropeScaling != null) {
      check(ropeScaling.type().equals("linear") || ropeScaling.type().equals("llama3"), "rope_scaling.rope_type", ropeScaling.type(),
          "is not supported (supported: \"linear\", \"llama3\")", origin);
      check(ropeScaling.factor() > 0, "rope_scaling.factor", ropeScaling.factor(), "must be positive", origin);
    }
  }

  private static void check(boolean ok, String key, Object value, String what, String origin) {
    if (!ok) {
      throw new LlamaException(origin + ": config key '" + key + "' = " + value + " " + what);
    }
  }

  /** H / Hkv, the query heads per key/value head. */
  public int groupSize() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /** Reads a Hugging Face {@code config.json}. */
  public static LlamaConfig fromJson(Path configJson) {
    JsonNode n;
    try {
      n = new ObjectMapper().readTree(configJson.toFile());
    } catch (IOException e) {
      throw new LlamaException("cannot read " + configJson + ": " + e.getMessage(), e);
    }
    return fromJson(n, configJson.toString());
  }

  /** Reads the keys of a parsed {@code config.json}; {@code origin} names it in errors. */
  public static LlamaConfig fromJson(JsonNode n, String origin) {
    String type = n.path("model_type").asText("llama");
    if (!type.equals("llama")) {
      throw new LlamaException(origin + ": model_type is \"" + type + "\", expected \"llama\" (LLaVA configs keep the decoder under text_config)");
    }
    int heads = required(n, "num_attention_heads", origin);
    int hidden = required(n, "hidden_size", origin);
    int kv = n.path("num_key_value_heads").isNumber() ? n.get("num_key_value_heads").asInt() : heads;
    if (hidden % heads != 0 && !n.path("head_dim").isNumber()) {
      throw new LlamaException(origin + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads + " and no head_dim is given");
    }
    int headDim = n.path("head_dim").isNumber() ? n.get("head_dim").asInt() : hidden / heads;
    String act = n.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new LlamaException(origin + ": hidden_act \"" + act + "\" is not supported (LLaMA uses \"silu\")");
    }
    for (String bias : List.of("attention_bias", "mlp_bias")) {
      if (n.path(bias).asBoolean(false)) {
        throw new LlamaException(origin + ": " + bias + " = true is not supported (LLaMA checkpoints have no biases)");
      }
    }
    RopeScaling scaling = null;
    JsonNode rs = n.path("rope_scaling");
    if (rs.isObject()) {
      String rt = rs.path("rope_type").asText(rs.path("type").asText("?"));
      if (!rt.equals("default")) {
        scaling = new RopeScaling(rt, rs.path("factor").asDouble(1.0), rs.path("low_freq_factor").asDouble(1.0),
            rs.path("high_freq_factor").asDouble(4.0), rs.path("original_max_position_embeddings").asInt(8192));
      }
    }
    List<Integer> eos = new ArrayList<>();
    JsonNode e = n.path("eos_token_id");
    if (e.isArray()) {
      e.forEach(x -> eos.add(x.asInt()));
    } else if (e.isNumber()) {
      eos.add(e.asInt());
    }
    return new LlamaConfig(
        required(n, "vocab_size", origin),
        hidden,
        required(n, "intermediate_size", origin),
        required(n, "num_hidden_layers", origin),
        heads,
        kv,
        headDim,
        (float) n.path("rms_norm_eps").asDouble(1e-6),
        n.path("rope_theta").asDouble(10000.0),
        scaling,
        n.path("max_position_embeddings").asInt(2048),
        n.path("tie_word_embeddings").asBoolean(false),
        n.path("bos_token_id").isNumber() ? n.get("bos_token_id").asInt() : -1,
        eos,
        origin);
  }

  private static int required(JsonNode n, String key, String origin) {
    JsonNode v = n.get(key);
    if (v == null || !v.isNumber()) {
      throw new LlamaException(origin + ": config key '" + key + "' is missing or not a number");
    }
    return v.asInt();
  }

  /**
   * Reads {@code llama.*} metadata (llama.cpp's names) and the tokenizer ids; tied embeddings when
   * the file has no {@code output.weight}. Checks the metadata against the tensors' shapes.
   */
  public static LlamaConfig fromGguf(GgufSource s) {
    String origin = s.origin();
    String arch = s.has("general.architecture") ? s.getString("general.architecture") : "?";
    if (!arch.equals("llama")) {
      throw new LlamaException(origin + ": general.architecture is \"" + arch + "\", expected \"llama\"");
    }
    GgufLlamaNames.Params p;
    try {
      p = GgufLlamaNames.params(s);
    } catch (RuntimeException e) {
      throw new LlamaException(origin + ": incomplete llama.* metadata: " + e.getMessage(), e);
    }
    int headDim = p.embeddingLength() / p.headCount();
    if (p.ropeDimensionCount() != headDim) {
      throw new LlamaException(origin + ": llama.rope.dimension_count = " + p.ropeDimensionCount() + " but embedding_length / head_count = "
          + headDim + " (partial rotary is not supported)");
    }
    if (s.has("llama.rope.scaling.type") && !s.getString("llama.rope.scaling.type").equals("none")) {
      throw new LlamaException(origin + ": llama.rope.scaling.type \"" + s.getString("llama.rope.scaling.type") + "\" is not supported in GGUF files");
    }
    var embd = s.info("token_embd.weight");
    if (embd == null) {
      throw new LlamaException(origin + ": tensor token_embd.weight is missing");
    }
    int vocab = p.vocabSize() > 0 ? p.vocabSize() : embd.shape()[0];
    LlamaConfig c = new LlamaConfig(vocab, p.embeddingLength(), p.feedForwardLength(), p.blockCount(), p.headCount(), p.headCountKv(), headDim,
        p.rmsNormEps(), p.ropeFreqBase(), null, p.contextLength(), !s.names().contains("output.weight"),
        s.getInt("tokenizer.ggml.bos_token_id", 1), List.of(s.getInt("tokenizer.ggml.eos_token_id", 2)), origin);
    c.checkGgufShapes(s);
    return c;
  }

  /** The metadata must describe the tensors: embedding [vocab, hidden], q/k/v, FFN and block count. */
  private void checkGgufShapes(GgufSource s) {
    List<String> bad = new ArrayList<>();
    expect(s, "token_embd.weight", new int[] {vocabSize, hiddenSize}, bad);
    for (int i = 0; i < numHiddenLayers; i++) {
      expect(s, "blk." + i + ".attn_q.weight", new int[] {numAttentionHeads * headDim, hiddenSize}, bad);
      expect(s, "blk." + i + ".attn_k.weight", new int[] {numKeyValueHeads * headDim, hiddenSize}, bad);
      expect(s, "blk." + i + ".ffn_up.weight", new int[] {intermediateSize, hiddenSize}, bad);
    }
    if (s.names().contains("blk." + numHiddenLayers + ".attn_q.weight")) {
      bad.add("llama.block_count = " + numHiddenLayers + " but the file has a tensor blk." + numHiddenLayers + ".attn_q.weight");
    }
    if (!bad.isEmpty()) {
      throw new LlamaException(s.origin() + ": GGUF metadata disagrees with its tensors:\n  " + String.join("\n  ", bad));
    }
  }

  private static void expect(GgufSource s, String name, int[] shape, List<String> bad) {
    var info = s.info(name);
    if (info == null) {
      bad.add("tensor " + name + " is missing");
    } else if (!java.util.Arrays.equals(info.shape(), shape)) {
      bad.add("tensor " + name + " has shape " + java.util.Arrays.toString(info.shape()) + ", the llama.* metadata implies "
          + java.util.Arrays.toString(shape));
    }
  }
}
