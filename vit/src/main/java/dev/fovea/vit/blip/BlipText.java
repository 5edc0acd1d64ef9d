package dev.fovea.vit.blip;

import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * BLIP's text side (LAVIS {@code BlipBase.init_tokenizer}, {@code BlipCaptionProcessor}; spec
 * methods-abs-agla.md B.2, B.9): caption cleaning, bert-base-uncased WordPiece with BLIP's added
 * {@code [DEC]} = 30522 and {@code [ENC]} = 30523, at most {@value #MAX_TOKENS} tokens.
 *
 * <p>The {@code [ENC]} convention: the original BLIP (and so LAVIS and AGLA) replaces position 0
 * ({@code [CLS]}) with {@code [ENC]} for the image-grounded ITM pass and keeps {@code [CLS]} for the
 * text-only ITC pass; HF's {@code BlipForImageTextRetrieval} keeps {@code [CLS]} for both
 * (huggingface/transformers #25629, #22732). {@link Convention#ORIGINAL} is the default.
 */
public final class BlipText {
  public static final int DEC_ID = 30522;
  public static final int ENC_ID = 30523;
  /** LAVIS tokenizes with {@code truncation=True, max_length=35}. */
  public static final int MAX_TOKENS = 35;
  /** {@code pre_caption}'s {@code max_words}. */
  public static final int MAX_WORDS = 50;

  /** Which token the ITM pass starts with. */
  public enum Convention {
    /** Position 0 is {@code [ENC]} (original BLIP, LAVIS, AGLA). */
    ORIGINAL,
    /** Position 0 stays {@code [CLS]} (HF's class). */
    HF
  }

  private static final Pattern PUNCT = Pattern.compile("[.!\"()*#:;~]");
  private static final Pattern SPACES = Pattern.compile("\\s{2,}", Pattern.UNICODE_CHARACTER_CLASS);

  private final WordPieceTokenizer tokenizer;

  public BlipText(WordPieceTokenizer tokenizer) {
    if (tokenizer.vocabSize() > ENC_ID) {
      throw new BlipConfigException("BLIP's vocabulary must end before [DEC] = " + DEC_ID + "; this one has " + tokenizer.vocabSize() + " entries");
    }
    this.tokenizer = tokenizer;
  }

  /** The folder's {@code vocab.txt} (bert-base-uncased). */
  public static BlipText load(Path folder) {
    Path vocab = folder.resolve("vocab.txt");
    if (!Files.isRegularFile(vocab)) {
      throw new BlipConfigException(vocab + ": missing (BLIP needs bert-base-uncased's vocab.txt beside its weights)");
    }
    return new BlipText(WordPieceTokenizer.load(vocab, true));
  }

  public WordPieceTokenizer tokenizer() {
    return tokenizer;
  }

  /**
   * LAVIS {@code pre_caption}: lowercase; each of {@code . ! " ( ) * # : ; ~} becomes a space;
   * runs of two or more whitespace characters become one space; trailing newlines and surrounding
   * spaces go; at most the first {@value #MAX_WORDS} words.
   */
  public static String clean(String caption) {
    String s = PUNCT.matcher(caption.toLowerCase(Locale.ROOT)).replaceAll(" ");
    s = SPACES.matcher(s).replaceAll(" ");
    s = stripTrailingNewlines(s);
    s = s.replaceAll("^ +| +$", "");
    String[] words = s.split(" ", -1);
    if (words.length > MAX_WORDS) {
      s = String.join(" ", Arrays.copyOf(words, MAX_WORDS));
    }
    return s;
  }

  private static String stripTrailingNewlines(String s) {
    int end = s.length();
    while (end > 0 && s.charAt(end - 1) == '\n') {
      end--;
    }
    return s.substring(0, end);
  }

  /** {@code [CLS] pieces [SEP]} of the cleaned text, pieces cut to fit {@value #MAX_TOKENS} tokens (the ITC ids). */
  public int[] itcIds(String caption) {
    int[] pieces = tokenizer.encode(clean(caption), false);
    int n = Math.min(pieces.length, MAX_TOKENS - 2);
    int[] ids = new int[n + 2];
    ids[0] = tokenizer.clsId();
    System.arraycopy(pieces, 0, ids, 1, n);
    ids[n + 1] = tokenizer.sepId();
    return ids;
  }

  /** The ITM ids: {@link #itcIds} with position 0 set to {@code [ENC]} under {@link Convention#ORIGINAL}. */
  public int[] itmIds(String caption, Convention convention) {
    int[] ids = itcIds(caption);
    if (convention == Convention.ORIGINAL) {
      ids[0] = ENC_ID;
    }
    return ids;
  }
}
