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
 * CHAIR on generated captions (Rohrbach et al. 2018; AVC's and AGLA's papers report it): the object
 * mentions of each caption ({@link ChairVocabulary}) against the image's ground-truth objects ({@link
 * CocoObjects}). A mention is hallucinated when its category is not among the image's objects.
 *
 * <ul>
 *   <li>{@code CHAIR_s} = captions with at least one hallucinated mention / captions;
 *   <li>{@code CHAIR_i} = hallucinated mentions / all object mentions (each occurrence counts);
 *   <li>recall (coverage) = ground-truth objects mentioned / ground-truth objects, each image's
 *       objects counted once per caption of it, pooled over the captions.
 * </ul>
 *
 * All in percent; a denominator of 0 (no captions, no mentions, no ground-truth objects) gives NaN.
 */
public final class Chair {
  /** The longest caption line read, in characters (1 Mi). */
  public static final int MAX_LINE_CHARS = 1 << 20;

  private final ChairVocabulary vocabulary;
  private final CocoObjects truth;

  /**
   * @throws EvalDataException when a category of the vocabulary is not one of the annotation file's
   *     (its names would never match); the file's categories without a line are matched by their name
   */
  public Chair(ChairVocabulary vocabulary, CocoObjects truth, String vocabularySource) {
    Set<String> unknown = new TreeSet<>(vocabulary.categories());
    unknown.removeAll(truth.categories());
    if (!unknown.isEmpty()) {
      throw new EvalDataException(vocabularySource, null, null, "categories " + unknown + " are not among the annotation file's "
          + truth.categories().size() + " categories; the first entry of each line must be a COCO category name");
    }
    this.vocabulary = vocabulary.withCategories(truth.categories());
    this.truth = truth;
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
   * @param truth the image's ground-truth categories
   * @param covered those of them the caption mentions
   */
  public record Scored(Caption caption, List<ChairVocabulary.Mention> mentions, List<ChairVocabulary.Mention> hallucinated, Set<String> truth,
      Set<String> covered) {}

  /** Scores one caption of an image listed in the ground truth. */
  public Scored score(Caption caption) {
    Set<String> objects = Objects.requireNonNull(truth.objects(caption.imageId()), () -> "image " + caption.imageId() + " has no annotations");
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
