package dev.fovea.jmh.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The valid files the campaign mutates: the test fixtures of the repository (read from its source
 * tree, so the campaign runs from the repository root), and small tokenizer files in each format,
 * built here from one 512-piece vocabulary (llama2.c's {@code tok512.bin}, the LLaVA fixture's
 * {@code tokenizer.bin}) so that every input stays a few kilobytes.
 */
final class Seeds {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path repo;

  Seeds(Path repo) {
    this.repo = repo;
  }

  /** A file of the repository, by its path from the root. */
  Path path(String relative) {
    Path p = repo.resolve(relative);
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException("seed file " + p + " is missing; run bench/fuzz.sh from a checkout of the repository");
    }
    return p;
  }

  byte[] read(String relative) {
    try {
      return Files.readAllBytes(path(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] json(Object tree) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(tree);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---------------------------------------------------------------- the 512-piece vocabulary

  static final String TOK512 = "llm/src/test/resources/llava-reference/tiny/tokenizer.bin";

  /** One vocabulary entry: piece as SentencePiece stores it, score, SentencePiece type number. */
  record Piece(String piece, float score, int type) {}

  /** tok512's pieces with llama2.c's export undone ("▁" for spaces, plain BOS/EOS), and their types. */
  List<Piece> vocabulary() {
    ByteBuffer b = ByteBuffer.wrap(read(TOK512)).order(ByteOrder.LITTLE_ENDIAN);
    b.getInt(); // max token length
    List<Piece> out = new ArrayList<>();
    while (b.hasRemaining()) {
      float score = b.getFloat();
      byte[] s = new byte[b.getInt()];
      b.get(s);
      String p = new String(s, StandardCharsets.UTF_8);
      int i = out.size();
      int type = i == 0 ? 2 : i < 3 ? 3 : p.matches("<0x[0-9A-F]{2}>") ? 6 : 1;
      out.add(new Piece(i < 3 ? p.strip() : p.replace(" ", "\u2581"), score, type));
    }
    return out;
  }

  /**
   * A Hugging Face {@code tokenizer.json} as LlamaConverter writes one (BPE with byte fallback, the
   * legacy Prepend + Replace normalizer, BOS from the template): the vocabulary, and the merges of
   * every piece that splits into two pieces, in id order.
   */
  byte[] tokenizerJson() {
    List<Piece> v = vocabulary();
    ObjectNode root = JSON.createObjectNode().put("version", "1.0");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < 3; i++) {
      added.addObject().put("id", i).put("content", v.get(i).piece()).put("single_word", false).put("lstrip", false).put("rstrip", false)
          .put("normalized", false).put("special", true);
    }
    ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
    norm.putArray("normalizers").add(JSON.createObjectNode().put("type", "Prepend").put("prepend", "\u2581"))
        .add(JSON.createObjectNode().put("type", "Replace").<ObjectNode>set("pattern", JSON.createObjectNode().put("String", " ")).put("content", "\u2581"));
    root.putNull("pre_tokenizer");
    ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
    post.putArray("single").add(JSON.createObjectNode().set("SpecialToken", JSON.createObjectNode().put("id", "<s>").put("type_id", 0)))
        .add(JSON.createObjectNode().set("Sequence", JSON.createObjectNode().put("id", "A").put("type_id", 0)));
    ObjectNode model = root.putObject("model").put("type", "BPE").putNull("dropout").put("unk_token", "<unk>").put("fuse_unk", true)
        .put("byte_fallback", true);
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < v.size(); i++) {
      vocab.put(v.get(i).piece(), i);
    }
    ArrayNode merges = model.putArray("merges");
    java.util.Set<String> pieces = new java.util.HashSet<>();
    v.forEach(p -> pieces.add(p.piece()));
    for (Piece p : v) {
      String s = p.piece();
      if (p.type() != 1) {
        continue;
      }
      for (int k = 1; k < s.length(); k++) {
        if (pieces.contains(s.substring(0, k)) && pieces.contains(s.substring(k))) {
          merges.add(s.substring(0, k) + " " + s.substring(k));
        }
      }
    }
    return json(root);
  }

  /** A {@code tokenizer.gguf.json} (TokenizerLoader.GGUF_JSON) of the vocabulary, as the converter writes one. */
  byte[] ggufTokenizerJson() {
    List<Piece> v = vocabulary();
    ObjectNode root = JSON.createObjectNode().put("format", "fovea.gguf-tokenizer/1").put("model", "llama");
    ArrayNode tokens = root.putArray("tokens");
    ArrayNode scores = root.putArray("scores");
    ArrayNode types = root.putArray("token_type");
    for (Piece p : v) {
      tokens.add(p.piece());
      scores.add(p.score());
      types.add(p.type());
    }
    root.put("bos_token_id", 1).put("eos_token_id", 2).put("unknown_token_id", 0).put("add_space_prefix", true);
    return json(root);
  }

  /**
   * A SentencePiece {@code tokenizer.model} (sentencepiece {@code src/sentencepiece_model.proto}):
   * the pieces (field 1: piece 1, score 2, type 3), a BPE trainer spec with byte fallback and the
   * special ids (field 2), an identity normalizer adding the dummy prefix (field 3).
   */
  byte[] tokenizerModel() {
    return modelProto(vocabulary(), new long[] {2, 1, 0, 1, 2, -1}, "identity");
  }

  /** TrainerSpec fields written by {@link #modelProto}: model_type, byte_fallback, unk_id, bos_id, eos_id, pad_id. */
  static final int[] TRAINER_FIELDS = {3, 35, 40, 41, 42, 43};

  /** A ModelProto of {@code pieces}, the {@link #TRAINER_FIELDS} set to {@code trainer}, and a normalizer named {@code normalizer}. */
  static byte[] modelProto(List<Piece> pieces, long[] trainer, String normalizer) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Piece p : pieces) {
      ByteArrayOutputStream m = new ByteArrayOutputStream();
      bytesField(m, 1, utf8(p.piece()));
      tag(m, 2, 5);
      m.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(p.score()).array());
      tag(m, 3, 0);
      varint(m, p.type());
      bytesField(out, 1, m.toByteArray());
    }
    ByteArrayOutputStream t = new ByteArrayOutputStream();
    for (int i = 0; i < TRAINER_FIELDS.length; i++) {
      tag(t, TRAINER_FIELDS[i], 0);
      varint(t, trainer[i]);
    }
    bytesField(out, 2, t.toByteArray());
    ByteArrayOutputStream norm = new ByteArrayOutputStream();
    bytesField(norm, 1, utf8(normalizer));
    long[][] flags = {{3, 1}, {4, 0}, {5, 1}}; // add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces
    for (long[] kv : flags) {
      tag(norm, (int) kv[0], 0);
      varint(norm, kv[1]);
    }
    bytesField(out, 3, norm.toByteArray());
    return out.toByteArray();
  }

  static void tag(ByteArrayOutputStream out, int field, int wire) {
    varint(out, (long) field << 3 | wire);
  }

  static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  static void bytesField(ByteArrayOutputStream out, int field, byte[] b) {
    tag(out, field, 2);
    varint(out, b.length);
    out.writeBytes(b);
  }

  /**
   * A BERT {@code vocab.txt}: the five specials, letters, digits and punctuation with their {@code ##}
   * continuations, and some words.
   */
  static byte[] vocabTxt() {
    StringBuilder sb = new StringBuilder("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    String chars = "abcdefghijklmnopqrstuvwxyz0123456789.,!?'-()\u00e9\u4e2d";
    for (char c : chars.toCharArray()) {
      sb.append(c).append('\n');
    }
    for (char c : chars.toCharArray()) {
      sb.append("##").append(c).append('\n');
    }
    for (String w : List.of("the", "a", "cat", "dog", "on", "mat", "hello", "world", "##s", "##ing", "##ed", "un", "##able", "photo", "of")) {
      sb.append(w).append('\n');
    }
    return utf8(sb.toString());
  }
}
