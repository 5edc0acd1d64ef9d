package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.methods.eval.MmeDataset.Subtask;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MME reader on the miniature benchmark folder (src/test/resources/mme) and acc / acc+ by hand. */
class MmeTest {
  @TempDir Path tmp;

  static Path root() {
    try {
      return Path.of(MmeTest.class.getResource("/mme/README.md").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void readsBothLayoutsInSubtaskOrder() throws Exception {
    List<YesNoItem> items = MmeDataset.read(root());
    assertEquals(10, items.size(), "5 images x 2 questions; not_a_subtask ignored");
    // existence, count, artwork, code_reasoning: the order of MmeDataset.Subtask
    assertEquals(List.of("existence", "existence", "existence", "existence", "count", "count", "artwork", "artwork", "code_reasoning",
        "code_reasoning"), items.stream().map(YesNoItem::split).toList());
    YesNoItem a2 = items.get(1);
    assertEquals("a.jpg#2", a2.id());
    assertEquals("existence/a.jpg", a2.image());
    assertEquals("Is there a dog in this image? Please answer yes or no.", a2.question());
    assertEquals(YesNo.NO, a2.label());
    assertEquals(YesNo.NO, items.get(3).label(), "the CRLF file's answer is No, not \"No\\r\"");
    YesNoItem art = items.get(6);
    assertEquals("artwork/images/x.jpg", art.image());
    assertTrue(Files.isRegularFile(art.imagePath()));
    assertEquals(2, MmeDataset.read(root(), EnumSet.of(Subtask.COUNT)).size());
    assertEquals(EnumSet.of(Subtask.EXISTENCE, Subtask.COUNT, Subtask.POSITION, Subtask.COLOR), Subtask.parseList("hallucination"));
    assertEquals(EnumSet.of(Subtask.OCR, Subtask.SCENE), Subtask.parseList("ocr, scene"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Subtask.parseList("existance")).getMessage().startsWith("unknown MME subtask \"existance\""));
  }

  /**
   * The answers, by (image, question number), and the scores by hand:
   * existence: a right, right; b right, wrong: acc 3/4 = 75, acc+ 1/2 = 50, score 125.
   * count: c "The answer is two" (other, wrong), right: acc 1/2 = 50, acc+ 0/1 = 0, score 50.
   * artwork: x right, right: 100 + 100 = 200.
   * code_reasoning: y "No" to yes (wrong), right: 50 + 0 = 50.
   * perception = 125 + 50 + 200 = 375 (3 of 10); cognition = 50 (1 of 4); hallucination = 125 + 50 = 175 (2 of 4).
   */
  @Test
  void accAndAccPlusByHand() throws Exception {
    Map<String, String> answers = Map.of(
        "a.jpg#1", "Yes", "a.jpg#2", "No",
        "b.png#1", "yes", "b.png#2", "Yes, it is.",
        "c.jpg#1", "The answer is two", "c.jpg#2", "no",
        "x.jpg#1", "Yes", "x.jpg#2", "No",
        "y.png#1", "No", "y.png#2", "No");
    List<YesNoItem> items = MmeDataset.read(root());
    Map<String, String> byPrompt = new java.util.HashMap<>();
    for (YesNoItem i : items) {
      byPrompt.put(i.question(), answers.get(i.id()));
    }
    ImageAnswerer fake = (image, prompt, seed) -> ImageAnswerer.Answer.of(byPrompt.get(prompt));
    MmeScores s;
    try (EvalJournal j = EvalJournal.open(tmp.resolve("mme.jsonl"), Journal.Run.of("none", "fake"))) {
      s = MmeScores.of(new YesNoEvaluation(fake, j, "none", PromptVariant.RAW, YesNoParser.MME, 55).run(items));
    }
    MmeScores.Row existence = s.subtasks().get(0);
    assertEquals(new MmeScores.Row("existence", 4, 3, 2, 1, 0), existence);
    assertEquals(75, existence.acc(), 1e-9);
    assertEquals(50, existence.accPlus(), 1e-9);
    assertEquals(125, existence.score(), 1e-9);
    MmeScores.Row count = s.subtasks().get(1);
    assertEquals(new MmeScores.Row("count", 2, 1, 1, 0, 1), count);
    assertEquals(50, count.score(), 1e-9);
    assertEquals(200, s.subtasks().get(2).score(), 1e-9);
    assertEquals(50, s.subtasks().get(3).score(), 1e-9);
    assertEquals(new MmeScores.Total(375, 3, 10), s.perception());
    assertEquals(new MmeScores.Total(50, 1, 4), s.cognition());
    assertEquals(new MmeScores.Total(175, 2, 4), s.hallucination());
    assertTrue(s.toTable().contains("hallucination (existence, count, position, color) (2 of 4 subtasks): 175.00"), s.toTable());
    assertEquals(50.0, s.toJson().get("subtasks").get("existence").get("acc_plus").asDouble());
  }

  @Test
  void badFilesGiveOneLineNamingFileAndLine() throws Exception {
    Path task = Files.createDirectories(tmp.resolve("mme/existence"));
    Files.write(task.resolve("a.jpg"), new byte[] {1});
    Files.writeString(task.resolve("a.txt"), "Is there a dog?\tYes\nIs there a cat? No\n");
    EvalDataException e = assertThrows(EvalDataException.class, () -> MmeDataset.read(tmp.resolve("mme")));
    assertEquals(task.resolve("a.txt") + ", line 2: expected question<TAB>answer, found no tab", e.getMessage());

    Files.writeString(task.resolve("a.txt"), "Is there a dog?\tYes\nIs there a cat?\tMaybe\n");
    e = assertThrows(EvalDataException.class, () -> MmeDataset.read(tmp.resolve("mme")));
    assertEquals(task.resolve("a.txt") + ", line 2: unknown label \"Maybe\"; a label is yes or no", e.getMessage());

    Files.writeString(task.resolve("a.txt"), "Is there a dog?\tYes\n");
    Files.writeString(task.resolve("b.txt"), "Is there a cat?\tNo\n");
    e = assertThrows(EvalDataException.class, () -> MmeDataset.read(tmp.resolve("mme")));
    assertEquals(task.resolve("b.txt") + ": no image b.jpg (or .png, .jpeg) in " + task, e.getMessage());

    Files.delete(task.resolve("b.txt"));
    Files.createDirectories(tmp.resolve("other/scenery"));
    e = assertThrows(EvalDataException.class, () -> MmeDataset.read(tmp.resolve("other")));
    assertTrue(e.getMessage().startsWith(tmp.resolve("other") + ": holds no MME subtask folder"), e.getMessage());
  }
}
