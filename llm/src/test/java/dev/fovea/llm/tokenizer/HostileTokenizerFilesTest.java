package dev.fovea.llm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokenizer files that bench/fuzz.sh found loading into a crash (an ArrayIndexOutOfBounds,
 * IllegalArgument, IllegalState or NullPointerException at load or at the first encode or decode):
 * each is now a TokenizerFileException naming the file when loaded, or encodes as SentencePiece does.
 */
class HostileTokenizerFilesTest {
  @TempDir Path dir;

  static TokenizerFileException refused(Path file, Executable load, String part) {
    TokenizerFileException e = assertThrows(TokenizerFileException.class, load);
    assertEquals(file, e.file());
    assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
    return e;
  }

  // ---------------------------------------------------------------- tokenizer.json

  @Test
  void aNegativeVocabularyIdInTokenizerJson() throws IOException {
    Path f = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": -1}}}");
    refused(f, () -> TokenizerLoader.fromTokenizerJson(f), "\"b\" has id -1");
    Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0, \"a\": 4294967297}}}"); // was read as id 1
    refused(f, () -> TokenizerLoader.fromTokenizerJson(f), "the id of \"a\" is 4294967297, not an int");
  }

  @Test
  void anAddedTokenIdOfTwoToThe31IsAGapNotAnArrayOfThatSize() throws IOException {
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, \"a\": 1}}}");
    Path config = Files.writeString(dir.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": {\"2147483647\": {\"content\": \"<x>\"}}}");
    refused(config, () -> TokenizerLoader.load(dir), "id 2 without an entry");
  }

  /** Found by bench/fuzz.sh: hostile entries were echoed whole, in messages of 200 KB. */
  @Test
  void hostileEntriesAreCutInMessages() throws IOException {
    String longText = "x".repeat(100_000);
    Path f = Files.writeString(dir.resolve("tokenizer.json"),
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0}, \"merges\": [\"" + longText + "\"]}}");
    assertTrue(refused(f, () -> TokenizerLoader.fromTokenizerJson(f), "model.merges[0] is neither").getMessage().length() < 500);
    Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<unk>\": 0}}, \"added_tokens\": [{\"content\": \"" + longText + "\"}]}");
    assertTrue(refused(f, () -> TokenizerLoader.fromTokenizerJson(f), "added_tokens entry without id").getMessage().length() < 500);
    Files.writeString(f, "{\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, \"a\": 1}}}");
    Path added = Files.writeString(dir.resolve("added_tokens.json"), "{\"" + "y".repeat(40_000) + "\": \"2\"}"); // Jackson: names up to 50,000
    assertTrue(refused(added, () -> TokenizerLoader.load(dir), "is not a token id").getMessage().length() < 500);
  }

  // ---------------------------------------------------------------- tokenizer.model

  /** A protobuf ModelProto: pieces (text, type) with score 0, then a trainer spec of (field, value) varints. */
  static byte[] modelProto(List<Object[]> pieces, long... trainer) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object[] p : pieces) {
      ByteArrayOutputStream m = new ByteArrayOutputStream();
      byte[] text = ((String) p[0]).getBytes(StandardCharsets.UTF_8);
      varint(m, 1 << 3 | 2);
      varint(m, text.length);
      m.writeBytes(text);
      varint(m, 3 << 3);
      varint(m, (Integer) p[1]);
      varint(out, 1 << 3 | 2);
      varint(out, m.size());
      out.writeBytes(m.toByteArray());
    }
    ByteArrayOutputStream t = new ByteArrayOutputStream();
    for (int i = 0; i < trainer.length; i += 2) {
      varint(t, trainer[i] << 3);
      varint(t, trainer[i + 1]);
    }
    varint(out, 2 << 3 | 2);
    varint(out, t.size());
    out.writeBytes(t.toByteArray());
    return out.toByteArray();
  }

  static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.write((int) v);
  }

  /** ids 0 <unk> (type 2), 1 <s>, 2 </s> (3, control), 3 "▁", 4 "a" (1, normal). */
  static final List<Object[]> PIECES = List.of(new Object[] {"<unk>", 2}, new Object[] {"<s>", 3}, new Object[] {"</s>", 3},
      new Object[] {"\u2581", 1}, new Object[] {"a", 1});

  @Test
  void specialIdsOutsideTheVocabularyAreRefusedAtLoad() throws IOException {
    // model_type 2 (BPE), bos_id 7 of 5 pieces: the old code loaded it and failed decoding its own BOS
    Path f = Files.write(dir.resolve("tokenizer.model"), modelProto(PIECES, 3, 2, 41, 7));
    refused(f, () -> TokenizerLoader.fromSentencePieceModel(f), "bos_id 7 is not a piece of the 5-piece vocabulary");
    Files.write(f, modelProto(PIECES, 3, 2, 40, -5));
    refused(f, () -> TokenizerLoader.fromSentencePieceModel(f), "unk_id -5");
  }

  @Test
  void byteFallbackWithoutBytePiecesGivesUnkAsSentencePieceDoes() throws IOException {
    // byte_fallback (field 35) on, but no <0xNN> piece: "é" is unknown (was an IllegalStateException)
    Path f = Files.write(dir.resolve("tokenizer.model"), modelProto(PIECES, 3, 2, 35, 1));
    TextTokenizer t = TokenizerLoader.fromSentencePieceModel(f);
    assertArrayEquals(new int[] {3, 0}, t.encode("\u00e9", false), "▁ then <unk>");
    assertArrayEquals(new int[] {1, 3, 4}, t.encode("a", true));
  }

  // ---------------------------------------------------------------- tokenizer.gguf.json (GGUF tokenizer metadata)

  Path ggufJson(String extra) throws IOException {
    return Files.writeString(dir.resolve(TokenizerLoader.GGUF_JSON),
        "{\"format\": \"" + TokenizerLoader.GGUF_JSON_FORMAT + "\", \"model\": \"llama\"" + extra + "}");
  }

  @Test
  void ggufTokenizerListsOfTheWrongLengthOrKind() throws IOException {
    String tokens = ", \"tokens\": [\"<unk>\", \"<s>\", \"</s>\", \"a\"]";
    record Case(String extra, String expected) {}
    for (Case c : List.of(
        new Case(tokens + ", \"token_type\": [2, 3, 3]", "tokenizer.ggml.token_type 3 values for 4 tokens"), // ArrayIndexOutOfBounds
        new Case(tokens + ", \"scores\": [0, 0]", "tokenizer.ggml.scores has 2"), // IllegalArgument from the model's constructor
        new Case(tokens + ", \"token_type\": [2, 3, 3, 0]", "tokenizer.ggml.token_type[3]: unknown SentencePiece piece type 0"),
        new Case(", \"tokens\": {\"a\": 1}", "\"tokens\" must be a list, found {\"a\":1}"), // NullPointerException
        new Case(", \"tokens\": [\"a\", 5]", "\"tokens\"[1] must be a string, found 5"),
        new Case(tokens + ", \"bos_token_id\": 9", "bos_id 9 is not a piece of the 4-piece vocabulary"), // failed at the first decode
        new Case(tokens + ", \"eos_token_id\": 4294967296", "tokenizer.ggml.eos_token_id 4294967296 is not a token id"))) {
      Path f = ggufJson(c.extra());
      refused(f, () -> TokenizerLoader.fromGgufJson(f), c.expected());
    }
    // llama.cpp's null token is -1 written as a UINT32: none, as before
    String ok = ", \"tokens\": [\"<unk>\", \"<s>\", \"</s>\", \"a\"], \"padding_token_id\": 4294967295";
    assertEquals(4, TokenizerLoader.fromGgufJson(ggufJson(ok)).vocabSize());
  }
}
