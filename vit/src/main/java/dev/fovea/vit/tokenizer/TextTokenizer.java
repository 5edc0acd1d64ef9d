package dev.fovea.vit.tokenizer;

import java.util.OptionalInt;

/**
 * A text tokenizer: text to vocabulary ids and back. Implemented by {@link ClipTokenizer} (byte-level
 * BPE), {@link WordPieceTokenizer} (BERT) and, in module llm, {@code SentencePieceTokenizer}.
 *
 * <p>Implementations are immutable and safe to share between threads; a {@link StreamingDecoder}
 * is per stream.
 */
public interface TextTokenizer {

  /**
   * Encodes {@code text}. With {@code special} true the model's framing tokens are added (CLIP
   * start/end, BERT [CLS]/[SEP], SentencePiece BOS) and special-token text in the input (such as
   * {@code <|endoftext|>}, {@code [SEP]}, {@code <s>}) becomes its id; with {@code special} false
   * neither happens, as llama.cpp's {@code llama-tokenize} with {@code --no-bos
   * --no-parse-special}.
   */
  int[] encode(String text, boolean special);

  /** {@code encode(text, true)}. */
  default int[] encode(String text) {
    return encode(text, true);
  }

  /** Turns ids back into text, leaving out special (control) tokens. */
  String decode(int[] ids);

  /**
   * {@link #decode(int[])} when {@code skipSpecial} (Hugging Face's {@code skip_special_tokens=True});
   * otherwise special tokens are kept as their vocabulary entry ({@code decode(ids)}'s default
   * there). This default joins the decoded runs between special tokens and their entries as they
   * are; tokenizers that know better override it.
   */
  default String decode(int[] ids, boolean skipSpecial) {
    if (skipSpecial) {
      return decode(ids);
    }
    StringBuilder sb = new StringBuilder();
    int from = 0;
    for (int i = 0; i <= ids.length; i++) {
      if (i == ids.length || isSpecial(ids[i])) {
        if (i > from) {
          sb.append(decode(java.util.Arrays.copyOfRange(ids, from, i)));
        }
        if (i < ids.length) {
          sb.append(piece(ids[i]));
        }
        from = i + 1;
      }
    }
    return sb.toString();
  }

  /** A decoder fed one id at a time whose concatenated output equals {@link #decode}. */
  StreamingDecoder streamingDecoder();

  /** The vocabulary entry of {@code id} as stored (for example {@code ▁Hello}, {@code ##ing}). */
  String piece(int id);

  /** The id of a vocabulary entry, if present. */
  OptionalInt id(String piece);

  /** Number of ids, including added tokens. */
  int vocabSize();

  /** Whether {@code id} is a special (control) token that {@link #decode} leaves out. */
  boolean isSpecial(int id);
}
