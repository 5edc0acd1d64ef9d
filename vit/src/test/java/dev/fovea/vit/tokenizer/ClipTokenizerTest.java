package dev.fovea.vit.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

class ClipTokenizerTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 300);
  private static ClipTokenizer openAi;

  static synchronized ClipTokenizer openAi() {
    if (openAi == null) {
      openAi = ClipTokenizer.loadOpenAi(SharedData.tokenizerFile("clip/bpe_simple_vocab_16e6.txt.gz"));
    }
    return openAi;
  }

  record ClipCase(String text, int[] ids, boolean special) {}

  static List<ClipCase> cases() throws IOException {
    JsonNode root = new ObjectMapper().readTree(SharedData.tokenizerFile("clip/cases.json").toFile());
    List<ClipCase> out = new ArrayList<>();
    for (JsonNode c : root.get("cases")) {
      int[] ids = new int[c.get("ids").size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = c.get("ids").get(i).asInt();
      }
      out.add(new ClipCase(c.get("text").asText(), ids, c.get("special_tokens").asBoolean()));
    }
    return out;
  }

  @Test
  void vocabularyLayout() {
    ClipTokenizer t = openAi();
    assertEquals(49408, t.vocabSize());
    assertEquals("!", t.piece(0));
    assertEquals("!</w>", t.piece(256));
    assertEquals("in", t.piece(512));
    assertEquals(49406, t.startOfTextId());
    assertEquals(49407, t.endOfTextId());
  }

  @Test
  void publishedCases() throws IOException {
    ClipTokenizer t = openAi();
    List<ClipCase> cases = cases();
    assertEquals(3, cases.size());
    for (ClipCase c : cases) {
      assertArrayEquals(c.ids(), t.encode(c.text(), c.special()), c.text());
    }
  }

  @Test
  void specVectors() {
    ClipTokenizer t = openAi();
    assertArrayEquals(new int[] {49406, 320, 22697, 748, 49407}, t.encode("A Diagram!!"));
    assertArrayEquals(new int[] {49406, 3306, 267, 1002, 269, 585, 568, 273, 271, 273, 275, 2005, 1097, 35689, 563, 15304, 49407},
        t.encode("Hello, World. It's 2024 \u2014 na\u00efve caf\u00e9"));
    assertArrayEquals(new int[] {49406, 6470, 9006, 537, 1218, 3418, 49407}, t.encode("  multiple   spaces\tand\nnewlines "));
    // special-token text is one id with special tokens on, plain text with them off
    assertArrayEquals(new int[] {49406, 320, 49407, 49407}, t.encode("a<|endoftext|>"));
    assertTrue(t.encode("<|endoftext|>", false).length > 1);
  }

  @Test
  void hfLayoutGivesTheSameIds(@TempDir Path dir) throws IOException {
    ClipTokenizer t = openAi();
    // vocab.json and merges.txt as HF's conversion writes them, from the OpenAI vocabulary
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (int i = 0; i < t.vocabSize(); i++) {
      vocab.put(t.piece(i), i);
    }
    Path vocabJson = dir.resolve("vocab.json");
    new ObjectMapper().writeValue(vocabJson.toFile(), vocab);
    Path merges = dir.resolve("merges.txt");
    List<String> lines = new ArrayList<>();
    lines.add("#version: 0.2");
    lines.addAll(t.merges());
    Files.write(merges, lines, StandardCharsets.UTF_8);
    ClipTokenizer hf = ClipTokenizer.loadHf(vocabJson, merges);
    assertEquals(t.vocabSize(), hf.vocabSize());
    for (ClipCase c : cases()) {
      assertArrayEquals(c.ids(), hf.encode(c.text(), c.special()), c.text());
    }
  }

  /**
   * Found by bench/fuzz.sh: a vocab.json without one of the 512 byte symbols loaded, and encoding a
   * word that needs it was an IllegalStateException ("BPE produced ..."); it is refused at load.
   */
  @Test
  void aVocabularyWithoutEveryByteSymbolIsRefusedAtLoad(@TempDir Path dir) throws IOException {
    Path tiny = Path.of("src/test/resources/clip-reference/tiny-p32");
    ObjectNode vocab = (ObjectNode) new ObjectMapper().readTree(tiny.resolve("vocab.json").toFile());
    Path merges = tiny.resolve("merges.txt");
    ClipTokenizer.loadHf(tiny.resolve("vocab.json"), merges).encode("e"); // the fixture has all 512
    int id = vocab.remove("e</w>").asInt();
    vocab.put("unused", id);
    Path vocabJson = dir.resolve("vocab.json");
    new ObjectMapper().writeValue(vocabJson.toFile(), vocab);
    TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.loadHf(vocabJson, merges));
    assertEquals(vocabJson, e.file());
    assertTrue(e.getMessage().contains("has no entry \"e</w>\""), e.getMessage());
  }

  /** Found by bench/fuzz.sh: a bad merges line was echoed whole (messages of 70 KB). */
  @Test
  void aLongBadMergesLineIsCutInTheMessage(@TempDir Path dir) throws IOException {
    Path tiny = Path.of("src/test/resources/clip-reference/tiny-p32");
    Path merges = Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + "x".repeat(70_000) + "\n");
    TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.loadHf(tiny.resolve("vocab.json"), merges));
    assertTrue(e.getMessage().contains("line 2: expected a merge \"left right\", found \"xxx") && e.getMessage().length() < 500,
        e.getMessage().length() + " chars");
  }

  @Test
  void contextPaddingAndTruncation() {
    ClipTokenizer t = openAi();
    int[] openai = t.encodeToContext("a photo of a cat", 77, ClipTokenizer.Padding.OPENAI_ZERO);
    int[] hf = t.encodeToContext("a photo of a cat", 77, ClipTokenizer.Padding.HF_END_OF_TEXT);
    assertEquals(77, openai.length);
    assertEquals(2368, openai[5]);
    assertEquals(49407, openai[6]);
    assertEquals(0, openai[7]);
    assertEquals(49407, hf[7]);
    assertEquals(49407, hf[76]);
    int[] longText = t.encodeToContext("cat ".repeat(100), 77, ClipTokenizer.Padding.OPENAI_ZERO);
    assertEquals(77, longText.length);
    assertEquals(49406, longText[0]);
    assertEquals(2368, longText[75]);
    assertEquals(49407, longText[76]);
  }

  @Test
  void decode() {
    ClipTokenizer t = openAi();
    assertEquals("a photo of a cat ", t.decode(t.encode("A photo of a cat")));
    assertEquals("生活的真谛是 ", t.decode(t.encode("生活的真谛是")));
  }

  /** Text generator: ASCII-heavy with whitespace, Latin-1, CJK, emoji and any code point. */
  static Gen<String> unicodeText() {
    Gen<Integer> ascii = SourceDSL.integers().between(0x20, 0x7E);
    Gen<Integer> space = SourceDSL.integers().between(0, 3).map(i -> new int[] {' ', '\n', '\t', 0x3000}[i]);
    Gen<Integer> latin = SourceDSL.integers().between(0xA0, 0x17F);
    Gen<Integer> cjk = SourceDSL.integers().between(0x4E00, 0x4F00);
    Gen<Integer> emoji = SourceDSL.integers().between(0x1F600, 0x1F64F);
    Gen<Integer> any = SourceDSL.integers().between(1, 0x10FFFF).assuming(cp -> cp < 0xD800 || cp > 0xDFFF);
    Gen<Integer> cp = ascii.mix(space, 30).mix(latin, 25).mix(cjk, 15).mix(emoji, 10).mix(any, 15);
    return SourceDSL.lists().of(cp).ofSizeBetween(0, 40).map(l -> {
      StringBuilder sb = new StringBuilder();
      l.forEach(sb::appendCodePoint);
      return sb.toString();
    });
  }

  /**
   * decode(encode(t)) is lossless up to CLIP's cleaning and its word spacing: removing every space
   * from both sides, it equals {@link ClipTokenizer#clean}(t) (NFC, HTML-unescaped,
   * whitespace-collapsed, lowercased).
   */
  @Test
  void roundTripUpToCleaningAndSpaces() {
    ClipTokenizer t = openAi();
    qt().withExamples(EXAMPLES).forAll(unicodeText())
        .check(s -> t.decode(t.encode(s, false)).replace(" ", "").equals(ClipTokenizer.clean(s).replace(" ", "")));
  }

  /** Streaming decode of any id sequence (byte-level ids split characters) equals whole decode. */
  @Test
  void streamingEqualsWhole() {
    ClipTokenizer t = openAi();
    Gen<Integer> id = SourceDSL.integers().between(0, 511).mix(SourceDSL.integers().between(0, t.vocabSize() - 1), 40);
    qt().withExamples(EXAMPLES).forAll(SourceDSL.lists().of(id).ofSizeBetween(0, 30)).check(ids -> {
      int[] arr = ids.stream().mapToInt(Integer::intValue).toArray();
      StreamingDecoder d = t.streamingDecoder();
      StringBuilder sb = new StringBuilder();
      for (int i : arr) {
        sb.append(d.push(i));
      }
      sb.append(d.finish());
      return sb.toString().equals(t.decode(arr));
    });
  }

  @Test
  void missingAndCorruptFiles(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("nope.txt.gz");
    TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.loadOpenAi(missing));
    assertEquals(missing, e.file());
    Path notGzip = dir.resolve("bpe.txt.gz");
    Files.writeString(notGzip, "not gzip");
    e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.loadOpenAi(notGzip));
    assertTrue(e.getMessage().contains(notGzip.toString()), e.getMessage());
    Path vocab = dir.resolve("vocab.json");
    Files.writeString(vocab, "{\"a\": 0, ");
    Path merges = dir.resolve("merges.txt");
    Files.writeString(merges, "#version: 0.2\na b\n");
    e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.loadHf(vocab, merges));
    assertEquals(vocab, e.file());
    Files.writeString(vocab, "{\"a\": 0, \"b\": 1, \"ab\": 2, \"<|startoftext|>\": 3, \"<|endoftext|>\": 4}");
    Files.writeString(merges, "#version: 0.2\na b c\n");
    e = assertThrows(TokenizerFileException.class, () -> ClipTokenizer.loadHf(vocab, merges));
    assertEquals(merges, e.file());
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
  }
}
