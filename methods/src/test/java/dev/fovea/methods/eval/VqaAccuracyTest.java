package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/** The leave-one-out VQA accuracy, on answer sets whose scores were worked out by hand. */
class VqaAccuracyTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 100);

  private static List<String> answers(Object... countsAndWords) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < countsAndWords.length; i += 2) {
      out.addAll(Collections.nCopies((Integer) countsAndWords[i], (String) countsAndWords[i + 1]));
    }
    return out;
  }

  @Test
  void noMatchScoresZero() {
    assertEquals(0.0, VqaAccuracy.score("blue", answers(10, "red")));
  }

  @Test
  void oneMatchScoresPointThree() {
    // "coca-cola" and "Coca Cola" both normalize to "coca cola"; 9 subsets keep the match: 9 * 1/3 / 10
    assertEquals(0.3, VqaAccuracy.score("Coca-Cola", answers(1, "coca cola", 9, "pepsi")));
  }

  @Test
  void twoMatchesScorePointSix() {
    // "two" and "2" match "2"; the spec's check: (2 * 1/3 + 8 * 2/3) / 10 = 18/30
    assertEquals(0.6, VqaAccuracy.score("2", answers(1, "two", 1, "2", 8, "3")));
    assertEquals((2 * (1 / 3.0) + 8 * (2 / 3.0)) / 10, VqaAccuracy.score("2", answers(1, "two", 1, "2", 8, "3")), 1e-15);
  }

  @Test
  void threeMatchesScorePointNine() {
    // "the end." -> "end"; "End" and "END." too: (3 * 2/3 + 7 * 3/3) / 10 = 27/30
    assertEquals(0.9, VqaAccuracy.score("the end.", answers(1, "end", 1, "End", 1, "END.", 7, "finish")));
  }

  @Test
  void fourOrMoreMatchesScoreOne() {
    // "dont" -> "don't": (4 * 3/3 + 6 * 3/3) / 10
    assertEquals(1.0, VqaAccuracy.score("dont", answers(2, "don't", 1, "dont", 1, "Dont", 6, "no")));
    assertEquals(1.0, VqaAccuracy.score("yes", answers(10, "yes")));
  }

  @Test
  void fewerThanTenAnswers() {
    assertEquals(0.0, VqaAccuracy.score("cat", List.of("cat"))); // the one subset is empty
    assertEquals(1 / 3.0, VqaAccuracy.score("cat", answers(2, "cat")), 1e-15); // 2 subsets of 1 match
    assertEquals(2 / 3.0, VqaAccuracy.score("cat", answers(3, "cat")), 1e-15); // 3 subsets of 2 matches
    assertEquals(1.0, VqaAccuracy.score("cat", answers(4, "cat")));
    // k = 1 of 5: four subsets keep the match: 4 * 1/3 / 5
    assertEquals(4 / 15.0, VqaAccuracy.score("cat", answers(1, "cat", 4, "dog")), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> VqaAccuracy.score("cat", List.of()));
  }

  @Test
  void leaveOneOutOfTenIsPointThreeK() {
    double[] expected = {0, 0.3, 0.6, 0.9, 1, 1, 1, 1, 1, 1, 1};
    for (int k = 0; k <= 10; k++) {
      assertEquals(expected[k], VqaAccuracy.leaveOneOut(k, 10), "k = " + k);
    }
  }

  /** The official definition, literally: drop each answer in turn, count matches, min(1, m / 3), mean. */
  private static double naiveLeaveOneOut(String prediction, List<String> answers) {
    String p = VqaAnswerProcessor.normalize(prediction);
    double sum = 0;
    for (int drop = 0; drop < answers.size(); drop++) {
      int m = 0;
      for (int i = 0; i < answers.size(); i++) {
        if (i != drop && VqaAnswerProcessor.normalize(answers.get(i)).equals(p)) {
          m++;
        }
      }
      sum += Math.min(1.0, m / 3.0);
    }
    return sum / answers.size();
  }

  private static final List<String> WORDS = List.of("yes", "Yes.", "no", "two", "2", "the cat", "cat", "dog");

  private static Gen<String> words() {
    return integers().between(0, WORDS.size() - 1).map(WORDS::get);
  }

  @Test
  void propertyTenAnswersGiveMinOfOneAndPointThreeK() {
    qt().withExamples(EXAMPLES)
        .forAll(words(), lists().of(words()).ofSize(10))
        .checkAssert((prediction, answers) -> {
          String p = VqaAnswerProcessor.normalize(prediction);
          long k = answers.stream().filter(a -> VqaAnswerProcessor.normalize(a).equals(p)).count();
          double score = VqaAccuracy.score(prediction, answers);
          assertEquals(Math.min(1.0, 0.3 * k), score, 1e-12, "k = " + k);
          assertEquals(naiveLeaveOneOut(prediction, answers), score, 1e-12);
        });
  }

  @Test
  void propertyAnyAnswerCountMatchesTheLiteralDefinition() {
    qt().withExamples(EXAMPLES)
        .forAll(words(), lists().of(words()).ofSizeBetween(1, 15))
        .checkAssert((prediction, answers) -> {
          double score = VqaAccuracy.score(prediction, answers);
          assertEquals(naiveLeaveOneOut(prediction, answers), score, 1e-12, answers.toString());
          assertTrue(score >= 0 && score <= 1);
        });
  }

  @Test
  void tallyMeansInPercentPerSplit() {
    VqaAccuracy.Tally t = new VqaAccuracy.Tally();
    assertTrue(Double.isNaN(t.accuracyPercent()));
    t.add(SizeSplit.SMALL, 1.0);
    t.add(SizeSplit.SMALL, 0.3);
    t.add(SizeSplit.LARGE, 0.6);
    assertEquals(3, t.count());
    assertEquals(2, t.count(SizeSplit.SMALL));
    assertEquals(0, t.count(SizeSplit.MEDIUM));
    assertEquals(65.0, t.accuracyPercent(SizeSplit.SMALL), 1e-9); // (100 + 30) / 2
    assertEquals(60.0, t.accuracyPercent(SizeSplit.LARGE), 1e-9);
    assertTrue(Double.isNaN(t.accuracyPercent(SizeSplit.MEDIUM)));
    assertEquals(190.0 / 3, t.accuracyPercent(), 1e-9);
    assertThrows(IllegalArgumentException.class, () -> t.add(SizeSplit.SMALL, 1.5));
  }
}
