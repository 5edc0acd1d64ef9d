package dev.fovea.vit.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * BERT's basic tokenizer: text to words, before WordPiece. Follows the Hugging Face fast tokenizer
 * ({@code tokenizers} {@code BertNormalizer} + {@code BertPreTokenizer}), in its order:
 *
 * <ol>
 *   <li>clean: drop U+0000, U+FFFD and every "other" character (categories Cc, Cf, Cn, Co, Cs)
 *       except tab, newline and carriage return; map whitespace to a space;
 *   <li>put spaces around CJK ideographs;
 *   <li>uncased only: strip accents (NFD, drop category Mn), then lowercase;
 *   <li>split on whitespace and make each punctuation character its own word, where punctuation is
 *       ASCII 33–47, 58–64, 91–96, 123–126 or any category P*.
 * </ol>
 *
 * <p>The slow Python tokenizer lowercases before stripping accents and NFC-normalizes first; the two
 * agree except for rare characters whose lowercase form decomposes differently.
 */
public final class BertBasicTokenizer {
  private final boolean lowercase;

  public BertBasicTokenizer(boolean lowercase) {
    this.lowercase = lowercase;
  }

  /** The words of {@code text}. */
  public List<String> tokenize(String text) {
    String t = normalize(text);
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < t.length(); ) {
      int cp = t.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == ' ') {
        flush(word, words);
      } else if (isPunctuation(cp)) {
        flush(word, words);
        words.add(new String(Character.toChars(cp)));
      } else {
        word.appendCodePoint(cp);
      }
    }
    flush(word, words);
    return words;
  }

  private static void flush(StringBuilder word, List<String> words) {
    if (!word.isEmpty()) {
      words.add(word.toString());
      word.setLength(0);
    }
  }

  /** Steps 1–3: the normalized text, in which every whitespace is a plain space. */
  public String normalize(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 8);
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
        continue;
      }
      if (isWhitespace(cp)) {
        sb.append(' ');
      } else if (isCjkIdeograph(cp)) {
        sb.append(' ').appendCodePoint(cp).append(' ');
      } else {
        sb.appendCodePoint(cp);
      }
    }
    String t = sb.toString();
    if (lowercase) {
      t = stripAccents(t).toLowerCase(Locale.ROOT);
    }
    return t;
  }

  static String stripAccents(String s) {
    String d = Normalizer.normalize(s, Normalizer.Form.NFD);
    StringBuilder sb = new StringBuilder(d.length());
    for (int i = 0; i < d.length(); ) {
      int cp = d.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.getType(cp) != Character.NON_SPACING_MARK) {
        sb.appendCodePoint(cp);
      }
    }
    return sb.toString();
  }

  static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int type = Character.getType(cp);
    return type == Character.CONTROL || type == Character.FORMAT || type == Character.UNASSIGNED
        || type == Character.PRIVATE_USE || type == Character.SURROGATE;
  }

  static boolean isWhitespace(int cp) {
    return cp == '\t' || cp == '\n' || cp == '\r' || Character.isSpaceChar(cp);
  }

  /** BERT's punctuation: the four ASCII symbol ranges plus Unicode categories P*. */
  public static boolean isPunctuation(int cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
      return true;
    }
    return switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
          Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
          Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
      default -> false;
    };
  }

  /** The CJK Unified Ideograph blocks BERT isolates (not Hangul, Hiragana or Katakana). */
  public static boolean isCjkIdeograph(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }
}
