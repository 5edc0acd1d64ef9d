package dev.fovea.llm.tokenizer;

/**
 * A token added on top of the model's own vocabulary, as Hugging Face's {@code AddedToken}
 * (tokenizers {@code src/tokenizer/added_vocabulary.rs}; the entries of tokenizer.json's
 * {@code added_tokens}, tokenizer_config.json's {@code added_tokens_decoder} and
 * {@code added_tokens.json}): matched as a whole in the input before the model segments it, and
 * decoded to its content.
 *
 * @param id its id (beyond the model's pieces, or one of them: {@code <s>} is both)
 * @param content the text it stands for
 * @param special left out by decode (skip_special_tokens), and read as plain text when special-token
 *     parsing is off
 * @param lstrip the match takes the whitespace on its left along
 * @param rstrip the match takes the whitespace on its right along
 * @param singleWord matched only where no word character touches it on either side
 * @param normalized matched against the normalized input (and its content normalized the same way)
 */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip, boolean singleWord, boolean normalized) {
  public AddedToken {
    if (id < 0) {
      throw new IllegalArgumentException("added token \"" + content + "\": negative id " + id);
    }
    if (content == null || content.isEmpty()) {
      throw new IllegalArgumentException("added token " + id + " has no content");
    }
  }

  /** A special token matched literally ({@code <s>}, {@code <image>}): Hugging Face's {@code AddedToken(content, special=True)}. */
  public static AddedToken special(int id, String content) {
    return new AddedToken(id, content, true, false, false, false, false);
  }
}
