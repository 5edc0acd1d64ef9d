package dev.fovea.methods.eval;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * CHAIR's object vocabulary: which words name which COCO category, and how they are found in a caption
 * (Rohrbach et al. 2018, "Object Hallucination in Image Captioning"; the metric AVC's and AGLA's papers
 * report).
 *
 * <p><b>The file</b> is CHAIR's synonyms layout: one line per category, comma-separated, the COCO
 * category name first, then the words and phrases that name it ({@code dog, puppy, pup}); blank lines
 * and lines starting with {@code #} are skipped; a category may take several lines. {@link #defaults()}
 * is fovea's own list ({@code chair-synonyms.txt} beside this class), written from the 80 category names
 * and everyday English.
 *
 * <p><b>Matching</b> ({@link #mentions}): the caption is lowercased and cut into words at every
 * character that is not a letter or digit ({@code hot-dog} gives {@code hot dog}, {@code dog's} gives
 * {@code dog s}). Going left to right, the longest phrase of the vocabulary that starts at the current
 * word wins (so {@code teddy bear} is one teddy bear, not a bear, and {@code hot dog} no dog), and its
 * words are consumed. A phrase also matches when its last word is a regular plural of the listed one:
 * {@code -ies} for {@code -y}, {@code -es} or {@code -s} dropped, tried in that order ({@code puppies},
 * {@code benches}, {@code dogs}, {@code hot dogs}); irregular plurals are listed words ({@code people},
 * {@code knives}). Every occurrence is a mention: "a dog chasing a dog" mentions dog twice.
 */
public final class ChairVocabulary {
  /** One object word or phrase found in a caption. */
  public record Mention(String words, String category) {}

  private final Map<String, String> phrases; // "hot dog" -> "hot dog", "puppy" -> "dog"
  private final Set<String> categories;
  private final int longest; // words in the longest phrase

  private ChairVocabulary(Map<String, String> phrases, Set<String> categories) {
    this.phrases = phrases;
    this.categories = Collections.unmodifiableSet(categories);
    int n = 1;
    for (String p : phrases.keySet()) {
      n = Math.max(n, p.split(" ").length);
    }
    this.longest = n;
  }

  /** fovea's default list (see the class comment). */
  public static ChairVocabulary defaults() {
    String name = "chair-synonyms.txt";
    try (InputStream in = ChairVocabulary.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " missing from the methods jar");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "fovea's default CHAIR synonyms (" + name + ")");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A synonyms file (see the class comment).
   *
   * @throws EvalDataException naming the file and line of an empty entry or a word listed under two
   *     categories
   */
  public static ChairVocabulary load(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** The text of a synonyms file; {@code source} names it in errors. */
  static ChairVocabulary parse(String text, String source) {
    Map<String, String> phrases = new HashMap<>();
    Map<String, Integer> lineOf = new HashMap<>();
    Set<String> categories = new LinkedHashSet<>();
    String[] lines = text.split("\r\n|\r|\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = i == 0 && lines[i].startsWith("\uFEFF") ? lines[i].substring(1) : lines[i];
      int lineNo = i + 1;
      if (line.isBlank() || line.strip().startsWith("#")) {
        continue;
      }
      String[] entries = line.split(",", -1);
      String category = normalize(entries[0]);
      for (String entry : entries) {
        String phrase = normalize(entry);
        if (phrase.isEmpty()) {
          throw new EvalDataException(source, "line " + lineNo, null, "an empty entry (two commas in a row, or one at an end)");
        }
        String before = phrases.putIfAbsent(phrase, category);
        if (before != null && !before.equals(category)) {
          throw new EvalDataException(source, "line " + lineNo, null, "\"" + phrase + "\" is listed under " + before + " on line "
              + lineOf.get(phrase) + " and under " + category + " here; a word names one category");
        }
        lineOf.putIfAbsent(phrase, lineNo);
      }
      categories.add(category);
    }
    if (categories.isEmpty()) {
      throw new EvalDataException(source, null, null, "no categories (one line per category: name, synonym, ...)");
    }
    return new ChairVocabulary(phrases, categories);
  }

  /** This vocabulary with each of {@code names} as a phrase of its own category, where it has no line. */
  ChairVocabulary withCategories(Set<String> names) {
    Map<String, String> p = new HashMap<>(phrases);
    Set<String> c = new LinkedHashSet<>(categories);
    for (String name : names) {
      String n = normalize(name);
      p.putIfAbsent(n, n);
      c.add(n);
    }
    return new ChairVocabulary(p, c);
  }

  /** The category names, as the first entries of the lines give them (lowercased). */
  public Set<String> categories() {
    return categories;
  }

  /** The category {@code phrase} names (a listed word or phrase, normalized), or null. */
  public String category(String phrase) {
    return phrases.get(normalize(phrase));
  }

  /** The object mentions of a caption, in caption order (see the class comment). */
  public List<Mention> mentions(String caption) {
    String[] words = words(caption);
    List<Mention> out = new ArrayList<>();
    int i = 0;
    while (i < words.length) {
      int matched = 0;
      for (int n = Math.min(longest, words.length - i); n >= 1 && matched == 0; n--) {
        String head = n == 1 ? "" : String.join(" ", Arrays.copyOfRange(words, i, i + n - 1)) + " ";
        for (String last : forms(words[i + n - 1])) {
          String category = phrases.get(head + last);
          if (category != null) {
            out.add(new Mention(String.join(" ", Arrays.copyOfRange(words, i, i + n)), category));
            matched = n;
            break;
          }
        }
      }
      i += Math.max(1, matched);
    }
    return out;
  }

  /** The word itself, then its singulars by the regular rules: -ies to -y, -es dropped, -s dropped. */
  private static List<String> forms(String w) {
    List<String> f = new ArrayList<>(4);
    f.add(w);
    if (w.length() > 3 && w.endsWith("ies")) {
      f.add(w.substring(0, w.length() - 3) + "y");
    }
    if (w.length() > 2 && w.endsWith("es")) {
      f.add(w.substring(0, w.length() - 2));
    }
    if (w.length() > 1 && w.endsWith("s")) {
      f.add(w.substring(0, w.length() - 1));
    }
    return f;
  }

  /** Lowercased words: maximal runs of letters and digits. */
  static String[] words(String text) {
    String t = text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
    return t.isEmpty() ? new String[0] : t.split(" ");
  }

  /** A phrase as matching sees it: its words joined by single spaces. */
  static String normalize(String phrase) {
    return String.join(" ", words(phrase));
  }
}
