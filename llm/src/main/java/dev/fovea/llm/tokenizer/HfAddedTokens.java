package dev.fovea.llm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.ErrorList;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The added tokens a Hugging Face model folder declares beside its tokenizer, as transformers'
 * {@code PreTrainedTokenizerBase.from_pretrained} reads them:
 *
 * <ol>
 *   <li>{@code tokenizer_config.json}'s {@code added_tokens_decoder}: id to {@code {"content",
 *       "special", "lstrip", "rstrip", "single_word", "normalized"}} (transformers 4.34 and later);
 *   <li>{@code added_tokens.json} (older folders): content to id, for ids the first left out; such
 *       a token is special when {@code special_tokens_map.json} names it, and normalized when not
 *       special.
 * </ol>
 *
 * llava-hf's folders declare {@code <image>} (32000) and {@code <pad>} (32001) this way.
 */
final class HfAddedTokens {
  static final String CONFIG = "tokenizer_config.json";
  static final String ADDED = "added_tokens.json";
  static final String SPECIAL_MAP = "special_tokens_map.json";

  private HfAddedTokens() {}

  /** The folder's added tokens by id (empty when it has neither file). */
  static List<AddedToken> read(Path dir) {
    TreeMap<Integer, AddedToken> byId = new TreeMap<>();
    Path config = dir.resolve(CONFIG);
    if (Files.isRegularFile(config)) {
      JsonNode decoder = json(config).path("added_tokens_decoder");
      if (!decoder.isMissingNode() && !decoder.isNull() && !decoder.isObject()) {
        throw new TokenizerFileException(config, "added_tokens_decoder is not an object of id -> token");
      }
      for (Map.Entry<String, JsonNode> e : decoder.properties()) {
        int id;
        try {
          id = Integer.parseInt(e.getKey());
        } catch (NumberFormatException x) {
          throw new TokenizerFileException(config, "added_tokens_decoder: key \"" + ErrorList.abbreviate(e.getKey(), 40) + "\" is not a token id");
        }
        JsonNode t = e.getValue();
        String content = t.isTextual() ? t.asText() : t.path("content").asText("");
        if (id < 0 || content.isEmpty()) {
          throw new TokenizerFileException(config, "added_tokens_decoder[\"" + e.getKey() + "\"] has a negative id or no content: "
              + ErrorList.abbreviate(t.toString(), 80));
        }
        boolean special = t.path("special").asBoolean(false);
        byId.put(id, HfTokenizerJson.addedToken(id, content, special, t));
      }
    }
    Path addedJson = dir.resolve(ADDED);
    if (Files.isRegularFile(addedJson)) {
      JsonNode added = json(addedJson);
      if (!added.isObject()) {
        throw new TokenizerFileException(addedJson, "expected a JSON object of token -> id");
      }
      Set<String> specials = specialTokens(dir.resolve(SPECIAL_MAP));
      Set<String> known = new HashSet<>();
      byId.values().forEach(t -> known.add(t.content()));
      for (Map.Entry<String, JsonNode> e : added.properties()) {
        if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt() || e.getValue().asInt() < 0 || e.getKey().isEmpty()) {
          throw new TokenizerFileException(addedJson, "\"" + ErrorList.abbreviate(e.getKey(), 40) + "\": "
              + ErrorList.abbreviate(e.getValue().toString(), 40) + " is not a token id");
        }
        int id = e.getValue().asInt();
        if (!byId.containsKey(id) && !known.contains(e.getKey())) {
          boolean special = specials.contains(e.getKey());
          byId.put(id, new AddedToken(id, e.getKey(), special, false, false, false, !special));
        }
      }
    }
    return new ArrayList<>(byId.values());
  }

  /** Every token text named in special_tokens_map.json (strings, {"content": ...} objects, lists of them). */
  private static Set<String> specialTokens(Path file) {
    Set<String> out = new HashSet<>();
    if (Files.isRegularFile(file)) {
      collect(json(file), out);
    }
    return out;
  }

  private static void collect(JsonNode n, Set<String> out) {
    if (n.isTextual()) {
      out.add(n.asText());
    } else if (n.isArray()) {
      n.forEach(x -> collect(x, out));
    } else if (n.isObject()) {
      if (n.has("content")) {
        out.add(n.path("content").asText());
      } else {
        n.forEach(x -> collect(x, out));
      }
    }
  }

  private static JsonNode json(Path file) {
    try {
      JsonNode n = new ObjectMapper().readTree(Files.readAllBytes(file));
      if (n == null) {
        throw new TokenizerFileException(file, "empty file; expected a JSON object");
      }
      return n;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new TokenizerFileException(file, "not valid JSON", e);
    } catch (IOException e) {
      throw new TokenizerFileException(file, "cannot read: " + e.getMessage(), e);
    }
  }
}
