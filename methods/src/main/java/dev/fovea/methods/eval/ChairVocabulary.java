package dev.fovea.methods.eval;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * CHAIR's object words and how a caption's object mentions are found, as CHAIR's {@code chair.py}
 * (Rohrbach et al. 2018, {@code LisaAnne/Hallucination} {@code utils/chair.py}, and the standalone copy
 * with recall that the LVLM papers run) computes them.
 *
 * <p><b>The synonyms file</b> ({@code data/synonyms.txt} of that repository, or fovea's own list,
 * {@link #defaults()}): one line per object, stripped of white space at its ends and cut at every
 * {@code ", "} (comma and one space, exactly: an entry written after two spaces keeps a leading space
 * and never matches, as in the reference); the first entry is the object's <em>node word</em>, every
 * entry names it. A word on two lines belongs to the later one. fovea also skips blank lines and lines
 * starting with {@code #}.
 *
 * <p><b>A caption's mentions</b> ({@link #mentions}):
 *
 * <ol>
 *   <li>lowercase, cut into words as NLTK's {@code word_tokenize} does ({@link WordTokenizer});
 *   <li>each word made singular ({@link Singularizer}: {@code dogs} to {@code dog}, but also {@code bus}
 *       to {@code bu});
 *   <li>left to right, a word and the next one that form one of {@code chair.py}'s two-word entries are
 *       replaced by what that entry stands for, and both words are consumed: the compound objects
 *       ({@code hot dog}, {@code teddy bear}, {@code traffic light}, {@code cell phone}...: themselves),
 *       qualifiers that are not people ({@code baby elephant}, {@code adult bird}: the animal; {@code
 *       passenger train}: the train), {@code bow tie} (tie), {@code toilet seat} (toilet), {@code wine
 *       glas} (wine glass), and {@code home plate} and {@code train track} (themselves: no object);
 *   <li>if the words hold both {@code toilet} and {@code seat}, every {@code seat} is dropped ("the seat of
 *       the toilet" is not a chair);
 *   <li>every remaining word that the synonyms name is a mention of its node word; repeats count.
 * </ol>
 *
 * Only the listed two-word entries are ever formed: a two-word line of the synonyms file that is not
 * one of them ({@code police car}) can never match, as in the reference.
 */
public final class ChairVocabulary {
  /**
   * One object word found in a caption.
   *
   * @param word the caption's word after steps 1 to 3 ({@code dog}, {@code teddy bear})
   * @param category its node word, the first entry of its line ({@code dog}, {@code person})
   * @param index the position of the word in the caption after step 3
   */
  public record Mention(String word, String category, int index) {}

  /** {@code chair.py}'s two-word entries and what each stands for. */
  static final Map<String, String> DOUBLE_WORDS;

  static {
    Map<String, String> d = new HashMap<>();
    for (String w : List.of("motor bike", "motor cycle", "air plane", "traffic light", "street light", "traffic signal", "stop light",
        "fire hydrant", "stop sign", "parking meter", "suit case", "sports ball", "baseball bat", "baseball glove", "tennis racket", "wine glass",
        "hot dog", "cell phone", "mobile phone", "teddy bear", "hair drier", "potted plant", "bow tie", "laptop computer", "stove top oven",
        "home plate", "train track")) {
      d.put(w, w);
    }
    for (String animal : List.of("bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "animal", "cub")) {
      d.put("baby " + animal, animal);
      d.put("adult " + animal, animal);
    }
    for (String vehicle : List.of("jet", "train")) {
      d.put("passenger " + vehicle, vehicle);
    }
    d.put("bow tie", "tie");
    d.put("toilet seat", "toilet");
    d.put("wine glas", "wine glass");
    DOUBLE_WORDS = Collections.unmodifiableMap(d);
  }

  private final Map<String, String> nodeOf; // every entry -> its line's first entry
  private final Set<String> categories;

  private ChairVocabulary(Map<String, String> nodeOf, Set<String> categories) {
    this.nodeOf = nodeOf;
    this.categories = Collections.unmodifiableSet(categories);
  }

  /** fovea's own list ({@code chair-synonyms.txt} beside this class: the 80 COCO categories, written for fovea). */
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
   * @throws EvalDataException naming the file when it has no object line
   */
  public static ChairVocabulary load(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** The text of a synonyms file; {@code source} names it in errors. */
  static ChairVocabulary parse(String text, String source) {
    Map<String, String> nodeOf = new HashMap<>();
    Set<String> categories = new LinkedHashSet<>();
    String[] lines = text.split("\r\n|\r|\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = (i == 0 && lines[i].startsWith("\uFEFF") ? lines[i].substring(1) : lines[i]).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] entries = line.split(", ", -1);
      for (String entry : entries) {
        nodeOf.put(entry, entries[0]);
      }
      categories.add(entries[0]);
    }
    if (categories.isEmpty()) {
      throw new EvalDataException(source, null, null, "no object lines (one line per object: node word, synonym, ...)");
    }
    return new ChairVocabulary(nodeOf, categories);
  }

  /** The node words, the first entries of the lines, in file order. */
  public Set<String> categories() {
    return categories;
  }

  /** The node word {@code word} names (an entry of the file, exactly), or null. */
  public String category(String word) {
    return nodeOf.get(word);
  }

  /** The caption's words after steps 1 to 4 of the class comment (the objects and everything else). */
  public static List<String> words(String caption) {
    List<String> singular = new ArrayList<>();
    for (String w : WordTokenizer.tokenize(caption.toLowerCase(Locale.ROOT))) {
      singular.add(Singularizer.singular(w));
    }
    List<String> words = new ArrayList<>();
    int i = 0;
    while (i < singular.size()) {
      String pair = i + 1 < singular.size() ? singular.get(i) + " " + singular.get(i + 1) : null;
      String replaced = pair == null ? null : DOUBLE_WORDS.get(pair);
      if (replaced != null) {
        words.add(replaced);
        i += 2;
      } else {
        words.add(singular.get(i));
        i += 1;
      }
    }
    if (words.contains("toilet") && words.contains("seat")) {
      words.removeIf("seat"::equals);
    }
    return words;
  }

  /** The object mentions of a caption, in caption order (see the class comment). */
  public List<Mention> mentions(String caption) {
    List<String> words = words(caption);
    List<Mention> out = new ArrayList<>();
    for (int i = 0; i < words.size(); i++) {
      String node = nodeOf.get(words.get(i));
      if (node != null) {
        out.add(new Mention(words.get(i), node, i));
      }
    }
    return out;
  }
}
