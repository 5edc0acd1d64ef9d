package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EvalRecord lines through the shared journal mechanics: round trip, keys per split, bad records, foreign files. */
class EvalJournalTest {
  @TempDir Path tmp;
  static final Journal.Run RUN = new Journal.Run("vcd", "llava", Map.of("benchmark", "pope"));

  static EvalRecord record(String split, String id, YesNo parsed, YesNo label) {
    ObjectNode extra = JsonlFile.JSON.createObjectNode().put("blind", "[3, 4]");
    return new EvalRecord(id, split, "a.jpg", "Is there a cat?", "Yes", parsed, label, "vcd", -7, Map.of("prefill", 2.0), extra);
  }

  @Test
  void recordsRoundTripKeyedBySplitAndId() throws Exception {
    Path f = tmp.resolve("out/r.jsonl");
    EvalRecord a = record("random", "1", YesNo.YES, YesNo.NO);
    EvalRecord b = record("popular", "1", YesNo.OTHER, YesNo.YES);
    EvalRecord caption = record("captions", "42", null, null);
    try (EvalJournal j = EvalJournal.open(f, RUN)) {
      j.append(a);
      j.append(b);
      j.append(caption);
      ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> j.append(record("random", "1", YesNo.NO, YesNo.NO)));
      assertEquals(f + ": item 1 of random already has a result", e.getMessage());
    }
    try (EvalJournal j = EvalJournal.open(f, RUN)) {
      assertEquals(List.of(a, b, caption).toString(), j.entries().toString());
      assertEquals(YesNo.OTHER, j.entry("popular", "1").orElseThrow().parsed());
      assertTrue(j.entry("random", "2").isEmpty());
      assertEquals("[3, 4]", j.entry("random", "1").orElseThrow().extra().get("blind").asText());
    }
    assertTrue(!Files.readAllLines(f).get(3).contains("parsed"), "no parsed/label fields for a caption");
  }

  @Test
  void aFileThatGotNoRecordIsNotLeftBehind() throws Exception {
    Path f = tmp.resolve("r.jsonl");
    try (EvalJournal j = EvalJournal.open(f, RUN)) {
      assertTrue(Files.size(f) > 0, "the header is written at once");
    }
    assertTrue(!Files.exists(f), "created here, nothing recorded: deleted");
    try (EvalJournal j = EvalJournal.open(f, RUN)) {
      j.append(record("random", "1", YesNo.YES, YesNo.YES));
    }
    try (EvalJournal j = EvalJournal.open(f, RUN)) {
      assertEquals(1, j.size());
    }
    assertEquals(2, Files.readAllLines(f).size(), "a file with records stays, resumed or not");
  }

  @Test
  void badRecordsAndForeignFilesAreRefusedByLine() throws Exception {
    Path f = tmp.resolve("r.jsonl");
    try (EvalJournal j = EvalJournal.open(f, RUN)) {
      j.append(record("random", "1", YesNo.YES, YesNo.YES));
    }
    String good = Files.readAllLines(f).get(1);
    Files.writeString(f, String.join("\n", Files.readAllLines(f).get(0), good.replace("\"label\":\"yes\"", "\"label\":\"other\""), good) + "\n");
    ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> EvalJournal.open(f, RUN));
    assertEquals(f + ", line 2, field \"label\": must be yes or no", e.getMessage());

    Path vqa = tmp.resolve("vqa.jsonl");
    try (ResultsJournal j = ResultsJournal.open(vqa, RUN)) {
      j.append(new ResultsJournal.Entry("q1", "yes", 1, SizeSplit.UNSPLIT, null));
    }
    e = assertThrows(ResultsJournalException.class, () -> EvalJournal.open(vqa, RUN));
    assertTrue(e.getMessage().startsWith(vqa + ", line 1: not a results journal of this kind (its first record has no \"fovea_eval_results\" field)"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new EvalRecord("1", "s", "i", "p", "a", null, YesNo.OTHER, "m", 0, null, null));
    ObjectNode reserved = JsonlFile.JSON.createObjectNode().put("seed", 3);
    assertThrows(IllegalArgumentException.class, () -> new EvalRecord("1", "s", "i", "p", "a", null, null, "m", 0, null, reserved));
    assertThrows(IllegalArgumentException.class, () -> new EvalRecord("1", "s", "i", "p", "a", null, null, "m", 0, Map.of("t", Double.NaN), null));
  }
}
