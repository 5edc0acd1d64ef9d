package dev.fovea.methods.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AMBER's scores (methods spec 4.5; AMBER's {@code inference.py}), all in percent.
 *
 * <p><b>Generative</b>, per description, then pooled over the descriptions:
 *
 * <ol>
 *   <li>the nouns: NLTK words of the description (case kept: the reference does not lowercase, so a
 *       capitalised word never matches), each taken as a noun when its noun lemma is a word of AMBER's
 *       vocabulary, the keys of relation.json and all their associated words ({@link #nouns}); repeats
 *       count;
 *   <li>a noun in safe_words.txt is neither hallucinated nor covering anything (it still counts as a noun);
 *   <li>a noun equal to one of the image's {@code truth} objects or to a word associated with one
 *       covers that object and is not hallucinated; the words are searched in the reference's order,
 *       the associations of each truth object first, then the truth objects, and the first equal word
 *       decides which object is covered (so a word listed twice covers only its first object, and a
 *       repeated truth object can be covered once only);
 *   <li>otherwise the noun is hallucinated; if it equals a {@code hallu} object or one of its
 *       associations (same order) it also covers that object for Cog.
 * </ol>
 *
 * {@code CHAIR} = hallucinated nouns / nouns; {@code Cover} = covered truth objects / truth objects;
 * {@code Hal} = descriptions with a hallucinated noun / descriptions; {@code Cog} = covered hallu
 * objects / hallu objects.
 *
 * <p><b>Discriminative</b> ({@code No} the positive class): accuracy, precision = right {@code No}s /
 * {@code No} answers, recall = right {@code No}s / {@code no} truths, F1 = 2 P R / (P + R); overall and
 * for existence, attribute (state, number, action) and relation. An answer the parser reads as neither
 * counts as wrong. <b>AMBER score</b> = (100 - CHAIR + F1) / 2 with the overall F1.
 *
 * <p><b>Deviations from {@code inference.py}</b>, stated in the README too:
 * <ul>
 *   <li>No part-of-speech tagger: NLTK's averaged perceptron tagger and WordNet are data this build
 *       cannot ship. A vocabulary word is taken as a noun wherever it occurs, except the words of
 *       {@link #NOUN_ONLY_AFTER_DETERMINER} (can, watch, light...), which count only right after a
 *       determiner, possessive or number ("a can", "his watch"). WordNet's lemma is replaced by the
 *       shortest of the word and its regular and irregular singulars that is a vocabulary word.
 *   <li>No spaCy word vectors: the reference also accepts a noun whose {@code en_core_web_lg} similarity
 *       to a truth (hallu) word exceeds 0.8; here only equal words match. CHAIR and Hal can therefore be
 *       higher, Cover and Cog lower than the reference's on the same descriptions.
 *   <li>Exact fractions: the reference adds 0.001 to every denominator, rounds each score to one decimal
 *       and computes F1 from the rounded P and R with 0.0001 added to P + R; the differences are below
 *       0.1 points.
 * </ul>
 */
public final class AmberScores {
  private AmberScores() {}

  /** Words that are nouns only after a determiner, possessive or number (see the class comment). */
  public static final Set<String> NOUN_ONLY_AFTER_DETERMINER = Set.of("can", "watch", "light", "hot", "support", "switch", "drink", "file", "ring",
      "note", "sound", "track", "board", "rock", "brush", "monitor", "bill", "stage", "star", "bar", "lock", "pad", "cream", "tie", "core", "range",
      "line", "sign", "orange", "fence", "net", "tape", "tank", "pot", "grill", "flag");

  private static final Set<String> DETERMINERS = Set.of("a", "an", "the", "this", "that", "these", "those", "its", "his", "her", "their", "my",
      "your", "our", "some", "any", "each", "every", "no", "another", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
      "several", "many", "few", "'s");

  /** WordNet's irregular noun plurals that land on AMBER's words (noun.exc); others go by the regular rules. */
  private static final Map<String, String> IRREGULAR = Map.ofEntries(Map.entry("men", "man"), Map.entry("women", "woman"),
      Map.entry("children", "child"), Map.entry("feet", "foot"), Map.entry("teeth", "tooth"), Map.entry("geese", "goose"), Map.entry("mice", "mouse"),
      Map.entry("oxen", "ox"), Map.entry("leaves", "leaf"), Map.entry("knives", "knife"), Map.entry("wolves", "wolf"), Map.entry("shelves", "shelf"),
      Map.entry("scarves", "scarf"), Map.entry("loaves", "loaf"), Map.entry("halves", "half"), Map.entry("calves", "calf"),
      Map.entry("tomatoes", "tomato"), Map.entry("potatoes", "potato"), Map.entry("snowmen", "snowman"), Map.entry("dice", "die"));

  /** WordNet's regular noun suffix rules (morphy). */
  private static final String[][] SUFFIXES = {{"s", ""}, {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"}, {"men", "man"},
      {"ies", "y"}};

  /** The vocabulary of a data set: relation.json's keys and all their associated words. */
  public static Set<String> vocabulary(Map<String, List<String>> association) {
    Set<String> v = new LinkedHashSet<>();
    association.forEach((k, words) -> {
      v.add(k);
      v.addAll(words);
    });
    return v;
  }

  /** The lemma of {@code word} among the vocabulary's words, or null when none of its forms is one. */
  static String lemma(String word, Set<String> vocabulary) {
    List<String> forms = new ArrayList<>();
    forms.add(word);
    String irregular = IRREGULAR.get(word);
    if (irregular != null) {
      forms.add(irregular);
    } else {
      for (String[] s : SUFFIXES) {
        if (word.endsWith(s[0]) && word.length() > s[0].length()) {
          forms.add(word.substring(0, word.length() - s[0].length()) + s[1]);
        }
      }
    }
    String best = null;
    for (String f : forms) {
      if (vocabulary.contains(f) && (best == null || f.length() < best.length())) {
        best = f;
      }
    }
    return best;
  }

  /** The nouns of a description (step 1 of the class comment), in order. */
  public static List<String> nouns(String description, Set<String> vocabulary) {
    List<String> words = WordTokenizer.tokenize(description);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < words.size(); i++) {
      String lemma = lemma(words.get(i), vocabulary);
      if (lemma == null) {
        continue;
      }
      if (NOUN_ONLY_AFTER_DETERMINER.contains(lemma)) {
        String before = i == 0 ? "" : words.get(i - 1).toLowerCase(java.util.Locale.ROOT);
        if (!DETERMINERS.contains(before)) {
          continue;
        }
      }
      out.add(lemma);
    }
    return out;
  }

  /**
   * One description's result.
   *
   * @param nouns its nouns (step 1)
   * @param hallucinated those hallucinated (step 4)
   * @param truthCovered for each truth object (in the annotation's order), whether it is covered
   * @param halluCovered for each hallu object, whether it is mentioned
   */
  public record Generative(List<String> nouns, List<String> hallucinated, boolean[] truthCovered, boolean[] halluCovered) {
    public int truthCoveredCount() {
      return count(truthCovered);
    }

    public int halluCoveredCount() {
      return count(halluCovered);
    }

    private static int count(boolean[] b) {
      int n = 0;
      for (boolean x : b) {
        n += x ? 1 : 0;
      }
      return n;
    }
  }

  /** Scores one description of an image with objects {@code truth} and hallucination-prone {@code hallu}. */
  public static Generative score(String description, List<String> truth, List<String> hallu, Map<String, List<String>> association,
      Set<String> safeWords) {
    Set<String> vocabulary = vocabulary(association);
    List<String> nouns = nouns(description, vocabulary);
    Searched safe = new Searched(truth, association);
    Searched prone = new Searched(hallu, association);
    List<String> hallucinated = new ArrayList<>();
    for (String noun : nouns) {
      if (safeWords.contains(noun)) {
        continue;
      }
      if (safe.cover(noun)) {
        continue;
      }
      prone.cover(noun);
      hallucinated.add(noun);
    }
    return new Generative(nouns, hallucinated, safe.covered, prone.covered);
  }

  /** The reference's search list: each object's associated words, in object order, then the objects; the first equal word wins. */
  private static final class Searched {
    private final Map<String, Integer> firstOwner = new HashMap<>(); // word -> object index it covers
    final boolean[] covered;

    Searched(List<String> objects, Map<String, List<String>> association) {
      covered = new boolean[objects.size()];
      for (int i = 0; i < objects.size(); i++) {
        for (String w : association.getOrDefault(objects.get(i), List.of())) {
          firstOwner.putIfAbsent(w, i);
        }
      }
      for (int i = 0; i < objects.size(); i++) {
        firstOwner.putIfAbsent(objects.get(i), i);
      }
    }

    /** Marks the object {@code word} covers; false when it covers none. */
    boolean cover(String word) {
      Integer i = firstOwner.get(word);
      if (i == null) {
        return false;
      }
      covered[i] = true;
      return true;
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The pooled scores of a run.
   *
   * @param descriptions generative answers scored
   * @param hallucinatedDescriptions those with a hallucinated noun
   * @param nouns nouns over all descriptions
   * @param hallucinatedNouns hallucinated nouns
   * @param truthObjects truth objects over all descriptions
   * @param coveredTruth those covered
   * @param halluObjects hallu objects over all descriptions
   * @param coveredHallu those mentioned
   * @param discriminative yes/no counts with "no" as the positive class (a {@link PopeMetrics} of the
   *     inverted answers: its tp are right Nos), per dimension name: all, existence, attribute,
   *     attribute-state, attribute-number, attribute-action, relation (those with questions)
   */
  public record Summary(long descriptions, long hallucinatedDescriptions, long nouns, long hallucinatedNouns, long truthObjects, long coveredTruth,
      long halluObjects, long coveredHallu, Map<String, PopeMetrics> discriminative) {
    public Summary {
      discriminative = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(discriminative));
    }

    public double chair() {
      return percent(hallucinatedNouns, nouns);
    }

    public double cover() {
      return percent(coveredTruth, truthObjects);
    }

    public double hal() {
      return percent(hallucinatedDescriptions, descriptions);
    }

    public double cog() {
      return percent(coveredHallu, halluObjects);
    }

    /** The overall discriminative counts ("no" positive), or null when there were no yes/no questions. */
    public PopeMetrics all() {
      return discriminative.get("all");
    }

    /** (100 - CHAIR + F1) / 2; NaN unless both halves were run. */
    public double amberScore() {
      PopeMetrics all = all();
      if (all == null || descriptions == 0) {
        return Double.NaN;
      }
      return (100 - chair() + all.f1()) / 2;
    }

    private static double percent(long num, long den) {
      return den == 0 ? Double.NaN : 100.0 * num / den;
    }

    /** An aligned table: the generative scores, the discriminative ones per dimension, the AMBER score. */
    public String toTable() {
      StringBuilder sb = new StringBuilder();
      if (descriptions > 0) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"generative", "value", "of"});
        rows.add(new String[] {"CHAIR", PopeMetrics.cell(chair()), hallucinatedNouns + " / " + nouns + " nouns"});
        rows.add(new String[] {"Cover", PopeMetrics.cell(cover()), coveredTruth + " / " + truthObjects + " truth objects"});
        rows.add(new String[] {"Hal", PopeMetrics.cell(hal()), hallucinatedDescriptions + " / " + descriptions + " descriptions"});
        rows.add(new String[] {"Cog", PopeMetrics.cell(cog()), coveredHallu + " / " + halluObjects + " hallucination-prone objects"});
        sb.append(Tables.align(rows, true));
      }
      if (!discriminative.isEmpty()) {
        if (!sb.isEmpty()) {
          sb.append('\n');
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"discriminative (No positive)", "count", "accuracy", "precision", "recall", "f1"});
        discriminative.forEach((name, m) -> rows.add(new String[] {name, Long.toString(m.count()), PopeMetrics.cell(m.accuracy()),
            PopeMetrics.cell(m.precision()), PopeMetrics.cell(m.recall()), PopeMetrics.cell(m.f1())}));
        sb.append(Tables.align(rows));
      }
      if (descriptions > 0 && all() != null) { // both halves run; "-" when F1 or CHAIR is undefined
        sb.append('\n').append("AMBER score (100 - CHAIR + F1) / 2: ").append(PopeMetrics.cell(amberScore())).append('\n');
      }
      return sb.toString();
    }

    /** As JSON: counts and scores (null when undefined). */
    public ObjectNode toJson() {
      ObjectNode o = JsonlFile.JSON.createObjectNode();
      if (descriptions > 0) {
        ObjectNode g = o.putObject("generative");
        g.put("descriptions", descriptions);
        g.put("hallucinated_descriptions", hallucinatedDescriptions);
        g.put("nouns", nouns);
        g.put("hallucinated_nouns", hallucinatedNouns);
        g.put("truth_objects", truthObjects);
        g.put("covered_truth", coveredTruth);
        g.put("hallu_objects", halluObjects);
        g.put("covered_hallu", coveredHallu);
        PopeMetrics.put(g, "chair", chair());
        PopeMetrics.put(g, "cover", cover());
        PopeMetrics.put(g, "hal", hal());
        PopeMetrics.put(g, "cog", cog());
      }
      if (!discriminative.isEmpty()) {
        ObjectNode d = o.putObject("discriminative");
        discriminative.forEach((name, m) -> {
          ObjectNode x = d.putObject(name);
          x.put("count", m.count());
          x.put("right_no", m.tp());
          x.put("wrong_no", m.fp());
          x.put("right_yes", m.tn());
          x.put("wrong_yes", m.fn());
          if (m.other() > 0) {
            x.put("other", m.other());
          }
          PopeMetrics.put(x, "accuracy", m.accuracy());
          PopeMetrics.put(x, "precision", m.precision());
          PopeMetrics.put(x, "recall", m.recall());
          PopeMetrics.put(x, "f1", m.f1());
        });
      }
      PopeMetrics.put(o, "amber_score", amberScore());
      return o;
    }
  }

  /** A yes/no answer with its label, for {@link #summary}. */
  public record Answer(AmberDataset.Kind kind, YesNo parsed, YesNo label) {}

  /**
   * The pooled scores of generative results and yes/no answers.
   *
   * @param generative one result per description
   * @param answers the yes/no answers
   */
  public static Summary summary(List<Generative> generative, List<Answer> answers) {
    long hd = 0;
    long n = 0;
    long hn = 0;
    long t = 0;
    long ct = 0;
    long h = 0;
    long ch = 0;
    for (Generative g : generative) {
      hd += g.hallucinated().isEmpty() ? 0 : 1;
      n += g.nouns().size();
      hn += g.hallucinated().size();
      t += g.truthCovered().length;
      ct += g.truthCoveredCount();
      h += g.halluCovered().length;
      ch += g.halluCoveredCount();
    }
    Map<String, PopeMetrics> d = new LinkedHashMap<>();
    if (!answers.isEmpty()) {
      for (String name : List.of("all", "existence", "attribute", "attribute-state", "attribute-number", "attribute-action", "relation")) {
        PopeMetrics m = PopeMetrics.EMPTY;
        for (Answer a : answers) {
          boolean in = switch (name) {
            case "all" -> true;
            case "attribute" -> a.kind().attribute();
            default -> a.kind().split.equals(name);
          };
          if (in) {
            m = m.add(invert(a.parsed()), invert(a.label()));
          }
        }
        if (m.count() > 0) {
          d.put(name, m);
        }
      }
    }
    return new Summary(generative.size(), hd, n, hn, t, ct, h, ch, d);
  }

  /** Yes and no swapped, so that {@link PopeMetrics}' positive class is "no". */
  static YesNo invert(YesNo v) {
    return switch (v) {
      case YES -> YesNo.NO;
      case NO -> YesNo.YES;
      case OTHER -> YesNo.OTHER;
    };
  }
}
