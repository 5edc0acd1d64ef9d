package dev.fovea.methods.eval;

import static dev.fovea.methods.eval.JsonlFile.forEachLine;
import static dev.fovea.methods.eval.JsonlFile.id;
import static dev.fovea.methods.eval.JsonlFile.kind;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.methods.eval.JsonlFile.Where;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * CHAIR on generated captions (Rohrbach et al. 2018; AVC's and AGLA's papers report it), as {@code
 * chair.py} computes it (the standalone copy with recall that the LVLM papers run): the object mentions
 * of each caption ({@link ChairVocabulary}: NLTK words, singular, two-word entries, node words) against
 * the image's ground-truth node words (its instance categories, {@link CocoObjects}, each mapped to the
 * node word of its synonyms line, plus what its reference captions mention when they are given). A
 * mention is hallucinated when its node word is not among them.
 *
 * <ul>
 *   <li>{@code CHAIR_s} = captions with at least one hallucinated mention / captions (every caption
 *       counts, those without object words too);
 *   <li>{@code CHAIR_i} = hallucinated mentions / all object mentions (each occurrence counts);
 *   <li>recall (coverage) = ground-truth node words mentioned / ground-truth node words, each image's
 *       counted once per caption of it, pooled over the captions.
 * </ul>
 *
 * All in percent ({@code chair.py} prints fractions); a denominator of 0 (no captions, no mentions, no
 * ground-truth objects) gives NaN where {@code chair.py} would divide by zero.
 */
public final class Chair {
  /** The longest caption line read, in characters (1 Mi). */
  public static final int MAX_LINE_CHARS = 1 << 20;

  private final ChairVocabulary vocabulary;
  private final CocoObjects truth;

  /**
   * @throws EvalDataException when a category of the annotation file is not a word of the vocabulary
   *     ({@code chair.py} fails there too: it looks every category name up in its synonyms)
   */
  public Chair(ChairVocabulary vocabulary, CocoObjects truth, String vocabularySource) {
    Set<String> unknown = new TreeSet<>();
    for (String c : truth.categories()) {
      if (vocabulary.category(c) == null) {
        unknown.add(c);
      }
    }
    if (!unknown.isEmpty()) {
      throw new EvalDataException(vocabularySource, null, null, "the annotation file's categories " + unknown
          + " are not words of this synonyms list; each COCO category name must be an entry of some line");
    }
    this.vocabulary = vocabulary;
    this.truth = truth;
  }

  /** The image's ground-truth node words (null when the annotation file does not list the image). */
  public Set<String> truthNodes(long imageId) {
    Set<String> objects = truth.objects(imageId);
    if (objects == null) {
      return null;
    }
    Set<String> nodes = new TreeSet<>();
    for (String o : objects) {
      String node = vocabulary.category(o);
      nodes.add(node == null ? o : node); // reference-caption objects are node words already
    }
    return nodes;
  }

  /** A caption to score: an image and the text generated for it, with where it was read. */
  public record Caption(long imageId, String text, String where) {}

  /**
   * Reads a JSONL file of captions: one object per line with {@code image_id} (a COCO image id: an
   * integer, or its digits as a string) and {@code caption}; other fields are ignored; an image may
   * have several captions. Each image must be in {@code truth}.
   *
   * @throws EvalDataException naming the file, line and field
   */
  public static List<Caption> readCaptions(Path jsonl, CocoObjects truth) throws IOException {
    String file = jsonl.toString();
    List<Caption> out = new ArrayList<>();
    forEachLine(jsonl, MAX_LINE_CHARS, null, (lineNo, node) -> {
      Where at = new Where(file, "line " + lineNo);
      String id = id(node, "image_id", at).orElseThrow(() -> at.fail("image_id", "missing"));
      long imageId;
      try {
        imageId = Long.parseLong(id);
      } catch (NumberFormatException e) {
        throw at.fail("image_id", "must be a COCO image id (an integer), found \"" + id + "\"");
      }
      JsonNode c = node.get("caption");
      if (c == null || c.isNull()) {
        throw at.fail("caption", "missing");
      }
      if (!c.isTextual()) {
        throw at.fail("caption", "must be a string, found " + kind(c));
      }
      if (truth.objects(imageId) == null) {
        throw at.fail("image_id", "image " + imageId + " is not in the annotation file");
      }
      out.add(new Caption(imageId, c.asText(), at.file() + ", " + at.location()));
    });
    return out;
  }

  /**
   * One caption's result.
   *
   * @param mentions its object mentions, in caption order
   * @param hallucinated the mentions whose category the image does not have
   * @param truth the image's ground-truth node words
   * @param covered those of them the caption mentions
   */
  public record Scored(Caption caption, List<ChairVocabulary.Mention> mentions, List<ChairVocabulary.Mention> hallucinated, Set<String> truth,
      Set<String> covered) {}

  /** Scores one caption of an image listed in the ground truth. */
  public Scored score(Caption caption) {
    Set<String> objects = Objects.requireNonNull(truthNodes(caption.imageId()), () -> "image " + caption.imageId() + " has no annotations");
    List<ChairVocabulary.Mention> mentions = vocabulary.mentions(caption.text());
    List<ChairVocabulary.Mention> hallucinated = new ArrayList<>();
    Set<String> covered = new LinkedHashSet<>();
    for (ChairVocabulary.Mention m : mentions) {
      if (objects.contains(m.category())) {
        covered.add(m.category());
      } else {
        hallucinated.add(m);
      }
    }
    return new Scored(caption, mentions, hallucinated, objects, covered);
  }

  /**
   * The pooled counts and scores of a set of captions.
   *
   * @param captions captions scored
   * @param hallucinatedCaptions those with a hallucinated mention
   * @param mentions object mentions
   * @param hallucinatedMentions mentions of objects the image does not have
   * @param truthObjects ground-truth objects, summed over the captions
   * @param coveredObjects those the captions mention
   */
  public record Summary(long captions, long hallucinatedCaptions, long mentions, long hallucinatedMentions, long truthObjects,
      long coveredObjects) {
    public static Summary of(List<Scored> scored) {
      long hc = 0;
      long m = 0;
      long hm = 0;
      long t = 0;
      long c = 0;
      for (Scored s : scored) {
        hc += s.hallucinated().isEmpty() ? 0 : 1;
        m += s.mentions().size();
        hm += s.hallucinated().size();
        t += s.truth().size();
        c += s.covered().size();
      }
      return new Summary(scored.size(), hc, m, hm, t, c);
    }

    /** Percent of captions with a hallucinated mention. */
    public double chairS() {
      return captions == 0 ? Double.NaN : 100.0 * hallucinatedCaptions / captions;
    }

    /** Percent of mentions that are hallucinated. */
    public double chairI() {
      return mentions == 0 ? Double.NaN : 100.0 * hallucinatedMentions / mentions;
    }

    /** Percent of ground-truth objects mentioned. */
    public double recall() {
      return truthObjects == 0 ? Double.NaN : 100.0 * coveredObjects / truthObjects;
    }

    /** An aligned table of the three scores and their counts. */
    public String toTable() {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"score", "value", "of"});
      rows.add(new String[] {"CHAIR_s", PopeMetrics.cell(chairS()), hallucinatedCaptions + " / " + captions + " captions"});
      rows.add(new String[] {"CHAIR_i", PopeMetrics.cell(chairI()), hallucinatedMentions + " / " + mentions + " object mentions"});
      rows.add(new String[] {"recall", PopeMetrics.cell(recall()), coveredObjects + " / " + truthObjects + " ground-truth objects"});
      return Tables.align(rows, true);
    }

    /** As JSON: counts, and the scores in percent (null when undefined). */
    public ObjectNode toJson() {
      ObjectNode o = JsonlFile.JSON.createObjectNode();
      o.put("captions", captions);
      o.put("hallucinated_captions", hallucinatedCaptions);
      o.put("mentions", mentions);
      o.put("hallucinated_mentions", hallucinatedMentions);
      o.put("truth_objects", truthObjects);
      o.put("covered_objects", coveredObjects);
      PopeMetrics.put(o, "chair_s", chairS());
      PopeMetrics.put(o, "chair_i", chairI());
      PopeMetrics.put(o, "recall", recall());
      return o;
    }
  }
}
