package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsJournalTest {
  @TempDir
  Path dir;

  static final ResultsJournal.Run REL_ATT = new ResultsJournal.Run("rel-att", "llava-1.5-7b", Map.of("layer", "14"));

  private static ResultsJournal.Entry entry(int i) {
    ObjectNode extra = VqaDataset.JSON.createObjectNode();
    extra.put("seconds", 1.5 + i);
    extra.putArray("box").add(i).add(2).add(30).add(40);
    return new ResultsJournal.Entry("q" + i, "answer " + i, new double[] {0, 0.3, 0.6, 0.9}[i % 4],
        SizeSplit.values()[i % 4], extra);
  }

  private static void appendBytes(Path file, String text) throws IOException {
    Files.write(file, text.getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
  }

  private Path journalWith(int n) throws IOException {
    return journalWith("results.jsonl", n);
  }

  private Path journalWith(String name, int n) throws IOException {
    Path file = dir.resolve(name);
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      for (int i = 0; i < n; i++) {
        j.append(entry(i));
      }
    }
    return file;
  }

  @Test
  void writesAHeaderAndReadsBackWhatItAppended() throws IOException {
    Path file = journalWith(5);
    List<String> lines = Files.readAllLines(file);
    assertEquals(6, lines.size());
    assertTrue(lines.get(0).startsWith("{\"fovea_vqa_results\":1,\"method\":\"rel-att\",\"model\":\"llava-1.5-7b\","
        + "\"settings\":{\"layer\":\"14\"},\"created\":"), lines.get(0));
    assertEquals("{\"question_id\":\"q1\",\"prediction\":\"answer 1\",\"accuracy\":0.3,\"split\":\"medium\","
        + "\"seconds\":2.5,\"box\":[1,2,30,40]}", lines.get(2));
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(5, j.size());
      assertFalse(j.droppedTail());
      for (int i = 0; i < 5; i++) {
        assertTrue(j.isDone("q" + i));
        assertEquals(entry(i), j.entry("q" + i).orElseThrow());
      }
      assertFalse(j.isDone("q5"));
      assertEquals(REL_ATT, j.run());
    }
  }

  @Test
  void aHalfWrittenLastLineIsDroppedAndAppendingContinues() throws IOException {
    Path file = journalWith(4);
    byte[] complete = Files.readAllBytes(file);
    appendBytes(file, "{\"question_id\":\"q4\",\"predi"); // killed in the middle of a write
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(4, j.size());
      assertTrue(j.droppedTail());
      assertFalse(j.isDone("q4"));
      assertArrayEquals(complete, Files.readAllBytes(file)); // truncated back to the last complete line
      j.append(entry(4));
      j.append(entry(5));
    }
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(6, j.size());
      assertFalse(j.droppedTail());
      assertEquals(entry(5), j.entry("q5").orElseThrow());
    }
    assertEquals(7, Files.readAllLines(file).size());
  }

  @Test
  void aGarbledLastLineWithItsNewlineIsDroppedToo() throws IOException {
    Path file = journalWith(2);
    appendBytes(file, "\0\0\0\0\n"); // a power cut can leave zeros where the data should be
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(2, j.size());
      assertTrue(j.droppedTail());
    }
    assertEquals(3, Files.readAllLines(file).size());
  }

  @Test
  void aCompleteLastRecordWithoutItsNewlineIsKept() throws IOException {
    Path file = journalWith(2);
    appendBytes(file, "{\"question_id\":\"q2\",\"prediction\":\"x\",\"accuracy\":1.0,\"split\":\"unsplit\"}");
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(3, j.size());
      assertFalse(j.droppedTail());
      j.append(entry(3));
    }
    List<String> lines = Files.readAllLines(file);
    assertEquals(5, lines.size());
    assertTrue(lines.get(3).endsWith("\"split\":\"unsplit\"}"), lines.get(3));
    assertTrue(lines.get(4).startsWith("{\"question_id\":\"q3\""), lines.get(4));
  }

  @Test
  void aHalfWrittenHeaderStartsTheFileAfresh() throws IOException {
    Path file = dir.resolve("r.jsonl");
    Files.writeString(file, "{\"fovea_vqa_results\":1,\"meth");
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(0, j.size());
      assertTrue(j.droppedTail());
      j.append(entry(0));
    }
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(1, j.size());
    }
  }

  @Test
  void garbageBeforeTheLastLineIsAnErrorNamingTheLine() throws IOException {
    Path file = journalWith(3);
    List<String> lines = Files.readAllLines(file);
    lines.set(2, lines.get(2).substring(0, 20)); // line 3 of 4 cut short
    Files.write(file, lines);
    ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(file, REL_ATT));
    assertTrue(e.getMessage().startsWith(file + ", line 3: not valid JSON"), e.getMessage());
  }

  /**
   * Found by bench/fuzz.sh: a line whose first bytes Jackson takes for UTF-32 (00 00 00 7B) and cannot
   * decode was a raw CharConversionException; it is a bad line like any other.
   */
  @Test
  void aLineThatIsNotTextIsABadLine() throws IOException {
    Path file = journalWith(3);
    byte[] utf32 = {0, 0, 0, '{', 0x30, 0x2f, 0x30, 0x01, '\n'};
    byte[] all = Files.readAllBytes(file);
    int secondLine = new String(all, StandardCharsets.UTF_8).indexOf('\n') + 1;
    byte[] damaged = new byte[all.length + utf32.length];
    System.arraycopy(all, 0, damaged, 0, secondLine);
    System.arraycopy(utf32, 0, damaged, secondLine, utf32.length);
    System.arraycopy(all, secondLine, damaged, secondLine + utf32.length, all.length - secondLine);
    Files.write(file, damaged);
    ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(file, REL_ATT));
    assertTrue(e.getMessage().startsWith(file + ", line 2: not valid JSON: Invalid UTF-32 character"), e.getMessage());
    // as the last line it is a torn write, dropped
    Path last = journalWith("last.jsonl", 2);
    Files.write(last, utf32, StandardOpenOption.APPEND);
    try (ResultsJournal j = ResultsJournal.open(last, REL_ATT)) {
      assertEquals(2, j.size());
      assertTrue(j.droppedTail());
    }
  }

  @Test
  void aRecordWithABadFieldIsAnErrorNamingLineAndField() throws IOException {
    Path file = journalWith(1);
    appendBytes(file, "{\"question_id\":\"q9\",\"prediction\":\"x\",\"accuracy\":3,\"split\":\"small\"}\n");
    ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(file, REL_ATT));
    assertEquals(file + ", line 3, field \"accuracy\": must be a number in [0, 1]", e.getMessage());

    Path other = journalWith("other.jsonl", 1); // a journal that got no record is deleted on close
    appendBytes(other, "{\"question_id\":\"q9\",\"prediction\":\"x\",\"accuracy\":1,\"split\":\"tiny\"}\n");
    e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(other, REL_ATT));
    assertTrue(e.getMessage().startsWith(other + ", line 3, field \"split\""), e.getMessage());
  }

  @Test
  void duplicateIdsKeepTheFirstRecord() throws IOException {
    Path file = journalWith(2);
    appendBytes(file, "{\"question_id\":\"q0\",\"prediction\":\"second try\",\"accuracy\":1.0,\"split\":\"small\"}\n"
        + "{\"question_id\":\"q7\",\"prediction\":\"seven\",\"accuracy\":0.6,\"split\":\"large\"}\n");
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      assertEquals(3, j.size());
      assertEquals(1, j.duplicates());
      assertEquals("answer 0", j.entry("q0").orElseThrow().prediction());
      assertEquals(List.of("q0", "q1", "q7"), j.entries().stream().map(ResultsJournal.Entry::questionId).toList());
    }
  }

  @Test
  void resumingWithAnotherMethodIsRefused() throws IOException {
    Path file = journalWith(2);
    byte[] before = Files.readAllBytes(file);
    ResultsJournalException e = assertThrows(ResultsJournalException.class,
        () -> ResultsJournal.open(file, new ResultsJournal.Run("grad-att", "llava-1.5-7b", Map.of("layer", "14"))));
    assertEquals(file + ": written by a different run (method is \"rel-att\" there, \"grad-att\" here); use another "
        + "results file, or delete this one to start over", e.getMessage());
    e = assertThrows(ResultsJournalException.class,
        () -> ResultsJournal.open(file, new ResultsJournal.Run("rel-att", "llava-1.5-13b", Map.of("layer", "15", "prompt", "p"))));
    assertTrue(e.getMessage().contains("model is \"llava-1.5-7b\" there, \"llava-1.5-13b\" here; "
        + "setting layer is \"14\" there, \"15\" here; setting prompt is absent there, \"p\" here"), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(file)); // untouched
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) { // and the lock was released
      assertEquals(2, j.size());
    }
  }

  @Test
  void otherFilesAreNotJournals() throws IOException {
    Path file = dir.resolve("answers.jsonl");
    Files.writeString(file, "{\"question_id\":\"q0\",\"text\":\"a\"}\n");
    ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(file, REL_ATT));
    assertTrue(e.getMessage().startsWith(file + ", line 1: not a results journal"), e.getMessage());

    Path future = dir.resolve("future.jsonl");
    Files.writeString(future, "{\"fovea_vqa_results\":2,\"method\":\"m\",\"model\":\"x\"}\n");
    e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(future, REL_ATT));
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());

    // found by bench/fuzz.sh: a hostile version or split was echoed whole (messages of 100 KB)
    Files.writeString(future, "{\"fovea_vqa_results\":\"" + "9".repeat(100_000) + "\",\"method\":\"m\",\"model\":\"x\"}\n");
    e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(future, REL_ATT));
    assertTrue(e.getMessage().contains("results format version \"999") && e.getMessage().length() < 500, e.getMessage().length() + " chars");
    Files.writeString(future, "{\"fovea_vqa_results\":1,\"method\":\"m\",\"model\":\"" + "x".repeat(100_000) + "\"}\n");
    e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(future, REL_ATT));
    assertTrue(e.getMessage().contains("written by a different run (method is \"m\" there") && e.getMessage().length() < 500,
        e.getMessage().length() + " chars");
  }

  @Test
  void oneWriterAtATimeAndNoQuestionTwice() throws IOException {
    Path file = dir.resolve("sub/dir/results.jsonl"); // folders are created
    try (ResultsJournal j = ResultsJournal.open(file, REL_ATT)) {
      ResultsJournalException e = assertThrows(ResultsJournalException.class, () -> ResultsJournal.open(file, REL_ATT));
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
      j.append(entry(0));
      e = assertThrows(ResultsJournalException.class, () -> j.append(entry(0)));
      assertTrue(e.getMessage().contains("q0 already has a result"), e.getMessage());
    }
  }

  @Test
  void entriesRefuseReservedExtraFieldsAndBadAccuracies() {
    ObjectNode extra = VqaDataset.JSON.createObjectNode().put("accuracy", 2);
    assertThrows(IllegalArgumentException.class, () -> new ResultsJournal.Entry("q", "p", 1, SizeSplit.SMALL, extra));
    assertThrows(IllegalArgumentException.class, () -> new ResultsJournal.Entry("q", "p", 1.01, SizeSplit.SMALL, null));
    ResultsJournal.Entry e = new ResultsJournal.Entry("q", "p", 1, SizeSplit.SMALL, null);
    assertEquals(0, e.extra().size());
    assertEquals(Arrays.asList("q", "p"), Arrays.asList(e.questionId(), e.prediction()));
  }
}
