package dev.fovea.llm.tokenizer;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.ErrorList;
import dev.fovea.vit.tokenizer.ClipTokenizer;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.nio.file.Files;
import dev.fovea.tensor.io.GgufSource;
import java.nio.file.Path;
import java.util.List;
import java.util.HashMap;
import java.util.Map;

/**
 * Finds and loads a tokenizer: one method per source kind, and {@link #load} which picks one from a
 * model folder or a vocabulary file.
 *
 * <p>GGUF: {@link #fromGgufMetadata} builds the tokenizer from a GGUF file's {@code tokenizer.ggml.*}
 * metadata, which {@link #fromGguf} reads with {@link GgufSource}.
 */
public final class TokenizerLoader {
  /** A GGUF's {@code tokenizer.ggml.*} metadata as JSON (weights-converter's {@code LlavaGguf.tokenizerJson}). */
  public static final String GGUF_JSON = "tokenizer.gguf.json";
  /** The {@code "format"} value of a {@value #GGUF_JSON} file. */
  public static final String GGUF_JSON_FORMAT = "fovea.gguf-tokenizer/1";

  private TokenizerLoader() {}

  /**
   * A folder is searched in this order: {@value #GGUF_JSON} (a GGUF's tokenizer, as a converted
   * GGUF's archive carries it), {@code tokenizer.json} (SentencePiece-style BPE),
   * {@code tokenizer.model}, {@code vocab.json} + {@code merges.txt} (CLIP),
   * {@code bpe_simple_vocab_16e6.txt.gz} (CLIP), {@code vocab.txt} (WordPiece),
   * {@code tokenizer.bin} (llama2.c). A file is recognised by its name.
   *
   * <p>A folder's SentencePiece tokenizer (tokenizer.json, tokenizer.model, tokenizer.bin) also
   * takes the added tokens that {@code tokenizer_config.json} ({@code added_tokens_decoder}) and
   * {@code added_tokens.json} declare beside it, as Hugging Face's {@code from_pretrained} does
   * (llava-hf's {@code <image>} = 32000): see {@link #withFolderAddedTokens}.
   */
  public static TextTokenizer load(Path path) {
    if (!Files.exists(path)) {
      throw new TokenizerFileException(path, "no such file or folder");
    }
    if (Files.isDirectory(path)) {
      if (Files.isRegularFile(path.resolve(GGUF_JSON))) {
        return fromGgufJson(path.resolve(GGUF_JSON));
      }
      Path json = path.resolve("tokenizer.json");
      if (Files.isRegularFile(json) && !isByteLevelJson(json)) {
        return withFolderAddedTokens(fromTokenizerJson(json), path);
      }
      if (Files.isRegularFile(path.resolve("tokenizer.model"))) {
        return withFolderAddedTokens(fromSentencePieceModel(path.resolve("tokenizer.model")), path);
      }
      if (Files.isRegularFile(path.resolve("vocab.json")) && Files.isRegularFile(path.resolve("merges.txt"))) {
        return fromClipHf(path.resolve("vocab.json"), path.resolve("merges.txt"));
      }
      if (Files.isRegularFile(path.resolve("bpe_simple_vocab_16e6.txt.gz"))) {
        return fromClipOpenAi(path.resolve("bpe_simple_vocab_16e6.txt.gz"));
      }
      if (Files.isRegularFile(path.resolve("vocab.txt"))) {
        return fromVocabTxt(path.resolve("vocab.txt"));
      }
      if (Files.isRegularFile(path.resolve("tokenizer.bin"))) {
        return withFolderAddedTokens(fromLlama2cBin(path.resolve("tokenizer.bin")), path);
      }
      throw new TokenizerFileException(path, "no tokenizer found: expected " + GGUF_JSON + ", tokenizer.json, tokenizer.model, "
          + "vocab.json + merges.txt, bpe_simple_vocab_16e6.txt.gz, vocab.txt or tokenizer.bin");
    }
    String name = path.getFileName().toString();
    if (name.endsWith(".gguf")) {
      return fromGguf(path);
    } else if (name.endsWith(".gguf.json")) {
      return fromGgufJson(path);
    } else if (name.endsWith(".model")) {
      return fromSentencePieceModel(path);
    } else if (name.endsWith(".txt.gz")) {
      return fromClipOpenAi(path);
    } else if (name.equals("vocab.json") || name.equals("merges.txt")) {
      return fromClipHf(path.resolveSibling("vocab.json"), path.resolveSibling("merges.txt"));
    } else if (name.endsWith(".json")) {
      return fromTokenizerJson(path);
    } else if (name.endsWith(".txt")) {
      return fromVocabTxt(path);
    } else if (name.endsWith(".bin")) {
      return fromLlama2cBin(path);
    }
    throw new TokenizerFileException(path, "unknown tokenizer file kind: expected *.model, tokenizer.json, *.gguf.json, "
        + "vocab.json/merges.txt, *.txt.gz (CLIP), vocab.txt (WordPiece), *.bin (llama2.c) or *.gguf");
  }

  /**
   * {@code tokenizer} with the added tokens of {@code dir}'s {@code tokenizer_config.json} and
   * {@code added_tokens.json} (those whose id or content it does not have yet: tokenizer.json's own
   * {@code added_tokens} come first).
   */
  public static SentencePieceTokenizer withFolderAddedTokens(SentencePieceTokenizer tokenizer, Path dir) {
    List<AddedToken> more = HfAddedTokens.read(dir);
    if (more.isEmpty()) {
      return tokenizer;
    }
    try {
      return tokenizer.withAddedTokens(more);
    } catch (IllegalArgumentException e) {
      Path file = Files.isRegularFile(dir.resolve(HfAddedTokens.CONFIG)) ? dir.resolve(HfAddedTokens.CONFIG) : dir.resolve(HfAddedTokens.ADDED);
      throw new TokenizerFileException(file, e.getMessage() + " (the tokenizer has " + tokenizer.vocabSize() + " ids)");
    }
  }

  private static boolean isByteLevelJson(Path json) {
    try {
      String head = Files.readString(json);
      return head.contains("\"ByteLevel\"") || head.contains("\"end_of_word_suffix\": \"</w>\"")
          || head.contains("\"end_of_word_suffix\":\"</w>\"");
    } catch (java.io.IOException e) {
      throw new TokenizerFileException(json, "cannot read", e);
    }
  }

  /** SentencePiece {@code tokenizer.model} (protobuf ModelProto, BPE). */
  public static SentencePieceTokenizer fromSentencePieceModel(Path file) {
    return SentencePieceTokenizer.load(file);
  }

  /** Hugging Face {@code tokenizer.json} with a SentencePiece-style BPE model (LlamaTokenizerFast). */
  public static SentencePieceTokenizer fromTokenizerJson(Path file) {
    return HfTokenizerJson.load(file);
  }

  /** llama2.c {@code tokenizer.bin} / {@code tok512.bin}. */
  public static SentencePieceTokenizer fromLlama2cBin(Path file) {
    return SentencePieceTokenizer.of(Llama2cTokenizer.read(file));
  }

  /** OpenAI CLIP {@code bpe_simple_vocab_16e6.txt.gz}. */
  public static ClipTokenizer fromClipOpenAi(Path file) {
    return ClipTokenizer.loadOpenAi(file);
  }

  /** Hugging Face CLIP {@code vocab.json} + {@code merges.txt}. */
  public static ClipTokenizer fromClipHf(Path vocabJson, Path mergesTxt) {
    return ClipTokenizer.loadHf(vocabJson, mergesTxt);
  }

  /** BERT {@code vocab.txt} (uncased). */
  public static WordPieceTokenizer fromVocabTxt(Path file) {
    return WordPieceTokenizer.load(file);
  }

  /** A GGUF file's tokenizer, from its {@code tokenizer.ggml.*} metadata (no tensor data is read). */
  public static TextTokenizer fromGguf(Path file) {
    try (GgufSource gguf = GgufSource.open(file)) {
      Map<String, Object> kv = new HashMap<>();
      for (String key : List.of("tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
          "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
          "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.add_space_prefix")) {
        if (!gguf.has(key)) {
          continue;
        }
        Object value = switch (key) {
          case "tokenizer.ggml.model" -> gguf.getString(key);
          case "tokenizer.ggml.tokens" -> gguf.getStrings(key).toArray(String[]::new);
          case "tokenizer.ggml.scores" -> gguf.getFloats(key);
          case "tokenizer.ggml.token_type" -> gguf.getInts(key);
          case "tokenizer.ggml.add_space_prefix" -> gguf.getBoolean(key);
          default -> gguf.getLong(key);
        };
        kv.put(key, value);
      }
      return fromGgufMetadata(file, kv);
    } catch (dev.fovea.tensor.TensorException e) {
      throw new TokenizerFileException(file, e.getMessage(), e);
    }
  }

  /**
   * A {@value #GGUF_JSON} file: one JSON object whose keys are GGUF keys without their
   * {@code tokenizer.ggml.} prefix ({@code "tokens"}, {@code "scores"}, {@code "token_type"},
   * {@code "bos_token_id"}, ...) plus {@code "format": "fovea.gguf-tokenizer/1"}. Each key is read
   * back as {@link #fromGguf} reads it from the GGUF (scores as the exact floats written), so the
   * tokenizer is the GGUF's own.
   */
  public static TextTokenizer fromGgufJson(Path file) {
    JsonNode n;
    try {
      n = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(file.toFile());
    } catch (java.io.IOException e) {
      throw new TokenizerFileException(file, "cannot read: " + e.getMessage(), e);
    }
    if (n == null || !n.isObject() || !GGUF_JSON_FORMAT.equals(n.path("format").asText(null))) {
      throw new TokenizerFileException(file, "not a GGUF tokenizer file (expected a JSON object with \"format\": \"" + GGUF_JSON_FORMAT + "\")");
    }
    Map<String, Object> kv = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : n.properties()) {
      String key = "tokenizer.ggml." + e.getKey();
      JsonNode v = e.getValue();
      Object value = switch (e.getKey()) {
        case "format" -> null;
        case "model" -> v.asText();
        case "tokens" -> {
          String[] a = new String[array(file, e.getKey(), v).size()];
          for (int i = 0; i < a.length; i++) {
            a[i] = element(file, e.getKey(), v, i, JsonNode::isTextual, "a string").asText();
          }
          yield a;
        }
        case "scores" -> {
          float[] a = new float[array(file, e.getKey(), v).size()];
          for (int i = 0; i < a.length; i++) {
            a[i] = element(file, e.getKey(), v, i, JsonNode::isNumber, "a number").decimalValue().floatValue();
          }
          yield a;
        }
        case "token_type" -> {
          int[] a = new int[array(file, e.getKey(), v).size()];
          for (int i = 0; i < a.length; i++) {
            a[i] = element(file, e.getKey(), v, i, JsonNode::canConvertToInt, "an int").asInt();
          }
          yield a;
        }
        default -> v.isBoolean() ? (Object) v.asBoolean() : v.isIntegralNumber() ? (Object) v.asLong() : null;
      };
      if (value != null) {
        kv.put(key, value);
      }
    }
    return fromGgufMetadata(file, kv);
  }

  private static JsonNode array(Path file, String key, JsonNode v) {
    if (!v.isArray()) {
      throw new TokenizerFileException(file, "\"" + key + "\" must be a list, found " + ErrorList.abbreviate(v.toString(), 40));
    }
    return v;
  }

  private static JsonNode element(Path file, String key, JsonNode list, int i, java.util.function.Predicate<JsonNode> ok, String what) {
    JsonNode x = list.get(i);
    if (!ok.test(x)) {
      throw new TokenizerFileException(file, "\"" + key + "\"[" + i + "] must be " + what + ", found " + ErrorList.abbreviate(x.toString(), 40));
    }
    return x;
  }

  /**
   * Builds a tokenizer from GGUF {@code tokenizer.ggml.*} metadata (keys without that prefix are
   * ignored): {@code model} "llama" (SentencePiece: {@code tokens}, {@code scores},
   * {@code token_type}, {@code bos_token_id}, {@code eos_token_id}, {@code unknown_token_id},
   * {@code padding_token_id}, {@code add_space_prefix}) or "bert" (llama.cpp's convention: a
   * word-initial entry carries "▁", a continuation is stored without "##"). Values: String[],
   * float[], int[], Number, Boolean.
   */
  public static TextTokenizer fromGgufMetadata(Path file, Map<String, Object> kv) {
    String model = String.valueOf(kv.get("tokenizer.ggml.model"));
    Object tokensValue = kv.get("tokenizer.ggml.tokens");
    if (!(tokensValue instanceof String[] tokens)) {
      throw new TokenizerFileException(file, "tokenizer.ggml.tokens missing or not a string array");
    }
    switch (model) {
      case "llama" -> {
        float[] scores = kv.get("tokenizer.ggml.scores") instanceof float[] s ? s : new float[tokens.length];
        int[] typeNumbers = kv.get("tokenizer.ggml.token_type") instanceof int[] t ? t : null;
        if (scores.length != tokens.length || (typeNumbers != null && typeNumbers.length != tokens.length)) {
          throw new TokenizerFileException(file, "tokenizer.ggml.scores has " + scores.length + " and tokenizer.ggml.token_type "
              + (typeNumbers == null ? "no" : typeNumbers.length) + " values for " + tokens.length + " tokens");
        }
        PieceType[] types = new PieceType[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
          try {
            types[i] = typeNumbers == null ? PieceType.NORMAL : PieceType.of(typeNumbers[i]);
          } catch (IllegalArgumentException e) {
            throw new TokenizerFileException(file, "tokenizer.ggml.token_type[" + i + "]: " + e.getMessage());
          }
        }
        boolean prefix = !(kv.get("tokenizer.ggml.add_space_prefix") instanceof Boolean b) || b;
        return SentencePieceTokenizer.of(new SentencePieceModel(tokens, scores, types, SentencePieceModel.BPE, true,
            intKey(file, kv, "tokenizer.ggml.unknown_token_id", 0), intKey(file, kv, "tokenizer.ggml.bos_token_id", 1),
            intKey(file, kv, "tokenizer.ggml.eos_token_id", 2), intKey(file, kv, "tokenizer.ggml.padding_token_id", -1),
            prefix, false, true, "identity").checked(file));
      }
      case "bert" -> {
        String[] vocab = new String[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
          // undo convert_hf_to_gguf.py's phantom(): "[..]" kept, "##x" stored as "x", "x" as "▁x"
          String tok = tokens[i];
          boolean bracketed = tok.length() >= 2 && tok.startsWith("[") && tok.endsWith("]");
          vocab[i] = bracketed ? tok : tok.startsWith("\u2581") ? tok.substring(1) : "##" + tok;
        }
        return WordPieceTokenizer.fromVocabulary(file, vocab, true);
      }
      default -> throw new TokenizerFileException(file, "tokenizer.ggml.model \"" + model
          + "\" is not supported (expected \"llama\" or \"bert\")");
    }
  }

  /**
   * An id, or {@code fallback} when the key is absent; {@link SentencePieceModel#checked} then checks
   * it against the vocabulary. 0xFFFFFFFF is -1, none: llama.cpp writes its null token that way in a
   * UINT32 (stories260K's {@code tokenizer.ggml.padding_token_id}).
   */
  private static int intKey(Path file, Map<String, Object> kv, String key, int fallback) {
    if (!(kv.get(key) instanceof Number n)) {
      return fallback;
    }
    long v = n.longValue() == 0xFFFFFFFFL ? -1 : n.longValue();
    if (v < -1 || v > Integer.MAX_VALUE) {
      throw new TokenizerFileException(file, key + " " + v + " is not a token id");
    }
    return (int) v;
  }
}
