package dev.fovea.llm.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Splits an input on its {@link AddedToken}s before the model sees it, after Hugging Face tokenizers'
 * {@code AddedVocabulary::extract_and_normalize} (src/tokenizer/added_vocabulary.rs):
 *
 * <ol>
 *   <li>tokens with {@code normalized} false are found in the raw input; the text between them
 *       stays for step 2;
 *   <li>each such text is normalized and tokens with {@code normalized} true are found in it (their
 *       content normalized the same way).
 * </ol>
 *
 * Finding follows {@code find_matches}: scan left to right, at the leftmost position where a
 * content starts take the longest one (Aho-Corasick, leftmost-longest); a {@code single_word} match
 * with a word character ({@code \w}, Unicode) just before or after it is dropped and the scan goes
 * on after it; {@code lstrip} extends the match over the whitespace ({@code \s}, Unicode) on its
 * left, not past the previous match; {@code rstrip} over the whitespace on its right.
 *
 * <p>Immutable; safe to share between threads.
 */
final class AddedVocabulary {
  /** A piece of the input: an added token, or text for the model ({@code token} null). */
  record Split(String text, AddedToken token, boolean atStart) {}

  private record Candidate(String pattern, AddedToken token) {}

  private static final Pattern WORD = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern SPACE = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Comparator<Candidate> LONGEST_FIRST = Comparator.comparingInt((Candidate c) -> c.pattern().length()).reversed();

  private final Map<Character, List<Candidate>> raw; // normalized == false, by first char, longest first
  private final Map<Character, List<Candidate>> normalized; // normalized == true, content normalized, the same
  private final UnaryOperator<String> normalizer;

  /** @param normalizer the model's normalization of text (identity when it has none) */
  AddedVocabulary(List<AddedToken> tokens, UnaryOperator<String> normalizer) {
    List<Candidate> r = new ArrayList<>();
    List<Candidate> n = new ArrayList<>();
    for (AddedToken t : tokens) {
      if (t.normalized()) {
        String p = normalizer.apply(t.content());
        if (!p.isEmpty()) {
          n.add(new Candidate(p, t));
        }
      } else {
        r.add(new Candidate(t.content(), t));
      }
    }
    this.raw = byFirstChar(r);
    this.normalized = byFirstChar(n);
    this.normalizer = normalizer;
  }

  private static Map<Character, List<Candidate>> byFirstChar(List<Candidate> candidates) {
    Map<Character, List<Candidate>> m = new HashMap<>();
    for (Candidate c : candidates) {
      m.computeIfAbsent(c.pattern().charAt(0), k -> new ArrayList<>()).add(c);
    }
    m.replaceAll((k, list) -> list.stream().sorted(LONGEST_FIRST).toList());
    return Map.copyOf(m);
  }

  boolean isEmpty() {
    return raw.isEmpty() && normalized.isEmpty();
  }

  /**
   * The input as added tokens and the text between them, in order; with {@code withSpecial} false
   * special tokens are not looked for (Hugging Face's {@code split_special_tokens=True}). Text
   * splits of step 2 come normalized.
   */
  List<Split> split(String text, boolean withSpecial) {
    List<Split> first = find(text, raw, withSpecial, true);
    if (normalized.isEmpty()) {
      return first;
    }
    List<Split> out = new ArrayList<>();
    for (Split s : first) {
      if (s.token() != null) {
        out.add(s);
      } else {
        out.addAll(find(normalizer.apply(s.text()), normalized, withSpecial, s.atStart()));
      }
    }
    return out;
  }

  private static List<Split> find(String s, Map<Character, List<Candidate>> candidates, boolean withSpecial, boolean atStart) {
    List<Split> out = new ArrayList<>();
    int from = 0; // end of the previous match
    int i = 0;
    while (i < s.length()) {
      Candidate m = longestAt(candidates, s, i, withSpecial);
      if (m == null) {
        i++;
        continue;
      }
      int start = i;
      int stop = i + m.pattern().length();
      AddedToken t = m.token();
      if (t.singleWord()) {
        boolean startOk = start == 0 || !matches(WORD, s.codePointBefore(start));
        boolean stopOk = stop == s.length() || !matches(WORD, s.codePointAt(stop));
        if (!startOk || !stopOk) {
          i = stop; // find_iter resumes after the discarded match
          continue;
        }
      }
      if (t.lstrip()) {
        while (start > from && matches(SPACE, s.codePointBefore(start))) {
          start -= Character.charCount(s.codePointBefore(start));
        }
      }
      if (t.rstrip()) {
        while (stop < s.length() && matches(SPACE, s.codePointAt(stop))) {
          stop += Character.charCount(s.codePointAt(stop));
        }
      }
      if (from < start) {
        out.add(new Split(s.substring(from, start), null, atStart && from == 0));
      }
      out.add(new Split(s.substring(start, stop), t, atStart && start == 0));
      from = stop;
      i = stop;
    }
    if (from < s.length() || out.isEmpty()) {
      out.add(new Split(s.substring(from), null, atStart && from == 0));
    }
    return out;
  }

  private static Candidate longestAt(Map<Character, List<Candidate>> candidates, String s, int i, boolean withSpecial) {
    for (Candidate c : candidates.getOrDefault(s.charAt(i), List.of())) {
      if ((withSpecial || !c.token().special()) && s.startsWith(c.pattern(), i)) {
        return c;
      }
    }
    return null;
  }

  private static boolean matches(Pattern p, int codePoint) {
    return p.matcher(Character.toString(codePoint)).matches();
  }
}
