package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop with a fake answerer: limits, resuming without redoing, the summary per split. */
class VqaEvaluationTest {
  @TempDir
  Path dir;

  static final ResultsJournal.Run RUN = ResultsJournal.Run.of("baseline", "fake");
  static final ImageSize IMAGE = new ImageSize(100, 100);

  /**
   * Seven questions on a 100 x 100 image; question i has k_i of its 10 answers equal to word_i, so
   * predicting word_i scores as the comment says (0.3 k, capped at 1).
   */
  static final List<VqaItem> ITEMS = List.of(
      item("q1", "red", 10, new BoundingBox(0, 0, 5, 5)), //       small (25 / 10,000),     k 10: 1.0
      item("q2", "blue", 1, new BoundingBox(10, 10, 15, 15)), //   small,                    k 1: 0.3
      item("q3", "green", 2, new BoundingBox(0, 0, 20, 20)), //    medium (400 / 10,000),    k 2: 0.6
      item("q4", "black", 0, new BoundingBox(50, 50, 70, 70)), //  medium,                   k 0: 0.0
      item("q5", "white", 3, new BoundingBox(0, 0, 50, 50)), //    large (2,500 / 10,000),   k 3: 0.9
      item("q6", "pink", 4, new BoundingBox(50, 50, 100, 100)), // large,                    k 4: 1.0
      item("q7", "gray", 2, null)); //                                unsplit,                  k 2: 0.6

  /** The predictions: each item's own word, written the way a model might. */
  static final Map<String, String> PREDICTIONS = Map.of("q1", "Red.", "q2", "blue", "q3", "the green", "q4", "black",
      "q5", "WHITE", "q6", "pink!", "q7", "gray");

  private static VqaItem item(String id, String word, int k, BoundingBox box) {
    List<String> answers = new ArrayList<>(Collections.nCopies(k, word));
    answers.addAll(Collections.nCopies(10 - k, "something else"));
    VqaItem item = VqaItem.of(id, id + ".jpg", "what colour?", answers);
    return box == null ? item : item.withBox(box, IMAGE);
  }

  /** Answers from {@link #PREDICTIONS}, counting the calls. */
  static class FakeModel implements VqaEvaluation.Answerer {
    final AtomicInteger calls = new AtomicInteger();
    final List<String> asked = new ArrayList<>();

    @Override
    public VqaEvaluation.Answer answer(VqaItem item) {
      calls.incrementAndGet();
      asked.add(item.questionId());
      return new VqaEvaluation.Answer(PREDICTIONS.get(item.questionId()), Map.of("call", calls.get(), "box", List.of(1, 2, 3, 4)));
    }
  }

  private ResultsJournal journal() throws IOException {
    return ResultsJournal.open(dir.resolve("results.jsonl"), RUN);
  }

  private static void assertSummaryOfAllSeven(VqaEvaluation.Summary s) {
    assertEquals(7, s.all().count());
    assertEquals(100 * 4.4 / 7, s.all().accuracyPercent(), 1e-9); // (1 + .3 + .6 + 0 + .9 + 1 + .6) / 7
    assertEquals(new VqaEvaluation.Row("small", 2, 65.0), round(s.split(SizeSplit.SMALL))); // (1 + .3) / 2
    assertEquals(new VqaEvaluation.Row("medium", 2, 30.0), round(s.split(SizeSplit.MEDIUM))); // (.6 + 0) / 2
    assertEquals(new VqaEvaluation.Row("large", 2, 95.0), round(s.split(SizeSplit.LARGE))); // (.9 + 1) / 2
    assertEquals(new VqaEvaluation.Row("unsplit", 1, 60.0), round(s.split(SizeSplit.UNSPLIT)));
  }

  private static VqaEvaluation.Row round(VqaEvaluation.Row r) {
    return new VqaEvaluation.Row(r.name(), r.count(), Math.round(r.accuracyPercent() * 1e9) / 1e9);
  }

  @Test
  void scoresEveryItemAndSummarisesPerSplit() throws IOException {
    FakeModel model = new FakeModel();
    VqaEvaluation.Summary s;
    try (ResultsJournal j = journal()) {
      s = new VqaEvaluation(model, j).run(ITEMS);
      assertEquals(7, j.size());
      assertEquals(0.9, j.entry("q5").orElseThrow().accuracy());
      assertEquals(SizeSplit.LARGE, j.entry("q5").orElseThrow().split());
    }
    assertEquals(7, model.calls.get());
    assertEquals(7, s.answered());
    assertEquals(0, s.resumed());
    assertSummaryOfAllSeven(s);
    assertEquals("""
        split      count  accuracy
        small          2     65.00
        medium         2     30.00
        large          2     95.00
        unsplit        1     60.00
        all            7     62.86
        crop hits  count   percent
        small          2     50.00
        medium         2      0.00
        large          2      0.00
        all            6     16.67
        """, s.toTable());
    // the fake crop [1, 2, 3, 4) holds q1's answer centre (2.5, 2.5) and no other; q7 has no answer box
    assertEquals(List.of(new VqaEvaluation.Row("small", 2, 50.0), new VqaEvaluation.Row("medium", 2, 0.0),
        new VqaEvaluation.Row("large", 2, 0.0), new VqaEvaluation.Row("all", 6, 100.0 / 6)), s.cropHits());
  }

  /** The crop-hit test: the answer box's centre inside the crop, x1/y1 inclusive, x2/y2 exclusive; nothing to say without either box. */
  @Test
  void cropHoldsTheAnswerCentre() {
    VqaItem boxed = item("b", "red", 10, new BoundingBox(10, 20, 30, 40)); // centre (20, 30)
    ObjectNode crop = VqaDataset.JSON.createObjectNode();
    crop.putArray("box").add(20).add(30).add(21).add(31);
    assertEquals(Boolean.TRUE, VqaEvaluation.cropHolds(boxed, crop));
    crop.putArray("box").add(0).add(0).add(20).add(100);
    assertEquals(Boolean.FALSE, VqaEvaluation.cropHolds(boxed, crop), "x2 is exclusive");
    crop.putArray("box").add(0).add(0).add(100).add(30);
    assertEquals(Boolean.FALSE, VqaEvaluation.cropHolds(boxed, crop), "y2 is exclusive");
    assertNull(VqaEvaluation.cropHolds(boxed, VqaDataset.JSON.createObjectNode()), "no crop");
    crop.putArray("box").add(0).add(0).add(100);
    assertNull(VqaEvaluation.cropHolds(boxed, crop), "not four numbers");
    assertNull(VqaEvaluation.cropHolds(item("u", "red", 10, null), crop), "no answer box");
  }

  @Test
  void aLimitThenACrashThenAResumeAnswerEachQuestionOnce() throws IOException {
    FakeModel first = new FakeModel();
    try (ResultsJournal j = journal()) {
      VqaEvaluation.Summary s = new VqaEvaluation(first, j).limit(3).run(ITEMS);
      assertEquals(3, s.all().count());
      assertEquals(100 * 1.9 / 3, s.all().accuracyPercent(), 1e-9); // 1 + .3 + .6
    }
    assertEquals(List.of("q1", "q2", "q3"), first.asked);

    // a second run dies at q5, after recording q4
    FakeModel crashing = new FakeModel() {
      @Override
      public VqaEvaluation.Answer answer(VqaItem item) {
        if (item.questionId().equals("q5")) {
          throw new IllegalStateException("out of memory, say");
        }
        return super.answer(item);
      }
    };
    try (ResultsJournal j = journal()) {
      EvaluationException e = assertThrows(EvaluationException.class, () -> new VqaEvaluation(crashing, j).run(ITEMS));
      assertEquals("q5", e.questionId());
      assertEquals("question q5 (image q5.jpg): out of memory, say", e.getMessage());
      assertTrue(e.getCause() instanceof IllegalStateException);
      assertEquals(4, j.size());
    }
    assertEquals(List.of("q4"), crashing.asked);

    // the resumed run asks only the three questions left, and counts all seven
    FakeModel resumed = new FakeModel();
    List<VqaEvaluation.Progress> progress = new ArrayList<>();
    try (ResultsJournal j = journal()) {
      VqaEvaluation.Summary s = new VqaEvaluation(resumed, j).listener(progress::add).run(ITEMS);
      assertEquals(3, s.answered());
      assertEquals(4, s.resumed());
      assertSummaryOfAllSeven(s);
      assertEquals(7, j.size());
    }
    assertEquals(List.of("q5", "q6", "q7"), resumed.asked);
    assertEquals(7, progress.size());
    for (int i = 0; i < 7; i++) {
      VqaEvaluation.Progress p = progress.get(i);
      assertEquals(i + 1, p.done());
      assertEquals(7, p.total());
      assertEquals(i < 4, p.fromJournal());
      assertSame(ITEMS.get(i), p.item());
    }
    assertEquals(100 * 4.4 / 7, progress.get(6).accuracyPercent(), 1e-9);
    assertEquals(100 * 1.9 / 4, progress.get(3).accuracyPercent(), 1e-9); // 1 + .3 + .6 + 0
  }

  @Test
  void extraFieldsReachTheJournal() throws IOException {
    try (ResultsJournal j = journal()) {
      new VqaEvaluation(new FakeModel(), j).limit(2).run(ITEMS);
    }
    try (ResultsJournal j = journal()) {
      JsonNode extra = j.entry("q2").orElseThrow().extra();
      assertEquals(2, extra.get("call").asInt());
      assertEquals("[1,2,3,4]", extra.get("box").toString());
      assertEquals("blue", j.entry("q2").orElseThrow().prediction());
    }
  }

  @Test
  void iterablesWithoutASizeAndTheTotalOption() throws IOException {
    Iterable<VqaItem> stream = () -> ITEMS.iterator();
    List<Long> totals = new ArrayList<>();
    try (ResultsJournal j = journal()) {
      new VqaEvaluation(new FakeModel(), j).limit(2).listener(p -> totals.add(p.total())).run(stream);
      new VqaEvaluation(new FakeModel(), j).total(7).limit(3).listener(p -> totals.add(p.total())).run(ITEMS.stream());
      new VqaEvaluation(new FakeModel(), j).limit(3).listener(p -> totals.add(p.total())).run(ITEMS);
    }
    assertEquals(List.of(-1L, -1L, 3L, 3L, 3L, 3L, 3L, 3L), totals);
  }

  @Test
  void emptyRunsAndTheJsonRendering() throws IOException {
    try (ResultsJournal j = journal()) {
      VqaEvaluation.Summary none = new VqaEvaluation(new FakeModel(), j).limit(0).run(ITEMS);
      assertEquals(0, none.all().count());
      assertTrue(none.toTable().contains("all          0         -"), none.toTable());
      VqaEvaluation.Summary one = new VqaEvaluation(new FakeModel(), j).limit(1).run(ITEMS);
      JsonNode json = VqaDataset.JSON.readTree(one.toJsonString());
      assertEquals(1, json.get("answered").asInt());
      assertEquals(0, json.get("resumed").asInt());
      assertEquals(1, json.get("all").get("count").asInt());
      assertEquals(100.0, json.get("all").get("accuracy").asDouble());
      assertEquals(100.0, json.get("splits").get("small").get("accuracy").asDouble());
      assertEquals(0, json.get("splits").get("large").get("count").asInt());
      assertTrue(json.get("splits").get("large").get("accuracy").isNull());
      assertEquals(List.of("small", "medium", "large", "unsplit"),
          json.get("splits").properties().stream().map(Map.Entry::getKey).toList());
    }
  }

  @Test
  void badInputsStopTheLoopWithTheQuestionNamed() throws IOException {
    try (ResultsJournal j = journal()) {
      List<VqaItem> twice = List.of(ITEMS.get(0), ITEMS.get(1), ITEMS.get(0));
      EvaluationException e = assertThrows(EvaluationException.class, () -> new VqaEvaluation(new FakeModel(), j).run(twice));
      assertTrue(e.getMessage().contains("q1 occurs twice"), e.getMessage());

      VqaEvaluation.Answerer reserved = item -> new VqaEvaluation.Answer("x", Map.of("accuracy", 1));
      e = assertThrows(EvaluationException.class, () -> new VqaEvaluation(reserved, j).run(ITEMS.subList(2, 3)));
      assertEquals("q3", e.questionId());
      assertTrue(e.getMessage().contains("reserved"), e.getMessage());

      VqaEvaluation.Answerer nothing = item -> null;
      e = assertThrows(EvaluationException.class, () -> new VqaEvaluation(nothing, j).run(ITEMS.subList(3, 4)));
      assertTrue(e.getMessage().contains("no answer"), e.getMessage());
      assertFalse(j.isDone("q3"));
      assertFalse(j.isDone("q4"));
      assertThrows(IllegalArgumentException.class, () -> new VqaEvaluation(nothing, j).limit(-1));
    }
  }
}
