package dev.fovea.llm.llava;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.vit.tokenizer.TextTokenizer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Templates and image-marker tokenization with the fixture's llama2.c tokenizer (stories260k tok512). */
class LlavaPromptTest {
  private final TextTokenizer tok = TokenizerLoader.load(LlavaFixtures.dir());

  @Test
  void templates() {
    assertEquals("USER: <image>\nWhat is it? ASSISTANT:", LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "What is it?", 1));
    assertEquals("USER: <image>\n<image>\nSame? ASSISTANT:", LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "Same?", 2));
    assertEquals("USER: a <image> b <image> ASSISTANT:", LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "a <image> b <image>", 2));
    String v1 = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_V1, "Q", 1);
    assertEquals("A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite "
        + "answers to the human's questions. USER: <image>\nQ ASSISTANT:", v1);
  }

  /** Chunks are encoded separately (BOS only on the first) and joined by one image id each. */
  @Test
  void eachImageMarkerIsOneIdBetweenSeparatelyEncodedChunks() {
    String text = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "Is the cat big?", 2);
    int[] ids = LlavaPrompt.tokenize(tok, text, 512);
    int[] a = tok.encode("USER: ", true);
    int[] b = tok.encode("\n", false);
    int[] c = tok.encode("\nIs the cat big? ASSISTANT:", false);
    int[] want = concat(a, new int[] {512}, b, new int[] {512}, c);
    assertArrayEquals(want, ids);
    assertEquals(1, ids[0], "BOS");
    assertEquals(2, Arrays.stream(ids).filter(i -> i == 512).count());
  }

  /**
   * The fixture folder declares {@code <image>} = 512 and {@code <pad>} = 513 as a llava-hf folder
   * does (tokenizer_config.json, added_tokens.json), so its tokenizer encodes the prompt as a whole
   * with the very ids the chunk rule gives (which a tokenizer without the added token still uses).
   */
  @Test
  void theFixtureFolderDeclaresTheImageTokenAsLlavaHfDoes() {
    assertEquals(512, tok.id("<image>").orElseThrow());
    assertEquals(513, tok.id("<pad>").orElseThrow());
    assertEquals(514, tok.vocabSize());
    String text = LlavaPrompt.text(LlavaPrompt.Template.LLAVA_HF, "Is <image> the cat <image> big? </s>", 2);
    int[] whole = tok.encode(text, true);
    assertEquals(2, Arrays.stream(whole).filter(i -> i == 512).count());
    assertArrayEquals(whole, LlavaPrompt.tokenize(tok, text, 512));
    TextTokenizer bare = TokenizerLoader.fromLlama2cBin(LlavaFixtures.dir().resolve("tokenizer.bin"));
    assertEquals(512, bare.vocabSize());
    assertArrayEquals(whole, LlavaPrompt.tokenize(bare, text, 512));
  }

  private static int[] concat(int[]... parts) {
    return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
  }
}
