package dev.fovea.llm.tokenizer;

import dev.fovea.vit.tokenizer.SharedData;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.vit.tokenizer.StreamingDecoder;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

class SentencePieceTokenizerTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 300);
  private static SentencePieceTokenizer llama;

  static synchronized SentencePieceTokenizer llama() {
    if (llama == null) {
      llama = SentencePieceTokenizer.load(SharedData.tokenizerFile("llama/tokenizer.model"));
    }
    return llama;
  }

  static List<SharedData.Case> cases() {
    List<SharedData.Case> cases = SharedData.llamaCppCases(
        SharedData.tokenizerFile("llama/ggml-vocab-llama-spm.gguf.inp"),
        SharedData.tokenizerFile("llama/ggml-vocab-llama-spm.gguf.out"));
    assertEquals(46, cases.size());
    return cases;
  }

  static void assertCases(SentencePieceTokenizer t) {
    for (SharedData.Case c : cases()) {
      assertArrayEquals(c.ids(), t.encode(c.text(), false, false), c.toString());
    }
  }

  @Test
  void modelProtoContents() {
    SentencePieceModel m = llama().model();
    assertEquals(32000, m.size());
    assertEquals(SentencePieceModel.BPE, m.modelType());
    assertTrue(m.byteFallback());
    assertEquals(0, m.unkId());
    assertEquals(1, m.bosId());
    assertEquals(2, m.eosId());
    assertEquals(-1, m.padId());
    assertTrue(m.addDummyPrefix());
    assertEquals(false, m.removeExtraWhitespaces());
    assertEquals(PieceType.BYTE, m.types()[3]);
    assertEquals("<0x00>", m.pieces()[3]);
    assertEquals("\u2581t", m.pieces()[260]);
    assertEquals(-1f, m.scores()[260]);
  }

  @Test
  void llamaCppCasesFromTokenizerModel() {
    assertCases(llama());
  }

  @Test
  void specVectors() {
    SentencePieceTokenizer t = llama();
    assertArrayEquals(new int[] {1, 15043, 3186}, t.encode("Hello world"));
    assertArrayEquals(new int[] {1, 259, 8236, 8162}, t.encode("  leading spaces"));
    assertArrayEquals(new int[] {1, 298, 3610, 417, 29871, 281, 1340, 430, 29871, 29896, 29906, 29941, 29946, 29945,
        29871, 30325, 30346, 30968, 29871, 243, 162, 156, 133}, t.encode("h\u00e9llo  w\u00f6rld 12345 \u65e5\u672c\u8a9e \uD83D\uDE42"));
    assertArrayEquals(new int[] {1}, t.encode(""));
    assertArrayEquals(new int[] {1, 3148, 1001, 29901, 29871}, t.encode("USER: "));
    assertArrayEquals(new int[] {1, 29871, 319, 1799, 9047, 13566, 29901}, t.encode(" ASSISTANT:"));
    // special-token parsing: each text segment gets its own dummy prefix
    assertArrayEquals(new int[] {1, 259, 1, 15043, 2}, t.encode(" <s>Hello</s>", true, true)); // " " -> "▁▁"
    assertArrayEquals(new int[] {529, 29879, 29958}, t.encode("<s>", false, false));
  }

  @Test
  void decoding() {
    SentencePieceTokenizer t = llama();
    assertEquals("Hello world", t.decode(new int[] {1, 15043, 3186, 2}));
    assertEquals(" Hello", t.decode(new int[] {29871, 15043}));
    assertEquals("\uD83D\uDE42", t.decode(new int[] {243, 162, 156, 133}));
    StreamingDecoder d = t.streamingDecoder();
    assertEquals("", d.push(29871));
    assertEquals("", d.push(243));
    assertEquals("", d.push(162));
    assertEquals("", d.push(156));
    assertEquals("\uD83D\uDE42", d.push(133));
    assertEquals("", d.finish());
  }

  /**
   * The tokenizer.json LlamaConverter writes for this model (spec 3.7): vocab, merges of every
   * split "a b" of a piece whose halves are pieces, ordered by the merged piece's score (best
   * first, stable by id), byte_fallback; legacy normalizer Prepend("▁") + Replace(" ", "▁") or,
   * non-legacy, a Metaspace pre-tokenizer.
   */
  static Path writeTokenizerJson(SentencePieceTokenizer spm, Path file, boolean legacy) throws IOException {
    SentencePieceModel m = spm.model();
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = om.createObjectNode();
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < 3; i++) {
      added.addObject().put("id", i).put("content", m.pieces()[i]).put("special", true);
    }
    if (legacy) {
      ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
      ArrayNode list = norm.putArray("normalizers");
      list.addObject().put("type", "Prepend").put("prepend", "\u2581");
      ObjectNode replace = list.addObject().put("type", "Replace");
      replace.putObject("pattern").put("String", " ");
      replace.put("content", "\u2581");
      root.putNull("pre_tokenizer");
    } else {
      root.putNull("normalizer");
      root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
          .put("prepend_scheme", "first").put("split", false);
    }
    ArrayNode single = root.putObject("post_processor").put("type", "TemplateProcessing").putArray("single");
    single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
    single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE").put("unk_token", "<unk>").put("fuse_unk", true).put("byte_fallback", true);
    ObjectNode vocab = model.putObject("vocab");
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < m.size(); i++) {
      vocab.put(m.pieces()[i], i);
      ids.put(m.pieces()[i], i);
    }
    record Merge(String l, String r, float score, int id) {}
    List<Merge> merges = new ArrayList<>();
    for (int i = 0; i < m.size(); i++) {
      String p = m.pieces()[i];
      for (int k = 1; k < p.length(); k++) {
        if (Character.isLowSurrogate(p.charAt(k))) {
          continue;
        }
        String l = p.substring(0, k);
        String r = p.substring(k);
        if (ids.containsKey(l) && ids.containsKey(r)) {
          merges.add(new Merge(l, r, m.scores()[i], i));
        }
      }
    }
    merges.sort((a, b) -> Float.compare(b.score(), a.score())); // stable: id order within a score
    ArrayNode mergesNode = model.putArray("merges");
    for (Merge mg : merges) {
      mergesNode.add(mg.l() + " " + mg.r());
    }
    om.writeValue(file.toFile(), root);
    return file;
  }

  @Test
  void llamaCppCasesFromDerivedTokenizerJson(@TempDir Path dir) throws IOException {
    SentencePieceTokenizer legacy = TokenizerLoader.fromTokenizerJson(writeTokenizerJson(llama(), dir.resolve("tokenizer.json"), true));
    assertEquals(32000, legacy.vocabSize());
    assertCases(legacy);
    assertArrayEquals(new int[] {1, 15043, 3186}, legacy.encode("Hello world"));
    SentencePieceTokenizer metaspace = TokenizerLoader.fromTokenizerJson(writeTokenizerJson(llama(), dir.resolve("t2.json"), false));
    assertCases(metaspace);
    // non-legacy: no "▁" after a special token
    assertArrayEquals(new int[] {1, 1, 10994}, metaspace.encode("<s>Hello", true, true));
    assertArrayEquals(new int[] {1, 1, 15043}, legacy.encode("<s>Hello", true, true));
  }

  /** llava-hf: {@code <image>} = 32000 as a special added token; "\n" after it gets its own "▁". */
  @Test
  void llavaImageToken(@TempDir Path dir) throws IOException {
    Path json = writeTokenizerJson(llama(), dir.resolve("tokenizer.json"), true);
    ObjectMapper om = new ObjectMapper();
    ObjectNode root = (ObjectNode) om.readTree(json.toFile());
    ((ArrayNode) root.get("added_tokens")).addObject().put("id", 32000).put("content", "<image>").put("special", true);
    om.writeValue(json.toFile(), root);
    SentencePieceTokenizer t = TokenizerLoader.fromTokenizerJson(json);
    assertEquals(32001, t.vocabSize());
    assertArrayEquals(new int[] {1, 3148, 1001, 29901, 29871, 32000, 29871, 13, 5618}, t.encode("USER: <image>\nWhat"));
    assertEquals("USER:  \nWhat", t.decode(t.encode("USER: <image>\nWhat")));
  }

  @Test
  void ggufMetadataHook() {
    SentencePieceModel m = llama().model();
    int[] types = new int[m.size()];
    for (int i = 0; i < types.length; i++) {
      types[i] = m.types()[i].number;
    }
    Map<String, Object> kv = new HashMap<>();
    kv.put("tokenizer.ggml.model", "llama");
    kv.put("tokenizer.ggml.tokens", m.pieces());
    kv.put("tokenizer.ggml.scores", m.scores());
    kv.put("tokenizer.ggml.token_type", types);
    kv.put("tokenizer.ggml.bos_token_id", 1);
    kv.put("tokenizer.ggml.eos_token_id", 2);
    assertCases((SentencePieceTokenizer) TokenizerLoader.fromGgufMetadata(Path.of("mem.gguf"), kv));
  }

  /** llama.cpp's BERT GGUF convention ("▁" word starts, bare continuations), from vocab.txt. */
  /** The real GGUF vocabularies, read with the GGUF reader: every llama.cpp case. */
  @Test
  void realGgufVocabularies() {
    assertCases((SentencePieceTokenizer) TokenizerLoader.load(SharedData.tokenizerFile("llama/ggml-vocab-llama-spm.gguf")));
    var bert = TokenizerLoader.load(SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf"));
    int n = 0;
    for (SharedData.Case c : SharedData.llamaCppCases(SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf.inp"),
        SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf.out"))) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(c.ids(), bert.encode(c.text(), false), c.toString());
      n++;
    }
    org.junit.jupiter.api.Assertions.assertEquals(46, n);
  }

  @Test
  void ggufBertMetadataHook() throws IOException {
    List<String> lines = Files.readAllLines(SharedData.tokenizerFile("bert/bert-base-uncased-vocab.txt"));
    String[] tokens = lines.stream()
        .map(t -> t.startsWith("[") && t.endsWith("]") ? t : t.startsWith("##") ? t.substring(2) : "\u2581" + t)
        .toArray(String[]::new);
    Map<String, Object> kv = Map.of("tokenizer.ggml.model", "bert", "tokenizer.ggml.tokens", tokens);
    var t = TokenizerLoader.fromGgufMetadata(Path.of("mem.gguf"), kv);
    for (SharedData.Case c : SharedData.llamaCppCases(SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf.inp"),
        SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf.out"))) {
      assertArrayEquals(c.ids(), t.encode(c.text(), false), c.toString());
    }
  }

  @Test
  void llama2cTok512() {
    SentencePieceTokenizer t = TokenizerLoader.fromLlama2cBin(SharedData.tokenizerFile("stories260k/tok512.bin"));
    assertEquals(512, t.vocabSize());
    assertEquals("<s>", t.piece(1));
    String text = "Once upon a time, there was a little girl named Lily. \u00e9\uD83D\uDE42";
    int[] ids = t.encode(text);
    assertEquals(1, ids[0]);
    assertEquals(text, t.decode(ids));
    assertTrue(ids.length < text.length(), "merges happened");
  }

  static Gen<String> unicodeText() {
    Gen<Integer> ascii = SourceDSL.integers().between(0x20, 0x7E);
    Gen<Integer> space = SourceDSL.integers().between(0, 3).map(i -> new int[] {' ', '\n', '\t', 0x2581}[i]);
    Gen<Integer> latin = SourceDSL.integers().between(0xA0, 0x17F);
    Gen<Integer> cjk = SourceDSL.integers().between(0x4E00, 0x4F00);
    Gen<Integer> emoji = SourceDSL.integers().between(0x1F600, 0x1F64F);
    Gen<Integer> any = SourceDSL.integers().between(0, 0x10FFFF).assuming(cp -> cp < 0xD800 || cp > 0xDFFF);
    Gen<Integer> cp = ascii.mix(space, 30).mix(latin, 20).mix(cjk, 15).mix(emoji, 10).mix(any, 20);
    return SourceDSL.lists().of(cp).ofSizeBetween(0, 40).map(l -> {
      StringBuilder sb = new StringBuilder();
      l.forEach(sb::appendCodePoint);
      return sb.toString();
    });
  }

  /**
   * Lossless with byte fallback: decode(encode(t)) == t with every U+2581 "▁" replaced by a space
   * (the only normalization LLaMA's identity normalizer with add_dummy_prefix and
   * escape_whitespaces applies that decode cannot undo; remove_extra_whitespaces is off). With and
   * without BOS.
   */
  @Test
  void roundTrip() {
    SentencePieceTokenizer t = llama();
    qt().withExamples(EXAMPLES).forAll(unicodeText()).check(s -> {
      String expected = s.replace('\u2581', ' ');
      return t.decode(t.encode(s, false, false)).equals(expected) && t.decode(t.encode(s, true, false)).equals(expected);
    });
  }

  /** Any id sequence (byte pieces weighted up): streaming decode == whole decode. */
  @Test
  void streamingEqualsWhole() {
    SentencePieceTokenizer t = llama();
    Gen<Integer> id = SourceDSL.integers().between(3, 258)
        .mix(SourceDSL.integers().between(0, t.vocabSize() - 1), 40);
    qt().withExamples(EXAMPLES).forAll(SourceDSL.lists().of(id).ofSizeBetween(0, 30)).check(ids -> {
      int[] arr = ids.stream().mapToInt(Integer::intValue).toArray();
      StreamingDecoder d = t.streamingDecoder();
      StringBuilder sb = new StringBuilder();
      for (int i : arr) {
        sb.append(d.push(i));
      }
      return sb.append(d.finish()).toString().equals(t.decode(arr));
    });
  }

  @Test
  void missingAndCorruptFiles(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("tokenizer.model");
    TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> SentencePieceTokenizer.load(missing));
    assertEquals(missing, e.file());
    byte[] real = Files.readAllBytes(SharedData.tokenizerFile("llama/tokenizer.model"));
    Files.write(missing, java.util.Arrays.copyOf(real, 1000)); // truncated inside a piece
    e = assertThrows(TokenizerFileException.class, () -> SentencePieceTokenizer.load(missing));
    assertEquals(missing, e.file());
    assertTrue(e.getMessage().contains("SentencePiece"), e.getMessage());
    Files.writeString(missing, "{\"this\": \"is json\"}");
    e = assertThrows(TokenizerFileException.class, () -> SentencePieceTokenizer.load(missing));
    assertEquals(missing, e.file());
    Path json = dir.resolve("tokenizer.json");
    Files.writeString(json, "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
    e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.fromTokenizerJson(json));
    assertTrue(e.getMessage().contains("Unigram"), e.getMessage());
    Files.writeString(json, "{\"model\": ");
    e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.fromTokenizerJson(json));
    assertEquals(json, e.file());
    Path bin = dir.resolve("tok.bin");
    Files.write(bin, new byte[] {7, 0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0});
    e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.fromLlama2cBin(bin));
    assertEquals(bin, e.file());
    e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.load(dir.resolve("model.gguf")));
    e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.load(Files.createDirectory(dir.resolve("empty"))));
    assertTrue(e.getMessage().contains("no tokenizer found"), e.getMessage());
  }
}
