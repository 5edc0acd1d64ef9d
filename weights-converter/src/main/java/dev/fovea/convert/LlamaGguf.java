package dev.fovea.convert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.FormatException;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A LLaMA GGUF (llama.cpp's {@code general.architecture = "llama"}) opened as the Hugging Face
 * {@code LlamaForCausalLM} checkpoint it was converted from, so that the archive it becomes loads
 * and tokenizes exactly as the GGUF itself does ({@code ./fovea convert model.gguf -o model.fovea}).
 *
 * <ul>
 *   <li>tensors: the {@link GgufLlamaNames} view ({@code model.*}, {@code lm_head.weight}; q/k rows
 *       un-permuted to HF's rope order);
 *   <li>{@code config.json}: synthesized from {@code llama.*}, see {@link #config};
 *   <li>{@value LlavaGguf#TOKENIZER_FILE}: the {@code tokenizer.ggml.*} metadata, see
 *       {@link LlavaGguf#tokenizerJson};
 *   <li>metadata: the file's keys without the large tokenizer arrays (they live in the blob).
 * </ul>
 *
 * A GGUF carries everything it needs, so no side file of its folder is taken.
 */
public final class LlamaGguf {
  /** The format a converted llama GGUF is reported as. */
  public static final Format FORMAT = new Format("GGUF (LLaMA, as Hugging Face)", p -> false, null);

  static final Set<String> TOKENIZER_ARRAYS = Set.of("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LlamaGguf() {}

  /** Whether {@code in} is a GGUF whose {@code general.architecture} is "llama". */
  public static boolean isLlama(ModelInput in) {
    return in.weights() instanceof GgufSource g && g.has("general.architecture") && g.getString("general.architecture").equals("llama");
  }

  /**
   * {@code in} (a llama GGUF, see {@link #isLlama}) as an HF LLaMA checkpoint; the result owns the
   * file, and {@code in} must not be closed separately. {@code in} is closed if this fails.
   */
  public static ModelInput asHuggingFace(ModelInput in) {
    GgufSource gguf = (GgufSource) in.weights();
    WeightSource view;
    try {
      view = GgufLlamaNames.asHuggingFace(gguf);
    } catch (RuntimeException e) {
      gguf.close();
      throw e;
    }
    try {
      WeightSource.TensorInfo head = view.info("lm_head.weight");
      Map<String, byte[]> files = new LinkedHashMap<>();
      files.put("config.json", json(config(gguf, head == null, view.info("model.embed_tokens.weight"))));
      if (gguf.has("tokenizer.ggml.tokens")) {
        files.put(LlavaGguf.TOKENIZER_FILE, json(LlavaGguf.tokenizerJson(gguf)));
      }
      Map<String, WeightSource.Ref> refs = new LinkedHashMap<>();
      for (String n : view.names()) {
        refs.put(n, new WeightSource.Ref(view, n));
      }
      WeightSource ws = WeightSource.renamed(refs, view.origin(), metadataWithoutVocabulary(gguf), List.of(view));
      return new ModelInput(in.path(), FORMAT, ws, files);
    } catch (RuntimeException e) {
      view.close();
      throw e;
    }
  }

  /** The file's metadata without the tokenizer arrays. */
  static Map<String, Object> metadataWithoutVocabulary(GgufSource s) {
    Map<String, Object> md = new LinkedHashMap<>();
    s.metadata().forEach((k, v) -> {
      if (!TOKENIZER_ARRAYS.contains(k)) {
        md.put(k, v);
      }
    });
    return md;
  }

  /**
   * The synthesized {@code config.json}: {@link #textConfig} plus {@code architectures
   * ["LlamaForCausalLM"]} and {@code fovea_synthesized_from {"model": file name}}.
   */
  static Map<String, Object> config(GgufSource s, boolean tied, WeightSource.TensorInfo embed) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("architectures", List.of("LlamaForCausalLM"));
    m.putAll(textConfig(s, tied, embed));
    Path name = Path.of(s.origin()).getFileName();
    m.put("fovea_synthesized_from", Map.of("model", name == null ? s.origin() : name.toString()));
    return m;
  }

  /**
   * HF {@code LlamaConfig} keys from {@code llama.*} (spec 6.2), the same values
   * {@code LlamaConfig.fromGguf} takes from the file:
   *
   * <pre>
   * model_type "llama", vocab_size (rows of token_embd), hidden_size (embedding_length),
   * intermediate_size (feed_forward_length), num_hidden_layers (block_count),
   * num_attention_heads (attention.head_count), num_key_value_heads (attention.head_count_kv),
   * head_dim (rope.dimension_count), hidden_act "silu", max_position_embeddings (context_length),
   * rms_norm_eps (attention.layer_norm_rms_epsilon), rope_theta (rope.freq_base, default 10000),
   * bos/eos_token_id (tokenizer.ggml.*, default 1/2), attention_bias and mlp_bias false,
   * tie_word_embeddings (no output.weight)
   * </pre>
   *
   * rms_norm_eps and rope_theta are written as the double value of the file's float, so reading
   * them back gives the float the GGUF holds. A {@code llama.rope.scaling.type} other than "none"
   * is refused, as it is when the GGUF itself is loaded.
   */
  static Map<String, Object> textConfig(GgufSource s, boolean tied, WeightSource.TensorInfo embed) {
    GgufLlamaNames.Params p = GgufLlamaNames.params(s);
    if (s.has("llama.rope.scaling.type") && !s.getString("llama.rope.scaling.type").equals("none")) {
      throw new FormatException(s.origin(), "metadata 'llama.rope.scaling.type'", "is '" + s.getString("llama.rope.scaling.type") + "'; rope scaling in GGUF files is not supported");
    }
    Map<String, Object> text = new LinkedHashMap<>();
    text.put("model_type", "llama");
    text.put("vocab_size", embed != null ? embed.shape()[0] : p.vocabSize());
    text.put("hidden_size", p.embeddingLength());
    text.put("intermediate_size", p.feedForwardLength());
    text.put("num_hidden_layers", p.blockCount());
    text.put("num_attention_heads", p.headCount());
    text.put("num_key_value_heads", p.headCountKv());
    text.put("head_dim", p.ropeDimensionCount());
    text.put("hidden_act", "silu");
    text.put("max_position_embeddings", p.contextLength());
    text.put("rms_norm_eps", (double) p.rmsNormEps());
    text.put("rope_theta", (double) p.ropeFreqBase());
    text.put("bos_token_id", s.getInt("tokenizer.ggml.bos_token_id", 1));
    text.put("eos_token_id", s.getInt("tokenizer.ggml.eos_token_id", 2));
    text.put("attention_bias", false);
    text.put("mlp_bias", false);
    text.put("tie_word_embeddings", tied);
    return text;
  }

  static byte[] json(Object o) {
    try {
      return JSON.writeValueAsString(o).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new TensorException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }
}
