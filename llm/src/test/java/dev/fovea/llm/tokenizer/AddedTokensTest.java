package dev.fovea.llm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.vit.tokenizer.SharedData;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.TokenizerFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Added tokens as Hugging Face loads and matches them: the splitting rules against the cases of
 * tokenizers' own tests (src/tokenizer/added_vocabulary.rs), and a llava-hf folder (tokenizer.model
 * with tokenizer_config.json / added_tokens.json declaring {@code <image>} = 32000).
 */
class AddedTokensTest {
  static final String LLAVA_HF_CONFIG = """
      {"added_tokens_decoder": {
        "0": {"content": "<unk>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
        "1": {"content": "<s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
        "2": {"content": "</s>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
        "32000": {"content": "<image>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
        "32001": {"content": "<pad>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}},
       "legacy": true, "pad_token": "<pad>", "tokenizer_class": "LlamaTokenizer"}
      """;

  /** (text, id or -1) of each split. */
  static List<String> splits(AddedVocabulary v, String text, boolean withSpecial) {
    List<String> out = new ArrayList<>();
    for (AddedVocabulary.Split s : v.split(text, withSpecial)) {
      out.add(s.token() == null ? "text:" + s.text() : s.token().id() + ":" + s.text());
    }
    return out;
  }

  static AddedToken plain(int id, String content) {
    return new AddedToken(id, content, false, false, false, false, true);
  }

  @Test
  void hfOptionsUseCases() {
    // added_vocabulary.rs options_use_cases, with the text already lowercase (no Lowercase normalizer here)
    AddedVocabulary v = new AddedVocabulary(List.of(
        new AddedToken(0, "my", false, true, true, false, true),
        plain(1, "name"),
        new AddedToken(2, "ony", false, false, false, true, true),
        AddedToken.special(3, "[CLS]"),
        AddedToken.special(4, "[SEP]")), UnaryOperator.identity());
    assertEquals(List.of("3:[CLS]", "0: my ", "1:name", "text: is anthony ", "4:[SEP]"), splits(v, "[CLS] my name is anthony [SEP]", true));
    // special tokens are not split out when special-token parsing is off (split_special_tokens)
    assertEquals(List.of("text:[CLS]", "0: my ", "1:name", "text: is anthony [SEP]"), splits(v, "[CLS] my name is anthony [SEP]", false));
  }

  @Test
  void hfSingleWord() {
    // test_single_word_is_correct and test_single_word_is_unicode_correct
    AddedVocabulary v = new AddedVocabulary(List.of(new AddedToken(0, "<mask>", false, false, false, true, true)), UnaryOperator.identity());
    assertEquals(List.of("0:<mask>", "text: my name ", "0:<mask>", "text: a<mask> <mask>ony ", "0:<mask>"),
        splits(v, "<mask> my name <mask> a<mask> <mask>ony <mask>", true));
    assertEquals(List.of("0:<mask>", "text:, ", "0:<mask>", "text:- \u25cc\u0330<mask>"), splits(v, "<mask>, <mask>- \u25cc\u0330<mask>", true));
  }

  @Test
  void hfStripUnicodeSpace() {
    // test_lstrip_unicode_space
    AddedVocabulary v = new AddedVocabulary(List.of(new AddedToken(0, "<mask>", false, true, true, true, true)), UnaryOperator.identity());
    assertEquals(List.of("text:Hi", "0: <mask> ", "text:there", "0:\t<mask>\t", "0:<mask>\u2000"),
        splits(v, "Hi <mask> there\t<mask>\t<mask>\u2000", true));
  }

  @Test
  void normalizedTokensMatchTheNormalizedText() {
    // a normalized token is found after normalization (NFKC: "ﬁ" -> "fi"); a raw one is not
    AddedVocabulary v = new AddedVocabulary(List.of(plain(7, "fine"), new AddedToken(8, "ﬀ", false, false, false, false, false)),
        s -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKC));
    assertEquals(List.of("text:so ", "7:fine", "text: ff"), splits(v, "so \ufb01ne ff", true));
    assertEquals(List.of("text:a", "8:\ufb00"), splits(v, "a\ufb00", true));
  }

  static Path llavaHfFolder(Path dir, boolean config, boolean addedJson) throws IOException {
    Files.copy(SharedData.tokenizerFile("llama/tokenizer.model"), dir.resolve("tokenizer.model"));
    if (config) {
      Files.writeString(dir.resolve("tokenizer_config.json"), LLAVA_HF_CONFIG);
    }
    if (addedJson) {
      Files.writeString(dir.resolve("added_tokens.json"), "{\"<image>\": 32000, \"<pad>\": 32001}");
      Files.writeString(dir.resolve("special_tokens_map.json"),
          "{\"bos_token\": {\"content\": \"<s>\"}, \"eos_token\": \"</s>\", \"pad_token\": \"<pad>\", \"unk_token\": \"<unk>\"}");
    }
    return dir;
  }

  /** The ids llava-hf's processor gives "USER: <image>\nWhat is this? ASSISTANT:" (legacy LLaMA tokenizer). */
  static final int[] LLAVA_PROMPT = {1, 3148, 1001, 29901, 29871, 32000, 29871, 13, 5618, 338, 445, 29973, 319, 1799, 9047, 13566, 29901};

  @Test
  void llavaHfFolderDeclaresImageInTokenizerConfig(@TempDir Path dir) throws IOException {
    TextTokenizer t = TokenizerLoader.load(llavaHfFolder(dir, true, false));
    assertEquals(32002, t.vocabSize());
    assertEquals("<image>", t.piece(32000));
    assertEquals(32000, t.id("<image>").orElseThrow());
    assertEquals(32001, t.id("<pad>").orElseThrow());
    assertTrue(t.isSpecial(32000));
    String prompt = "USER: <image>\nWhat is this? ASSISTANT:";
    assertArrayEquals(LLAVA_PROMPT, t.encode(prompt));
    // with special-token parsing off, "<image>" is plain text again
    int[] plain = t.encode(prompt, false);
    assertFalse(java.util.Arrays.stream(plain).anyMatch(i -> i == 32000));
    // decode: special tokens left out by default, kept as text on request
    assertEquals("What", t.decode(new int[] {32000, 5618}));
    assertEquals("<s> USER: <image> \nWhat is this? ASSISTANT:", t.decode(LLAVA_PROMPT, false));
    assertEquals("USER:  \nWhat is this? ASSISTANT:", t.decode(LLAVA_PROMPT));
    assertEquals("<image>", t.decode(new int[] {32000}, false));
  }

  @Test
  void olderFoldersDeclareImageInAddedTokensJson(@TempDir Path dir) throws IOException {
    SentencePieceTokenizer t = (SentencePieceTokenizer) TokenizerLoader.load(llavaHfFolder(dir, false, true));
    assertEquals(32002, t.vocabSize());
    // "<pad>" is named by special_tokens_map.json: special; "<image>" is not: a normalized plain added token
    assertTrue(t.isSpecial(32001));
    assertFalse(t.isSpecial(32000));
    assertEquals(new AddedToken(32000, "<image>", false, false, false, false, true), t.addedToken(32000).orElseThrow());
    // still matched whole, with special-token parsing on or off
    assertArrayEquals(LLAVA_PROMPT, t.encode("USER: <image>\nWhat is this? ASSISTANT:"));
    assertEquals(32000, t.encode("<image>", false)[0]);
    assertEquals("a <image>", t.decode(t.encode("a <image>", false)));
  }

  @Test
  void tokenizerJsonAddedTokensComeFirstAndGapsAreErrors(@TempDir Path dir) throws IOException {
    // tokenizer.json already has <image> = 32000; tokenizer_config.json adds <pad> = 32001
    Path json = SentencePieceTokenizerTest.writeTokenizerJson(SentencePieceTokenizerTest.llama(), dir.resolve("tokenizer.json"), true);
    String text = Files.readString(json).replace("\"added_tokens\":[",
        "\"added_tokens\":[{\"id\":32000,\"content\":\"<image>\",\"special\":true,\"normalized\":false},");
    Files.writeString(json, text);
    Files.writeString(dir.resolve("tokenizer_config.json"), LLAVA_HF_CONFIG);
    TextTokenizer t = TokenizerLoader.load(dir);
    assertEquals(32002, t.vocabSize());
    assertArrayEquals(LLAVA_PROMPT, t.encode("USER: <image>\nWhat is this? ASSISTANT:"));
    assertArrayEquals(new int[] {1, 32001}, t.encode("<pad>"));
  }

  @Test
  void idsThatLeaveAGapAreAnError(@TempDir Path dir) throws IOException {
    llavaHfFolder(dir, false, false);
    Files.writeString(dir.resolve("tokenizer_config.json"),
        "{\"added_tokens_decoder\": {\"32005\": {\"content\": \"<image>\", \"special\": true}}}");
    TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.load(dir));
    assertEquals(dir.resolve("tokenizer_config.json"), e.file());
    assertTrue(e.getMessage().contains("id 32000 without an entry"), e.getMessage());
    Files.writeString(dir.resolve("tokenizer_config.json"), "{\"added_tokens_decoder\": [1, 2]}");
    e = assertThrows(TokenizerFileException.class, () -> TokenizerLoader.load(dir));
    assertTrue(e.getMessage().contains("added_tokens_decoder is not an object"), e.getMessage());
  }
}
