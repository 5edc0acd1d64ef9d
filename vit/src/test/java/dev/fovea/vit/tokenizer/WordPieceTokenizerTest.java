package dev.fovea.vit.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.SourceDSL;

class WordPieceTokenizerTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 300);
  private static WordPieceTokenizer bert;

  static synchronized WordPieceTokenizer bert() {
    if (bert == null) {
      bert = WordPieceTokenizer.load(SharedData.tokenizerFile("bert/bert-base-uncased-vocab.txt"));
    }
    return bert;
  }

  @Test
  void llamaCppBgeCases() {
    WordPieceTokenizer t = bert();
    List<SharedData.Case> cases = SharedData.llamaCppCases(
        SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf.inp"),
        SharedData.tokenizerFile("bert/ggml-vocab-bert-bge.gguf.out"));
    assertEquals(46, cases.size());
    for (SharedData.Case c : cases) {
      assertArrayEquals(c.ids(), t.encode(c.text(), false), c.toString());
    }
  }

  @Test
  void specVectorsAndFraming() {
    WordPieceTokenizer t = bert();
    assertEquals(30522, t.vocabSize());
    assertArrayEquals(new int[] {101, 1037, 3861, 1997, 102}, t.encode("a picture of"));
    assertArrayEquals(new int[] {1037, 2450, 3564, 2006, 1996, 3509, 2007, 2014, 3899},
        t.encode("a woman sitting on the beach with her dog", false));
    // special-token text is matched with special tokens on, split as punctuation with them off
    assertArrayEquals(new int[] {101, 1037, 102, 3861, 102}, t.encode("a [SEP] picture"));
    assertEquals(3, t.encode("[SEP]", false).length); // "[", "sep", "]"
    assertArrayEquals(new int[] {100}, t.encode("x".repeat(101), false));
  }

  @Test
  void blipAddedTokens() {
    WordPieceTokenizer blip = bert().withAddedTokens("[DEC]", "[ENC]");
    assertEquals(30524, blip.vocabSize());
    assertEquals(30522, blip.id("[DEC]").getAsInt());
    assertEquals(30523, blip.id("[ENC]").getAsInt());
    assertArrayEquals(new int[] {101, 30522, 1037, 3861, 102}, blip.encode("[DEC]a picture"));
    assertEquals("a picture", blip.decode(new int[] {101, 30522, 1037, 3861, 102}));
    assertTrue(blip.isSpecial(30523));
  }

  @Test
  void truncation() {
    int[] ids = {101, 1, 2, 3, 4, 102};
    assertArrayEquals(new int[] {101, 3, 4, 102}, WordPieceTokenizer.truncate(ids, 4, true));
    assertArrayEquals(new int[] {101, 1, 2, 102}, WordPieceTokenizer.truncate(ids, 4, false));
  }

  @Test
  void decode() {
    WordPieceTokenizer t = bert();
    assertEquals("hello , world ! unaffable", t.decode(t.encode("Hello, world! unaffable")));
    assertEquals("[UNK] cafe", t.decode(t.encode("\uD83D\uDE00 Café")));
  }

  static Gen<String> text() {
    Gen<Integer> ascii = SourceDSL.integers().between(0x20, 0x7E);
    Gen<Integer> space = SourceDSL.integers().between(0, 2).map(i -> new int[] {' ', '\n', '\t'}[i]);
    Gen<Integer> latin = SourceDSL.integers().between(0xC0, 0x17F);
    Gen<Integer> cjk = SourceDSL.integers().between(0x4E00, 0x4E80);
    Gen<Integer> any = SourceDSL.integers().between(1, 0x10FFFF).assuming(cp -> cp < 0xD800 || cp > 0xDFFF);
    Gen<Integer> cp = ascii.mix(space, 25).mix(latin, 20).mix(cjk, 10).mix(any, 10);
    return SourceDSL.lists().of(cp).ofSizeBetween(0, 40).map(l -> {
      StringBuilder sb = new StringBuilder();
      l.forEach(sb::appendCodePoint);
      return sb.toString();
    });
  }

  /**
   * WordPiece is lossy, so the weaker property: decode(encode(t)) equals the basic tokenizer's
   * words of t (cleaned, CJK-split, accent-stripped, lowercased, punctuation split) joined by single
   * spaces, with every word that WordPiece cannot cover replaced by [UNK].
   */
  @Test
  void decodeOfEncodeIsTheBasicWords() {
    WordPieceTokenizer t = bert();
    qt().withExamples(EXAMPLES).forAll(text()).check(s -> {
      String expected = t.basicTokenizer().tokenize(s).stream()
          .map(w -> {
            int[] ids = t.encode(w, false);
            return ids.length == 1 && ids[0] == t.unkId() ? "[UNK]" : w;
          })
          .collect(Collectors.joining(" "));
      return t.decode(t.encode(s, false)).equals(expected);
    });
  }

  @Test
  void streamingEqualsWhole() {
    WordPieceTokenizer t = bert();
    Gen<Integer> id = SourceDSL.integers().between(0, t.vocabSize() - 1);
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
    Path missing = dir.resolve("vocab.txt");
    TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> WordPieceTokenizer.load(missing));
    assertEquals(missing, e.file());
    Files.write(missing, new byte[] {(byte) 0xFF, (byte) 0xFE, 'a', '\n'});
    e = assertThrows(TokenizerFileException.class, () -> WordPieceTokenizer.load(missing));
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    Files.writeString(missing, "a\nb\n");
    e = assertThrows(TokenizerFileException.class, () -> WordPieceTokenizer.load(missing));
    assertTrue(e.getMessage().contains("[UNK]"), e.getMessage());
  }
}
