package dev.fovea.jmh.fuzz;

import static dev.fovea.jmh.fuzz.Target.bytes;
import static dev.fovea.jmh.fuzz.Target.fields;
import static dev.fovea.jmh.fuzz.Target.jsonOrBytes;
import static dev.fovea.jmh.fuzz.Target.lines;

import dev.fovea.jmh.fuzz.Target.Input;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.tensor.io.GgufWriter;
import dev.fovea.tensor.io.Mutations;
import dev.fovea.vit.tokenizer.StreamingDecoder;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The tokenizer files: each parser loads the file, then the tokenizer it built encodes and decodes a
 * few texts (specials, spaces, non-Latin script, emoji), as a caller would right after loading.
 */
final class TokenizerTargets {
  private TokenizerTargets() {}

  /** Texts every loaded tokenizer encodes, then decodes (with and without specials, and streamed). */
  static final List<String> TEXTS = List.of("Hello world", " two  spaces\tand\nlines ", "<s> <image> [CLS] <|endoftext|> </s><unk>",
      "\u00fcn\u00efc\u00f6d\u00e9 \u4e2d\u6587 \ud83d\ude00", "", "a".repeat(300));

  /** What a caller does with a tokenizer it just loaded. */
  static void use(TextTokenizer t) {
    for (String text : TEXTS) {
      int[] ids = t.encode(text, true);
      t.decode(ids);
      t.decode(ids, false);
      StreamingDecoder d = t.streamingDecoder();
      for (int id : ids) {
        d.push(id);
      }
      d.finish();
    }
    int n = t.vocabSize();
    for (int id : new int[] {0, n / 2, n - 1}) {
      if (id >= 0 && id < n) {
        t.piece(id);
        t.isSpecial(id);
      }
    }
    t.id("a");
  }

  /** Lines that break a vocabulary or merges file: empty, blank, too many or too few parts, markers, control characters. */
  static final List<String> HOSTILE_LINES = List.of("", " ", "a", "a b c", " a", "a ", "#version: 0.2", "[UNK]", "[CLS]", "\u0000", "\ufeff",
      "\uD800", "x".repeat(70_000), "\t", "##", "<0x41>", "<|endoftext|>", "a\u00a0b", "\u0120 \u0120");

  static Target tokenizerJson(Seeds s) {
    byte[] orig = s.tokenizerJson();
    String f = "tokenizer.json";
    return new Target("tokenizer-json", Map.of(), r -> jsonOrBytes(r, f, orig), dir -> use(TokenizerLoader.fromTokenizerJson(dir.resolve(f))));
  }

  static Target tokenizerModel(Seeds s) {
    byte[] orig = s.tokenizerModel();
    List<FieldMaps.Varint> varints = FieldMaps.protoVarints(orig);
    String f = "tokenizer.model";
    return new Target("tokenizer-model", Map.of(), r -> switch (r.nextInt(10)) {
      case 0, 1, 2 -> bytes(r, f, orig, orig.length, orig);
      case 3, 4, 5, 6 -> { // a tag, length or value re-encoded as a hostile number
        FieldMaps.Varint v = varints.get(r.nextInt(varints.size()));
        long x = r.nextBoolean() ? Mutations.interesting(r) : r.nextInt(300);
        yield Input.of(f, FieldMaps.rewriteVarint(orig, v, x), "varint " + v.name() + "@" + v.offset() + " = " + x);
      }
      default -> Input.of(f, hostileModel(s, r), "hostile model");
    }, dir -> use(TokenizerLoader.fromSentencePieceModel(dir.resolve(f))));
  }

  /**
   * A well-formed ModelProto with hostile values: special ids far outside the vocabulary (or
   * negative), unknown piece types and model types, NaN scores, empty, duplicate and malformed
   * byte pieces, a vocabulary of one piece.
   */
  static byte[] hostileModel(Seeds s, Random r) {
    List<Seeds.Piece> v = new ArrayList<>(s.vocabulary());
    switch (r.nextInt(4)) {
      case 0 -> v.set(r.nextInt(v.size()), new Seeds.Piece("", 0, 1));
      case 1 -> v.set(r.nextInt(v.size()), v.get(r.nextInt(v.size())));
      case 2 -> v.set(3 + r.nextInt(256), new Seeds.Piece(List.of("<0xZZ>", "<0x>", "<0x100>", "<0x41", "0x41>").get(r.nextInt(5)), 0, 6));
      default -> v = v.subList(0, 1 + r.nextInt(4));
    }
    if (r.nextBoolean()) {
      int i = r.nextInt(v.size());
      v.set(i, new Seeds.Piece(v.get(i).piece(), r.nextBoolean() ? Float.NaN : Float.NEGATIVE_INFINITY, r.nextInt(10)));
    }
    long[] trainer = {2, 1, 0, 1, 2, -1};
    trainer[r.nextInt(trainer.length)] = Mutations.interesting(r);
    return Seeds.modelProto(v, trainer, List.of("identity", "nmt_nfkc", "", "x").get(r.nextInt(4)));
  }

  static Target clipVocabMerges(Seeds s) {
    byte[] vocab = s.read(Targets.CLIP + "tiny-p32/vocab.json");
    byte[] merges = s.read(Targets.CLIP + "tiny-p32/merges.txt");
    return new Target("tokenizer-vocab-merges", Map.of(), r -> {
      // one file damaged, the other as it was
      Input in = r.nextBoolean() ? jsonOrBytes(r, "vocab.json", vocab)
          : r.nextBoolean() ? lines(r, "merges.txt", merges, HOSTILE_LINES) : bytes(r, "merges.txt", merges, merges.length, vocab);
      Map<String, byte[]> files = new java.util.HashMap<>(Map.of("vocab.json", vocab, "merges.txt", merges));
      files.putAll(in.files());
      return new Input(files, in.how() + " of " + in.files().keySet());
    }, dir -> use(TokenizerLoader.fromClipHf(dir.resolve("vocab.json"), dir.resolve("merges.txt"))));
  }

  static Target vocabTxt() {
    byte[] orig = Seeds.vocabTxt();
    String f = "vocab.txt";
    return new Target("tokenizer-vocab-txt", Map.of(), r -> r.nextBoolean() ? lines(r, f, orig, HOSTILE_LINES) : bytes(r, f, orig, orig.length, orig),
        dir -> use(TokenizerLoader.fromVocabTxt(dir.resolve(f))));
  }

  static Target llama2cBin(Seeds s) {
    byte[] orig = s.read(Seeds.TOK512);
    List<Mutations.Field> fs = FieldMaps.llama2c(orig);
    String f = "tokenizer.bin";
    return new Target("tokenizer-bin", Map.of(), r -> r.nextBoolean() ? bytes(r, f, orig, orig.length, orig) : fields(r, f, orig, fs),
        dir -> use(TokenizerLoader.fromLlama2cBin(dir.resolve(f))));
  }

  static Target ggufJson(Seeds s) {
    byte[] orig = s.ggufTokenizerJson();
    String f = TokenizerLoader.GGUF_JSON;
    return new Target("tokenizer-gguf-json", Map.of(), r -> jsonOrBytes(r, f, orig), dir -> use(TokenizerLoader.fromGgufJson(dir.resolve(f))));
  }

  /** A GGUF holding only a tokenizer's {@code tokenizer.ggml.*} metadata, read by {@link TokenizerLoader#fromGguf}. */
  static Target gguf(Seeds s, Path scratch) throws IOException {
    List<Seeds.Piece> v = s.vocabulary();
    float[] scores = new float[v.size()];
    int[] types = new int[v.size()];
    for (int i = 0; i < v.size(); i++) {
      scores[i] = v.get(i).score();
      types[i] = v.get(i).type();
    }
    Path p = scratch.resolve("tokenizer.gguf");
    new GgufWriter().putString("general.architecture", "llama").putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", v.stream().map(Seeds.Piece::piece).toList()).putFloats("tokenizer.ggml.scores", scores)
        .putInts("tokenizer.ggml.token_type", types).putUInt32("tokenizer.ggml.bos_token_id", 1).putUInt32("tokenizer.ggml.eos_token_id", 2)
        .putUInt32("tokenizer.ggml.unknown_token_id", 0).putBool("tokenizer.ggml.add_space_prefix", true).write(p);
    byte[] orig = Files.readAllBytes(p);
    List<Mutations.Field> fs = Mutations.ggufFields(orig);
    String f = "tokenizer.gguf";
    return new Target("tokenizer-gguf", Map.of(), r -> r.nextInt(3) == 0 ? bytes(r, f, orig, orig.length, orig) : fields(r, f, orig, fs),
        dir -> use(TokenizerLoader.fromGguf(dir.resolve(f))));
  }

  /** A folder's tokenizer.bin with the added tokens of its tokenizer_config.json and added_tokens.json (llava-hf's {@code <image>}). */
  static Target addedTokens(Seeds s) {
    byte[] config = s.read(Targets.LLAVA + "tiny/tokenizer_config.json");
    byte[] added = s.read(Targets.LLAVA + "tiny/added_tokens.json");
    return new Target("tokenizer-added", Map.of("tokenizer.bin", s.path(Seeds.TOK512)), r -> {
      Input in = r.nextBoolean() ? jsonOrBytes(r, "tokenizer_config.json", config) : jsonOrBytes(r, "added_tokens.json", added);
      Map<String, byte[]> files = new java.util.HashMap<>(Map.of("tokenizer_config.json", config, "added_tokens.json", added));
      files.putAll(in.files());
      if (r.nextInt(8) == 0) {
        files.remove(r.nextBoolean() ? "tokenizer_config.json" : "added_tokens.json");
      }
      return new Input(files, in.how() + " of " + in.files().keySet());
    }, dir -> use(TokenizerLoader.load(dir)));
  }
}
