package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POPE end to end without a model: ten hand-made answers through {@link YesNoEvaluation} under each
 * parser, the scores against counts done by hand, the results file, resuming, and the scores whose
 * denominator is 0.
 */
class PopeEvaluationTest {
  @TempDir Path tmp;

  /** (answer, label); the comment gives pope / vcd / avisc reading. */
  static final String[][] ANSWERS = {
      {"Yes, there is a dog.", "yes"}, // 1: yes / yes / yes
      {"No.", "yes"}, // 2: no / no / no
      {"NO", "no"}, // 3: yes (case) / no / no
      {"There is no cat in the image.", "no"}, // 4: no / no / no
      {"nothing", "no"}, // 5: yes / no (substring) / yes
      {"The image isn't showing a car", "no"}, // 6: yes / yes (no "no" in it) / no (n't)
      {"yes.", "yes"}, // 7: yes / yes / yes
      {"", "no"}, // 8: yes / yes / yes
      {"Yes. There is no dog.", "yes"}, // 9: yes (first sentence) / yes / no (no cut)
      {"I don't know", "no"}, // 10: yes / no ("know") / no (n't)
  };

  static List<YesNoItem> items() {
    List<YesNoItem> items = new ArrayList<>();
    for (int i = 0; i < ANSWERS.length; i++) {
      items.add(new YesNoItem("coco_pope_random", Integer.toString(i + 1), "img" + i + ".jpg", Path.of("img" + i + ".jpg"),
          "Is there a thing " + i + " in the image?", YesNo.parseLabel(ANSWERS[i][1])));
    }
    return items;
  }

  /** Answers item i with ANSWERS[i][0], wrapped in white space the evaluation must strip. */
  static ImageAnswerer fake(AtomicInteger calls) {
    return (image, prompt, seed) -> {
      calls.incrementAndGet();
      int i = Integer.parseInt(image.getFileName().toString().replaceAll("\\D", ""));
      return new ImageAnswerer.Answer("  " + ANSWERS[i][0] + "\n", Map.of("total", 1.5), Map.of("note", "n" + i));
    };
  }

  private PopeMetrics.Summary run(YesNoParser parser, Path out) throws Exception {
    try (EvalJournal j = EvalJournal.open(out, new Journal.Run("none", "fake", Map.of("parser", parser.cliName)))) {
      return PopeMetrics.Summary.of(new YesNoEvaluation(fake(new AtomicInteger()), j, "none", PromptVariant.VCD, parser, 42).run(items()));
    }
  }

  private static void scores(PopeMetrics m, long tp, long fp, long tn, long fn, double acc, double prec, double rec, double f1, double yes) {
    assertEquals(new PopeMetrics(tp, fp, tn, fn, 0), m);
    assertEquals(acc, m.accuracy(), 1e-9, "accuracy");
    assertEquals(prec, m.precision(), 1e-9, "precision");
    assertEquals(rec, m.recall(), 1e-9, "recall");
    assertEquals(f1, m.f1(), 1e-9, "f1");
    assertEquals(yes, m.yesRatio(), 1e-9, "yes-ratio");
  }

  @Test
  void popeParser() throws Exception {
    // TP = 1, 7, 9; FN = 2; FP = 3, 5, 6, 8, 10; TN = 4
    // acc 4/10; P 3/8; R 3/4; F1 = 2 (3/8)(3/4) / (9/8) = 1/2; yes 8/10
    scores(run(YesNoParser.POPE, tmp.resolve("pope.jsonl")).all(), 3, 5, 1, 1, 40, 37.5, 75, 50, 80);
  }

  @Test
  void vcdParser() throws Exception {
    // TP = 1, 7, 9; FN = 2; TN = 3, 4, 5, 10; FP = 6, 8
    // acc 7/10; P 3/5; R 3/4; F1 = 2 (3/5)(3/4) / (27/20) = 2/3; yes 5/10
    scores(run(YesNoParser.VCD, tmp.resolve("vcd.jsonl")).all(), 3, 2, 4, 1, 70, 60, 75, 200.0 / 3, 50);
  }

  @Test
  void aviscParser() throws Exception {
    // TP = 1, 7; FN = 2, 9; TN = 3, 4, 6, 10; FP = 5, 8
    // acc 6/10; P 2/4; R 2/4; F1 1/2; yes 4/10
    scores(run(YesNoParser.AVISC, tmp.resolve("avisc.jsonl")).all(), 2, 2, 4, 2, 60, 50, 50, 50, 40);
  }

  @Test
  void zeroDenominatorsAreUndefinedNotZero() {
    // two no answers to two no labels: nothing said yes, nothing was yes
    PopeMetrics noYes = new PopeMetrics(0, 0, 2, 0, 0);
    assertEquals(100, noYes.accuracy(), 1e-12);
    assertTrue(Double.isNaN(noYes.precision()), "TP + FP = 0");
    assertTrue(Double.isNaN(noYes.recall()), "TP + FN = 0");
    assertTrue(Double.isNaN(noYes.f1()));
    assertEquals(0, noYes.yesRatio(), 1e-12);
    // yes to two no labels: precision 0/2, recall 0/0
    PopeMetrics allWrongYes = new PopeMetrics(0, 2, 0, 0, 0);
    assertEquals(0, allWrongYes.precision(), 1e-12);
    assertTrue(Double.isNaN(allWrongYes.recall()));
    assertTrue(Double.isNaN(allWrongYes.f1()));
    // P = 0/1 and R = 0/1: both defined and 0, so F1 is 0, not 0/0
    assertEquals(0, new PopeMetrics(0, 1, 0, 1, 0).f1(), 1e-12);
    PopeMetrics empty = PopeMetrics.EMPTY;
    assertTrue(Double.isNaN(empty.accuracy()) && Double.isNaN(empty.yesRatio()));
    JsonNode j = noYes.toJson();
    assertTrue(j.get("precision").isNull() && j.get("f1").isNull(), j.toString());
    assertEquals(100.0, j.get("accuracy").asDouble());
    assertTrue(new PopeMetrics.Summary(0, 0, Map.of("s", noYes), noYes).toTable().contains("   -"), "undefined shows as -");
  }

  @Test
  void recordsSplitsAndResume() throws Exception {
    Path out = tmp.resolve("r.jsonl");
    AtomicInteger calls = new AtomicInteger();
    List<YesNoItem> items = new ArrayList<>(items());
    // a second split with a repeated id: ids are per split
    items.add(new YesNoItem("coco_pope_popular", "1", "img0.jpg", Path.of("img0.jpg"), "Is there a thing 0 in the image?", YesNo.YES));
    Journal.Run run = new Journal.Run("none", "fake", Map.of("parser", "pope"));
    try (EvalJournal j = EvalJournal.open(out, run)) {
      YesNoEvaluation.Outcome o = new YesNoEvaluation(fake(calls), j, "none", PromptVariant.VCD, YesNoParser.POPE, 42).limit(4).run(items);
      assertEquals(4, o.answered());
    }
    List<String> lines = Files.readAllLines(out);
    assertEquals(5, lines.size(), "header + 4 records");
    JsonNode r = JsonlFile.JSON.readTree(lines.get(3)); // item 3: "NO", label no
    assertEquals("3", r.get("id").asText());
    assertEquals("coco_pope_random", r.get("split").asText());
    assertEquals("img2.jpg", r.get("image").asText());
    assertEquals("Is there a thing 2 in the image? Please answer this question with one word.", r.get("prompt").asText());
    assertEquals("NO", r.get("answer").asText(), "stripped");
    assertEquals("yes", r.get("parsed").asText());
    assertEquals("no", r.get("label").asText());
    assertEquals("none", r.get("method").asText());
    assertEquals(42, r.get("seed").asLong());
    assertEquals(1.5, r.get("timings_ms").get("total").asDouble());
    assertEquals("n2", r.get("note").asText(), "extra fields kept");

    List<YesNoEvaluation.Progress> seen = new ArrayList<>();
    try (EvalJournal j = EvalJournal.open(out, run)) {
      YesNoEvaluation.Outcome o = new YesNoEvaluation(fake(calls), j, "none", PromptVariant.VCD, YesNoParser.POPE, 42).listener(seen::add).run(items);
      assertEquals(4, o.resumed());
      assertEquals(7, o.answered());
      assertEquals(11, calls.get(), "4 + 7 answers, none twice");
      PopeMetrics.Summary s = PopeMetrics.Summary.of(o);
      assertEquals(List.of("coco_pope_random", "coco_pope_popular"), List.copyOf(s.splits().keySet()));
      assertEquals(new PopeMetrics(3, 5, 1, 1, 0), s.splits().get("coco_pope_random"));
      assertEquals(new PopeMetrics(1, 0, 0, 0, 0), s.splits().get("coco_pope_popular")); // "Yes, there is a dog." to yes
      assertEquals(new PopeMetrics(4, 5, 1, 1, 0), s.all());
      assertTrue(s.toTable().lines().anyMatch(l -> l.startsWith("all ")), s.toTable());
      assertEquals(11, s.toJson().get("all").get("count").asInt());
    }
    YesNoEvaluation.Progress last = seen.get(seen.size() - 1);
    assertEquals(11, last.done());
    assertEquals(100.0 * 5 / 11, last.accuracyPercent(), 1e-9); // TP 4 + TN 1 right of 11
  }

  @Test
  void aResumedRecordThatDisagreesWithTheDataStopsTheRun() throws Exception {
    Path out = tmp.resolve("r.jsonl");
    Journal.Run run = new Journal.Run("none", "fake", Map.of());
    try (EvalJournal j = EvalJournal.open(out, run)) {
      new YesNoEvaluation(fake(new AtomicInteger()), j, "none", PromptVariant.VCD, YesNoParser.POPE, 42).limit(1).run(items());
    }
    List<YesNoItem> changed = new ArrayList<>(items());
    YesNoItem first = changed.get(0);
    changed.set(0, new YesNoItem(first.split(), first.id(), first.image(), first.imagePath(), first.question(), YesNo.NO));
    try (EvalJournal j = EvalJournal.open(out, run)) {
      EvaluationException e = assertThrows(EvaluationException.class,
          () -> new YesNoEvaluation(fake(new AtomicInteger()), j, "none", PromptVariant.VCD, YesNoParser.POPE, 42).run(changed));
      assertTrue(e.getMessage().contains("item 1 of coco_pope_random does not match the data (label yes there, no here)"), e.getMessage());
    }
  }

  @Test
  void aFailingAnswererStopsAtItsItemWithWholeRecordsBefore() throws Exception {
    Path out = tmp.resolve("r.jsonl");
    ImageAnswerer failing = (image, prompt, seed) -> {
      if (image.toString().equals("img2.jpg")) {
        throw new IllegalStateException("out of memory");
      }
      return ImageAnswerer.Answer.of("yes");
    };
    try (EvalJournal j = EvalJournal.open(out, Journal.Run.of("none", "fake"))) {
      EvaluationException e = assertThrows(EvaluationException.class,
          () -> new YesNoEvaluation(failing, j, "none", PromptVariant.RAW, YesNoParser.POPE, 1).run(items()));
      assertEquals("item 3 of coco_pope_random (image img2.jpg): out of memory", e.getMessage());
    }
    List<String> lines = Files.readAllLines(out);
    assertEquals(3, lines.size(), "header + items 1 and 2");
    for (String l : lines) {
      JsonlFile.JSON.readTree(l); // each one whole
    }
  }
}
