package dev.fovea.llm.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.ErrorList;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Hugging Face {@code tokenizer.json} whose model is SentencePiece-style BPE (what
 * {@code LlamaConverter} writes for LLaMA, Vicuna and llava-hf): {@code model.vocab},
 * {@code model.merges} (ranked; "a b" strings or ["a", "b"] pairs), {@code byte_fallback},
 * {@code unk_token}; the normalizer ({@code Prepend("▁")} and {@code Replace(" ", "▁")}, the legacy
 * form) or the {@code Metaspace} pre-tokenizer (non-legacy, with its {@code prepend_scheme} and
 * {@code split}); {@code added_tokens} with their flags ({@link AddedToken}); BOS from the
 * post-processor's template. The decoder section is assumed to be the standard
 * Replace/ByteFallback/Fuse/Strip and is not read.
 *
 * <p>Difference from HF: a {@code normalized} added token is matched against the text after the
 * model's Unicode normalization (NFKC or none), not after the whole normalizer: the legacy
 * {@code Prepend("▁")} + {@code Replace(" ", "▁")} normalizer also turns such a token's content
 * {@code x} into {@code ▁x}, so HF finds it only after a space or at the start of a segment.
 */
final class HfTokenizerJson {
  private HfTokenizerJson() {}

  static SentencePieceTokenizer load(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readAllBytes(file));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new TokenizerFileException(file, "tokenizer.json not found");
    } catch (JsonProcessingException e) {
      throw new TokenizerFileException(file, "not valid JSON", e);
    } catch (IOException e) {
      throw new TokenizerFileException(file, "cannot read tokenizer.json", e);
    }
    JsonNode m = root == null ? null : root.get("model");
    if (m == null || !m.isObject()) {
      throw new TokenizerFileException(file, "no \"model\" object; expected a Hugging Face tokenizer.json");
    }
    String type = m.path("type").asText("BPE");
    if (!type.equals("BPE")) {
      throw new TokenizerFileException(file, "model.type \"" + type + "\" is not supported; expected BPE (SentencePiece-style, as LLaMA's)");
    }
    JsonNode vocab = m.get("vocab");
    if (vocab == null || !vocab.isObject()) {
      throw new TokenizerFileException(file, "model.vocab is missing or not an object");
    }
    Map<Integer, String> byId = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : vocab.properties()) {
      if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
        throw new TokenizerFileException(file, "model.vocab: the id of \"" + ErrorList.abbreviate(e.getKey(), 40) + "\" is "
            + ErrorList.abbreviate(e.getValue().toString(), 40) + ", not an int");
      }
      byId.put(e.getValue().asInt(), e.getKey());
    }
    Map<Integer, Boolean> added = new HashMap<>(); // id -> special
    List<AddedToken> addedTokens = new ArrayList<>();
    for (JsonNode a : root.path("added_tokens")) {
      int id = a.path("id").canConvertToInt() && a.path("id").isIntegralNumber() ? a.path("id").asInt() : -1;
      String content = a.path("content").asText(null);
      if (id < 0 || content == null || content.isEmpty()) {
        throw new TokenizerFileException(file, "added_tokens entry without id or content: " + ErrorList.abbreviate(a.toString(), 80));
      }
      byId.put(id, content);
      boolean special = a.path("special").asBoolean(false);
      added.put(id, special);
      addedTokens.add(addedToken(id, content, special, a));
    }
    int size = byId.size();
    String[] pieces = new String[size];
    for (Map.Entry<Integer, String> e : byId.entrySet()) {
      if (e.getKey() < 0 || e.getKey() >= size) {
        throw new TokenizerFileException(file, "ids are not contiguous from 0: \"" + ErrorList.abbreviate(e.getValue(), 40) + "\" has id " + e.getKey()
            + " but there are " + size + " entries");
      }
      pieces[e.getKey()] = e.getValue();
    }
    boolean byteFallback = m.path("byte_fallback").asBoolean(false);
    String unkToken = m.path("unk_token").asText(null);
    PieceType[] types = new PieceType[size];
    int unk = -1;
    for (int i = 0; i < size; i++) {
      if (pieces[i].equals(unkToken)) {
        types[i] = PieceType.UNKNOWN;
        unk = i;
      } else if (added.containsKey(i)) {
        types[i] = added.get(i) ? PieceType.CONTROL : PieceType.USER_DEFINED;
      } else if (byteFallback && SentencePieceTokenizer.parseBytePiece(pieces[i]) >= 0) {
        types[i] = PieceType.BYTE;
      } else {
        types[i] = PieceType.NORMAL;
      }
    }
    Map<String, Integer> ranks = new HashMap<>();
    int rank = 0;
    for (JsonNode merge : m.path("merges")) {
      String key;
      if (merge.isArray() && merge.size() == 2) {
        key = merge.get(0).asText() + " " + merge.get(1).asText();
      } else if (merge.isTextual() && merge.asText().indexOf(' ') > 0) {
        key = merge.asText();
      } else {
        throw new TokenizerFileException(file, "model.merges[" + rank + "] is neither \"a b\" nor [\"a\", \"b\"]: "
            + ErrorList.abbreviate(merge.toString(), 80));
      }
      ranks.putIfAbsent(key, rank++);
    }
    // normalizer / pre-tokenizer: where the "▁" prefix goes and whether spaces become "▁"
    boolean prepend = false;
    boolean escape = false;
    for (JsonNode n : flatten(root.get("normalizer"), "normalizers")) {
      switch (n.path("type").asText()) {
        case "Prepend" -> prepend = true;
        case "Replace" -> escape |= n.path("pattern").path("String").asText().equals(" ");
        default -> { }
      }
    }
    SentencePieceTokenizer.PrependScheme scheme = prepend ? SentencePieceTokenizer.PrependScheme.ALWAYS
        : SentencePieceTokenizer.PrependScheme.NEVER;
    boolean split = false;
    for (JsonNode p : flatten(root.get("pre_tokenizer"), "pretokenizers")) {
      if (p.path("type").asText().equals("Metaspace")) {
        escape = true;
        split = p.path("split").asBoolean(true);
        String s = p.path("prepend_scheme").asText(p.path("add_prefix_space").asBoolean(true) ? "always" : "never");
        scheme = switch (s) {
          case "first" -> SentencePieceTokenizer.PrependScheme.FIRST;
          case "never" -> SentencePieceTokenizer.PrependScheme.NEVER;
          default -> SentencePieceTokenizer.PrependScheme.ALWAYS;
        };
      }
    }
    int bos = -1;
    JsonNode single = root.path("post_processor").path("single");
    for (JsonNode part : single) {
      if (part.has("Sequence")) {
        break;
      }
      String tok = part.path("SpecialToken").path("id").asText(null);
      if (tok != null) {
        bos = indexOf(pieces, tok);
      }
    }
    int eos = indexOf(pieces, "</s>");
    float[] scores = new float[size];
    SentencePieceModel model = new SentencePieceModel(pieces, scores, types, SentencePieceModel.BPE, byteFallback,
        unk, bos, eos, -1, scheme != SentencePieceTokenizer.PrependScheme.NEVER, false, escape, "identity").checked(file);
    return new SentencePieceTokenizer(model, ranks, scheme, split, addedTokens);
  }

  /** An added token with the flags of {@code entry} (absent ones take Hugging Face's defaults: normalized = not special). */
  static AddedToken addedToken(int id, String content, boolean special, JsonNode entry) {
    return new AddedToken(id, content, special, entry.path("lstrip").asBoolean(false), entry.path("rstrip").asBoolean(false),
        entry.path("single_word").asBoolean(false), entry.path("normalized").asBoolean(!special));
  }

  private static Iterable<JsonNode> flatten(JsonNode node, String listKey) {
    if (node == null || node.isNull()) {
      return java.util.List.of();
    }
    if (node.path("type").asText().equals("Sequence")) {
      return node.path(listKey);
    }
    return java.util.List.of(node);
  }

  private static int indexOf(String[] pieces, String p) {
    return Arrays.asList(pieces).indexOf(p);
  }
}
