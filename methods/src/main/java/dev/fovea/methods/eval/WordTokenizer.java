package dev.fovea.methods.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Words as NLTK's {@code word_tokenize} cuts them (NLTK 3.8), the tokenizer that CHAIR's {@code chair.py}
 * and AMBER's {@code inference.py} both call: the text is split into sentences, and each sentence goes
 * through the Penn Treebank rules of {@code NLTKWordTokenizer}:
 *
 * <ul>
 *   <li>opening quotes become {@code ``}, closing ones {@code ''};
 *   <li>{@code ,} and {@code :} are split off unless a digit follows ({@code 1,000} stays one word);
 *       {@code ; @ # $ % & ? ! *}, brackets and {@code --} always are; {@code ...} is a word;
 *   <li>the period that ends a sentence is split off, other periods stay ({@code e.g.});
 *   <li>clitics are split: {@code dog's} gives {@code dog 's}, {@code can't} gives {@code ca n't},
 *       {@code cannot} gives {@code can not}; a hyphen never splits ({@code hot-dog} is one word).
 * </ul>
 *
 * <p><b>Sentences.</b> {@code word_tokenize} first runs NLTK's trained English Punkt model, which is
 * data (not in NLTK's code) and is not available here. This class ends a sentence at {@code .}, {@code ?}
 * or {@code !} (with any closing quotes or brackets after it) followed by white space, which is what
 * Punkt does for every word that is not in its list of abbreviations; so {@code "a dog. a cat."} gives
 * {@code a dog . a cat .}. The difference from the trained model is confined to abbreviations ({@code
 * "mr. smith"} keeps {@code mr.} there, splits it here), none of which is an object word of CHAIR or AMBER.
 *
 * <p>Checked against NLTK's own {@code NLTKWordTokenizer} by {@code tools/reference/chair/make_chair_reference.py}.
 */
public final class WordTokenizer {
  private WordTokenizer() {}

  private record Rule(Pattern pattern, String replacement) {
    String apply(String text) {
      return pattern.matcher(text).replaceAll(replacement);
    }
  }

  private static Rule rule(String regex, String replacement) {
    return new Rule(Pattern.compile(regex), replacement);
  }

  private static final List<Rule> STARTING_QUOTES = List.of(
      rule("([«“‘„]|[`]+)", " $1 "),
      rule("^\"", "``"),
      rule("(``)", " $1 "),
      rule("([ (\\[{<])(\"|'{2})", "$1 `` "),
      rule("(?iU)(')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", "$1 $2"));

  private static final List<Rule> PUNCTUATION = List.of(
      rule("([^.])(\\.)([\\])}>\"'»”’ ]*)\\s*$", "$1 $2 $3 "),
      rule("([:,])([^\\d])", " $1 $2"),
      rule("([:,])$", " $1 "),
      rule("\\.{2,}", " $0 "),
      rule("[;@#$%&]", " $0 "),
      rule("([^.])(\\.)([\\])}>\"']*)\\s*$", "$1 $2$3 "),
      rule("[?!]", " $0 "),
      rule("([^'])' ", "$1 ' "),
      rule("[*]", " $0 "));

  private static final Rule PARENS_BRACKETS = rule("[\\]\\[(){}<>]", " $0 ");
  private static final Rule DOUBLE_DASHES = rule("--", " -- ");

  private static final List<Rule> ENDING_QUOTES = List.of(
      rule("([»”’])", " $1 "),
      rule("''", " '' "),
      rule("\"", " '' "),
      rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
      rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "));

  private static final List<Rule> CONTRACTIONS = List.of(
      rule("(?i)\\b(can)(not)\\b", " $1 $2 "),
      rule("(?i)\\b(d)('ye)\\b", " $1 $2 "),
      rule("(?i)\\b(gim)(me)\\b", " $1 $2 "),
      rule("(?i)\\b(gon)(na)\\b", " $1 $2 "),
      rule("(?i)\\b(got)(ta)\\b", " $1 $2 "),
      rule("(?i)\\b(lem)(me)\\b", " $1 $2 "),
      rule("(?i)\\b(more)('n)\\b", " $1 $2 "),
      rule("(?i)\\b(wan)(na)(?=\\s)", " $1 $2 "),
      rule("(?i) ('t)(is)\\b", " $1 $2 "),
      rule("(?i) ('t)(was)\\b", " $1 $2 "));

  /** The end of a sentence: {@code . ? !}, any closing quotes or brackets, then white space. */
  private static final Pattern SENTENCE_END = Pattern.compile("[.?!][\\])}>\"'”’»]*(?=\\s)");

  /** The words of {@code text}, in order (case kept: callers lowercase first where their reference does). */
  public static List<String> tokenize(String text) {
    List<String> words = new ArrayList<>();
    for (String sentence : sentences(text)) {
      for (String w : treebank(sentence).split("\\s+")) {
        if (!w.isEmpty()) {
          words.add(w);
        }
      }
    }
    return words;
  }

  /** The sentences of {@code text} (see the class comment), each stripped of white space around it. */
  static List<String> sentences(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = SENTENCE_END.matcher(text);
    int start = 0;
    while (m.find()) {
      add(out, text.substring(start, m.end()));
      start = m.end();
    }
    add(out, text.substring(start));
    return out;
  }

  private static void add(List<String> out, String sentence) {
    String s = sentence.strip();
    if (!s.isEmpty()) {
      out.add(s);
    }
  }

  /** One sentence through the Treebank rules, words separated by spaces. */
  static String treebank(String sentence) {
    String t = sentence;
    for (Rule r : STARTING_QUOTES) {
      t = r.apply(t);
    }
    for (Rule r : PUNCTUATION) {
      t = r.apply(t);
    }
    t = PARENS_BRACKETS.apply(t);
    t = DOUBLE_DASHES.apply(t);
    t = " " + t + " ";
    for (Rule r : ENDING_QUOTES) {
      t = r.apply(t);
    }
    for (Rule r : CONTRACTIONS) {
      t = r.apply(t);
    }
    return t;
  }
}
