package dev.fovea.llm.tokenizer;

/** {@code SentencePiece.Type} of sentencepiece_model.proto, with its wire numbers. */
public enum PieceType {
  NORMAL(1),
  /** {@code <unk>}. */
  UNKNOWN(2),
  /** {@code <s>}, {@code </s>}: never produced from text, left out by decode. */
  CONTROL(3),
  /** Matched literally in the text, never split. */
  USER_DEFINED(4),
  /** In the vocabulary but not emitted: split back into the two pieces it was merged from. */
  UNUSED(5),
  /** {@code <0xNN>}: one raw byte (byte fallback). */
  BYTE(6);

  final int number;

  PieceType(int number) {
    this.number = number;
  }

  /** The type with wire number {@code n} (GGUF's {@code tokenizer.ggml.token_type} uses the same). */
  public static PieceType of(int n) {
    for (PieceType t : values()) {
      if (t.number == n) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown SentencePiece piece type " + n + " (expected 1..6)");
  }
}
