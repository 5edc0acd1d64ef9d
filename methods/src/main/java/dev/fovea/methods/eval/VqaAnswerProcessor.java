package dev.fovea.methods.eval;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The EvalAI / m4c answer normalization that LLaVA uses for TextVQA ({@code EvalAIAnswerProcessor} in
 * haotian-liu/LLaVA {@code llava/eval/m4c_evaluator.py}, itself from facebookresearch/mmf), rule for rule
 * and in the reference's order; the methods spec, section 4.2 step 1, summarises it. {@link
 * #normalize(String)} runs the four steps:
 *
 * <ol>
 *   <li>{@link #wordTokenize(String)}: lowercase; delete every {@code ,} and {@code ?}; turn {@code 's}
 *       into {@code  's} (so {@code it's} becomes two words, {@code it 's}); strip.
 *   <li>Newlines and tabs become spaces (only {@code \n} and {@code \t}; a {@code \r} stays and counts as
 *       whitespace when splitting); strip again.
 *   <li>{@link #processPunctuation(String)}: the 21 {@link #PUNCTUATION} characters are deleted or turned
 *       into spaces, then periods not followed by a digit are deleted (at most 32 of them, see there).
 *   <li>{@link #processDigitArticle(String)}: split into words; number words become digits, the articles
 *       are dropped, the contraction table is applied; join with single spaces.
 * </ol>
 *
 * <p>Consequences of the order that look like bugs but are the reference's behaviour, kept on purpose:
 * commas and question marks are gone before the punctuation step, so its digit-comma-digit test and its
 * {@code ,}/{@code ?} entries never fire in the full pipeline ({@code "1,000-2,000"} gives {@code "1000
 * 2000"}); the contraction keys that are capitalised ({@code Im}, {@code Ive}, {@code Id've}, {@code
 * I'dve}) or contain {@code 's} ({@code let's}, {@code she's}, {@code ow's'at}, {@code 'ow'sat}) can never
 * match, because the text is lowercased and {@code 's} is split off first.
 *
 * <p>"Whitespace" is Python's {@code str.isspace()} (which includes the no-break spaces U+00A0, U+2007,
 * U+202F and U+0085, unlike Java's {@code Character.isWhitespace}); "digit" is a Unicode decimal digit
 * (Python's {@code \d} on str, Java's {@code Character.isDigit}); lowercasing is {@code
 * toLowerCase(Locale.ROOT)}, which agrees with Python's {@code str.lower()} (full case mapping) up to
 * the two languages' Unicode versions.
 */
public final class VqaAnswerProcessor {
  private VqaAnswerProcessor() {}

  /**
   * The characters of the punctuation step, in the reference's order: semicolon, slash, brackets,
   * double quote, braces, parentheses, equals, plus, backslash, underscore, hyphen, greater and less
   * than, at, backtick, comma, question mark, exclamation mark. Everything else ({@code ' : # & % *}...)
   * is kept.
   */
  public static final List<String> PUNCTUATION = List.of(
      ";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!");

  /** Number words, each mapped to its digits when it is a whole word ({@code none} counts as zero). */
  public static final Map<String, String> NUMBERS = Map.ofEntries(
      Map.entry("none", "0"), Map.entry("zero", "0"), Map.entry("one", "1"), Map.entry("two", "2"),
      Map.entry("three", "3"), Map.entry("four", "4"), Map.entry("five", "5"), Map.entry("six", "6"),
      Map.entry("seven", "7"), Map.entry("eight", "8"), Map.entry("nine", "9"), Map.entry("ten", "10"));

  /** Whole words that are dropped. */
  public static final Set<String> ARTICLES = Set.of("a", "an", "the");

  /**
   * The contraction table, 120 entries, as the reference has it (the official VQA toolkit's {@code
   * vqaEval.py} has the same table). Quirks are part of the data: {@code somebody'd} maps to {@code
   * somebodyd}, {@code let's} and {@code she's} map to themselves, and the keys noted in the class
   * comment can never match.
   */
  public static final Map<String, String> CONTRACTIONS = contractions(
      "aint", "ain't", "arent", "aren't", "cant", "can't", "couldve", "could've", "couldnt", "couldn't",
      "couldn'tve", "couldn't've", "couldnt've", "couldn't've", "didnt", "didn't", "doesnt", "doesn't",
      "dont", "don't", "hadnt", "hadn't", "hadnt've", "hadn't've", "hadn'tve", "hadn't've", "hasnt", "hasn't",
      "havent", "haven't", "hed", "he'd", "hed've", "he'd've", "he'dve", "he'd've", "hes", "he's",
      "howd", "how'd", "howll", "how'll", "hows", "how's", "Id've", "I'd've", "I'dve", "I'd've",
      "Im", "I'm", "Ive", "I've", "isnt", "isn't", "itd", "it'd", "itd've", "it'd've", "it'dve", "it'd've",
      "itll", "it'll", "let's", "let's", "maam", "ma'am", "mightnt", "mightn't", "mightnt've", "mightn't've",
      "mightn'tve", "mightn't've", "mightve", "might've", "mustnt", "mustn't", "mustve", "must've",
      "neednt", "needn't", "notve", "not've", "oclock", "o'clock", "oughtnt", "oughtn't",
      "ow's'at", "'ow's'at", "'ows'at", "'ow's'at", "'ow'sat", "'ow's'at", "shant", "shan't",
      "shed've", "she'd've", "she'dve", "she'd've", "she's", "she's", "shouldve", "should've",
      "shouldnt", "shouldn't", "shouldnt've", "shouldn't've", "shouldn'tve", "shouldn't've",
      "somebody'd", "somebodyd", "somebodyd've", "somebody'd've", "somebody'dve", "somebody'd've",
      "somebodyll", "somebody'll", "somebodys", "somebody's", "someoned", "someone'd",
      "someoned've", "someone'd've", "someone'dve", "someone'd've", "someonell", "someone'll",
      "someones", "someone's", "somethingd", "something'd", "somethingd've", "something'd've",
      "something'dve", "something'd've", "somethingll", "something'll", "thats", "that's",
      "thered", "there'd", "thered've", "there'd've", "there'dve", "there'd've", "therere", "there're",
      "theres", "there's", "theyd", "they'd", "theyd've", "they'd've", "they'dve", "they'd've",
      "theyll", "they'll", "theyre", "they're", "theyve", "they've", "twas", "'twas", "wasnt", "wasn't",
      "wed've", "we'd've", "we'dve", "we'd've", "weve", "we've", "werent", "weren't", "whatll", "what'll",
      "whatre", "what're", "whats", "what's", "whatve", "what've", "whens", "when's", "whered", "where'd",
      "wheres", "where's", "whereve", "where've", "whod", "who'd", "whod've", "who'd've", "who'dve", "who'd've",
      "wholl", "who'll", "whos", "who's", "whove", "who've", "whyll", "why'll", "whyre", "why're",
      "whys", "why's", "wont", "won't", "wouldve", "would've", "wouldnt", "wouldn't", "wouldnt've", "wouldn't've",
      "wouldn'tve", "wouldn't've", "yall", "y'all", "yall'll", "y'all'll", "y'allll", "y'all'll",
      "yall'd've", "y'all'd've", "y'alld've", "y'all'd've", "y'all'dve", "y'all'd've", "youd", "you'd",
      "youd've", "you'd've", "you'dve", "you'd've", "youll", "you'll", "youre", "you're", "youve", "you've");

  /**
   * The reference's period regex is {@code (?!<=\d)(\.)(?!\d)}. Its first group looks like a lookbehind
   * but is a negative <em>lookahead</em> for the two characters {@code <=} followed by a digit; at a
   * period the text ahead starts with {@code .}, so it always succeeds. What is left is "a period not
   * followed by a digit": {@code 3.5} and {@code .5} keep theirs, {@code end.}, {@code 5.} and {@code
   * 3.x} lose theirs.
   */
  private static final Pattern PERIOD_STRIP = Pattern.compile("\\.(?!\\d)", Pattern.UNICODE_CHARACTER_CLASS);

  /** A digit, one or more commas, a digit (the reference's {@code (?<=\d)(\,)+(?=\d)}). */
  private static final Pattern DIGIT_COMMA_DIGIT = Pattern.compile("(?<=\\d),+(?=\\d)", Pattern.UNICODE_CHARACTER_CLASS);

  /**
   * The reference calls {@code PERIOD_STRIP.sub("", text, re.UNICODE)}; the third positional argument of
   * a compiled pattern's {@code sub} is the replacement <em>count</em>, and {@code re.UNICODE} is 32, so
   * only the first 32 matching periods are deleted.
   */
  static final int PERIOD_STRIP_COUNT = 32;

  /** The full normalization: the four steps of the class comment, in order. */
  public static String normalize(String answer) {
    String s = wordTokenize(answer);
    s = strip(s.replace('\n', ' ').replace('\t', ' '));
    s = processPunctuation(s);
    return processDigitArticle(s);
  }

  /** Step 1: lowercase, delete {@code ,} and {@code ?}, {@code 's} becomes {@code  's}, strip. */
  public static String wordTokenize(String word) {
    String s = word.toLowerCase(Locale.ROOT);
    s = s.replace(",", "").replace("?", "").replace("'s", " 's");
    return strip(s);
  }

  /**
   * Step 3. For each {@link #PUNCTUATION} character p, in order: if the <em>input</em> of this step (not
   * the text as already changed for earlier characters) contains p followed by a space or a space
   * followed by p, or contains a digit-comma-digit pattern anywhere, every p is deleted; otherwise
   * every p becomes a space. Then the first 32 periods that are not followed by a digit are deleted.
   */
  public static String processPunctuation(String in) {
    boolean digitCommaDigit = DIGIT_COMMA_DIGIT.matcher(in).find();
    String out = in;
    for (String p : PUNCTUATION) {
      boolean nextToSpace = in.contains(p + " ") || in.contains(" " + p);
      out = out.replace(p, nextToSpace || digitCommaDigit ? "" : " ");
    }
    return stripPeriods(out);
  }

  /**
   * Step 4: lowercase, split on whitespace, map {@link #NUMBERS}, drop {@link #ARTICLES}, then replace
   * each remaining word found in {@link #CONTRACTIONS}; join with single spaces.
   */
  public static String processDigitArticle(String in) {
    List<String> words = new ArrayList<>();
    for (String w : split(in.toLowerCase(Locale.ROOT))) {
      String word = NUMBERS.getOrDefault(w, w);
      if (!ARTICLES.contains(word)) {
        words.add(word);
      }
    }
    words.replaceAll(w -> CONTRACTIONS.getOrDefault(w, w));
    return String.join(" ", words);
  }

  private static String stripPeriods(String s) {
    Matcher m = PERIOD_STRIP.matcher(s);
    StringBuilder out = new StringBuilder(s.length());
    int n = 0;
    while (n < PERIOD_STRIP_COUNT && m.find()) {
      m.appendReplacement(out, "");
      n++;
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Python's {@code str.isspace()} for one char (every such character is in the BMP). */
  static boolean isSpace(char c) {
    return switch (c) {
      case '\t', '\n', '\u000B', '\f', '\r', '\u001C', '\u001D', '\u001E', '\u001F', ' ', '\u0085', '\u00A0',
          '\u1680', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000' -> true;
      default -> c >= '\u2000' && c <= '\u200A';
    };
  }

  /** Python's {@code str.strip()} with no argument. */
  static String strip(String s) {
    int from = 0;
    int to = s.length();
    while (from < to && isSpace(s.charAt(from))) {
      from++;
    }
    while (to > from && isSpace(s.charAt(to - 1))) {
      to--;
    }
    return s.substring(from, to);
  }

  /** Python's {@code str.split()} with no argument: runs of whitespace separate, no empty words. */
  static List<String> split(String s) {
    List<String> words = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && isSpace(s.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && !isSpace(s.charAt(i))) {
        i++;
      }
      if (i > start) {
        words.add(s.substring(start, i));
      }
    }
    return words;
  }

  private static Map<String, String> contractions(String... pairs) {
    var map = new LinkedHashMap<String, String>();
    for (int i = 0; i < pairs.length; i += 2) {
      if (map.put(pairs[i], pairs[i + 1]) != null) {
        throw new IllegalStateException("contraction " + pairs[i] + " listed twice");
      }
    }
    return Collections.unmodifiableMap(map);
  }
}
