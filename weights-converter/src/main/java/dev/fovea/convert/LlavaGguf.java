package dev.fovea.convert;

import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.FormatException;
import dev.fovea.tensor.io.GgufArray;
import dev.fovea.tensor.io.GgufClipNames;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A LLaVA-1.5 model as llama.cpp ships it, a LLaMA GGUF plus a CLIP "mmproj" GGUF, opened as one
 * Hugging Face {@code LlavaForConditionalGeneration} checkpoint: the pair a fovea archive is
 * converted from with {@code ./fovea convert model.gguf --mmproj mmproj.gguf -o out.fovea}.
 *
 * <p>Tensors, in the hub files' (old) layout of spec 2.2:
 * <ul>
 *   <li>{@code language_model.} + the {@link GgufLlamaNames} view of the LLaMA file
 *       ({@code language_model.model.*}, {@code language_model.lm_head.weight}; q/k rows in HF order);
 *   <li>the {@link GgufClipNames} view of the mmproj file ({@code vision_tower.vision_model.*},
 *       {@code multi_modal_projector.linear_{1,2}.*}).
 * </ul>
 *
 * <p>Side files, synthesized because a GGUF pair carries none:
 * <ul>
 *   <li>{@code config.json}: <b>follows llava-hf's {@code LlavaConfig} layout</b> (spec 2.1), see
 *       {@link #config}; it is derived, not a copy of any published file.
 *   <li>{@code preprocessor_config.json}: llava-hf's {@code CLIPImageProcessor} (shortest edge and
 *       center crop to {@code clip.vision.image_size}, the file's mean/std), see
 *       {@link GgufClipNames#preprocessorConfig}.
 *   <li>{@value #TOKENIZER_FILE}: the LLaMA file's {@code tokenizer.ggml.*} metadata, see
 *       {@link #tokenizerJson}.
 * </ul>
 *
 * <p>Archive metadata: the LLaMA file's keys (without the large tokenizer arrays, which live in
 * {@value #TOKENIZER_FILE}), then the mmproj file's keys, those that clash (the {@code general.*}
 * keys) prefixed with {@code mmproj.}, then {@code fovea.mmproj} = the mmproj file name.
 */
public final class LlavaGguf {
  /** Name of the embedded tokenizer blob. */
  public static final String TOKENIZER_FILE = "tokenizer.gguf.json";
  /** Value of the blob's {@code "format"} key (llm's {@code TokenizerLoader.GGUF_JSON_FORMAT}, which reads it). */
  public static final String TOKENIZER_FORMAT = "fovea.gguf-tokenizer/1";
  /** Token id of {@code <image>} in llava-hf's vocabulary, used when the GGUF vocabulary has none. */
  public static final int DEFAULT_IMAGE_TOKEN_INDEX = 32000;

  /** The format a pair is reported as (it is never detected: the pair is named explicitly). */
  public static final Format FORMAT = new Format("LLaVA GGUF (model + mmproj)", p -> false, p -> {
    throw new ConvertException(p + ": a LLaVA GGUF pair is opened with its mmproj file (--mmproj)");
  });


  private LlavaGguf() {}

  /** Opens the pair; closing the result closes both files. */
  public static ModelInput open(Path model, Path mmproj) {
    GgufSource llama = GgufSource.open(model);
    GgufSource clip = null;
    try {
      clip = GgufSource.open(mmproj);
      WeightSource text = GgufLlamaNames.asHuggingFace(llama);
      WeightSource vision;
      try {
        vision = GgufClipNames.asHuggingFace(clip);
      } catch (RuntimeException e) {
        // text owns llama now; close it through the view.
        text.close();
        llama = null;
        throw e;
      }
      GgufSource c = clip;
      GgufSource l = llama;
      clip = null;
      llama = null;
      try {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("config.json", json(config(l, c, text.info("lm_head.weight") == null ? -1 : text.info("lm_head.weight").shape()[0], text.info("model.embed_tokens.weight"))));
        files.put("preprocessor_config.json", json(GgufClipNames.preprocessorConfig(GgufClipNames.params(c))));
        if (l.has("tokenizer.ggml.tokens")) {
          files.put(TOKENIZER_FILE, json(tokenizerJson(l)));
        }
        Map<String, Object> md = LlamaGguf.metadataWithoutVocabulary(l);
        c.metadata().forEach((k, v) -> md.put(md.containsKey(k) ? "mmproj." + k : k, v));
        md.put("fovea.mmproj", String.valueOf(mmproj.getFileName()));
        return new ModelInput(model, FORMAT, pair(text, vision, md, model + " + " + mmproj), files);
      } catch (RuntimeException e) {
        text.close();
        vision.close();
        throw e;
      }
    } catch (RuntimeException e) {
      if (llama != null) {
        llama.close();
      }
      if (clip != null) {
        clip.close();
      }
      throw e;
    }
  }

  /**
   * The synthesized {@code config.json}, in llava-hf's {@code LlavaConfig} layout (spec 2.1):
   *
   * <pre>
   * architectures                    ["LlavaForConditionalGeneration"]
   * model_type                       "llava"
   * image_token_index                id of "&lt;image&gt;" in the GGUF vocabulary, else 32000 (llava-hf's)
   * pad_token_id                     tokenizer.ggml.padding_token_id, when present
   * projector_hidden_act             "gelu" (exact erf GELU, as HF; llama.cpp's projector uses the tanh form)
   * vision_feature_layer             -2, or -1 for a legacy mmproj (fc1 stored as ffn_down), whose
   *                                  converter already dropped the last vision layer: -1 of the
   *                                  shortened tower is -2 of the full one
   * vision_feature_select_strategy   "default" (drop CLS)
   * image_seq_length                 (image_size / patch_size)^2
   * multimodal_projector_bias        whether mm.0.bias is present
   * tie_word_embeddings              true when the LLaMA file has no output.weight
   * text_config                      LlamaConfig keys from llama.*, {@link LlamaGguf#textConfig}
   * vision_config                    {@link GgufClipNames#visionConfig}
   * fovea_synthesized_from           {"model": file name, "mmproj": file name}
   * </pre>
   *
   * When {@code image_token_index} is not in the vocabulary it may equal {@code vocab_size}: a model
   * must put image features at those positions before (not after) the embedding lookup.
   */
  static Map<String, Object> config(GgufSource llama, GgufSource clip, int lmHeadRows, WeightSource.TensorInfo embed) {
    GgufLlamaNames.Params lp = GgufLlamaNames.params(llama);
    GgufClipNames.Params cp = GgufClipNames.params(clip);
    if (!cp.projectorType().equals("mlp")) {
      throw new FormatException(clip.origin(), "metadata 'clip.projector_type'", "is '" + cp.projectorType() + "'; only LLaVA-1.5's \"mlp\" projector is supported");
    }
    if (clip.info("mm.0.weight") == null || clip.info("mm.2.weight") == null) {
      throw new FormatException(clip.origin(), "tensor 'mm.0.weight'", "missing: the mmproj file has no LLaVA projector (mm.0 / mm.2)");
    }
    int projOut = clip.info("mm.2.weight").shape()[0];
    if (projOut != lp.embeddingLength()) {
      throw new FormatException(clip.origin(), "tensor 'mm.2.weight'", "projects to width " + projOut + " but " + llama.origin() + " has llama.embedding_length " + lp.embeddingLength() + "; not a matching pair");
    }
    int imageToken = DEFAULT_IMAGE_TOKEN_INDEX;
    if (llama.has("tokenizer.ggml.tokens")) {
      int i = llama.getStrings("tokenizer.ggml.tokens").indexOf("<image>");
      if (i >= 0) {
        imageToken = i;
      }
    }
    Map<String, Object> text = LlamaGguf.textConfig(llama, lmHeadRows < 0, embed);

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("architectures", List.of("LlavaForConditionalGeneration"));
    m.put("model_type", "llava");
    m.put("image_token_index", imageToken);
    if (llama.has("tokenizer.ggml.padding_token_id")) {
      m.put("pad_token_id", llama.getInt("tokenizer.ggml.padding_token_id"));
    }
    m.put("projector_hidden_act", "gelu");
    m.put("vision_feature_layer", GgufClipNames.legacyFfnNaming(clip) ? -1 : -2);
    m.put("vision_feature_select_strategy", "default");
    if (cp.patchSize() > 0 && cp.imageSize() > 0 && cp.imageSize() / cp.patchSize() <= 46_340) {
      int side = cp.imageSize() / cp.patchSize();
      m.put("image_seq_length", side * side);
    } // else left out: LlavaConfig refuses the vision sizes themselves, naming the key (no / by zero here)
    m.put("multimodal_projector_bias", clip.info("mm.0.bias") != null);
    m.put("tie_word_embeddings", lmHeadRows < 0);
    m.put("text_config", text);
    m.put("vision_config", GgufClipNames.visionConfig(cp));
    Map<String, Object> from = new LinkedHashMap<>();
    from.put("model", fileName(llama.origin()));
    from.put("mmproj", fileName(clip.origin()));
    m.put("fovea_synthesized_from", from);
    return m;
  }

  /**
   * The tokenizer blob ({@value #TOKENIZER_FILE}): one JSON object whose keys are the GGUF keys
   * without their {@code tokenizer.ggml.} prefix, values as JSON (arrays stay arrays, floats keep
   * their float value), plus {@code "format": "fovea.gguf-tokenizer/1"}:
   *
   * <pre>
   * {"format": "fovea.gguf-tokenizer/1",
   *  "model": "llama",                      tokenizer.ggml.model (SentencePiece for "llama")
   *  "tokens": ["&lt;unk&gt;", "&lt;s&gt;", ...],        tokenizer.ggml.tokens
   *  "scores": [0.0, ...],                  tokenizer.ggml.scores
   *  "token_type": [2, 3, ...],             tokenizer.ggml.token_type (1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte)
   *  "bos_token_id": 1, "eos_token_id": 2, "unknown_token_id": 0, "padding_token_id": ...,
   *  "add_bos_token": true, "add_eos_token": false, "add_space_prefix": ..., "merges": [...],
   *  "chat_template": "..."}                tokenizer.chat_template, when present
   * </pre>
   *
   * Only the keys the file has appear. Renaming each key back to {@code tokenizer.ggml.<key>} gives
   * the map {@code TokenizerLoader.fromGgufMetadata} reads.
   */
  public static Map<String, Object> tokenizerJson(GgufSource s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", TOKENIZER_FORMAT);
    String prefix = "tokenizer.ggml.";
    for (Map.Entry<String, Object> e : s.metadata().entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        m.put(e.getKey().substring(prefix.length()), plain(e.getValue()));
      }
    }
    if (s.has("tokenizer.chat_template")) {
      m.put("chat_template", s.getString("tokenizer.chat_template"));
    }
    return m;
  }

  private static Object plain(Object v) {
    if (v instanceof GgufArray a) {
      List<Object> out = new ArrayList<>(a.size());
      for (Object o : a.values()) {
        out.add(plain(o));
      }
      return out;
    }
    return v;
  }

  private static String fileName(String origin) {
    Path p = Path.of(origin).getFileName();
    return p == null ? origin : p.toString();
  }

  private static byte[] json(Object o) {
    return LlamaGguf.json(o);
  }

  /** The two views under one name space: {@code language_model.} + text names, then the vision names. */
  private static WeightSource pair(WeightSource text, WeightSource vision, Map<String, Object> metadata, String origin) {
    Map<String, WeightSource.Ref> refs = new LinkedHashMap<>();
    add(refs, text, "language_model.");
    add(refs, vision, "");
    return WeightSource.renamed(refs, origin, metadata, List.of(text, vision));
  }

  private static void add(Map<String, WeightSource.Ref> refs, WeightSource src, String prefix) {
    for (String n : src.names()) {
      if (refs.putIfAbsent(prefix + n, new WeightSource.Ref(src, n)) != null) {
        throw new FormatException(src.origin(), "tensor '" + n + "'", "maps to '" + prefix + n + "', which the other file of the pair also has");
      }
    }
  }
}
