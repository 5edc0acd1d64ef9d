package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** When the plain-line mode (standard error not a terminal) prints a line. */
class ProgressTest {
  private static final long S = 1_000_000_000L;

  @Test
  void plainLinesAtStartEachTenthEveryFiveSecondsAndTheEnd() {
    var lines = new Progress.PlainLines(Progress.Unit.NONE, new PrintWriter(new StringWriter()), System::nanoTime);
    assertTrue(lines.due(0, 0, false, 0), "the start");
    assertFalse(lines.due(0, 3, false, 1 * S), "same tenth, 1 s later");
    assertFalse(lines.due(0, 5, false, 4 * S), "same tenth, 4 s after the last line");
    assertTrue(lines.due(0, 6, false, 5 * S), "5 s after the last line, the count moved");
    assertFalse(lines.due(0, 6, false, 11 * S), "no move, no line");
    assertTrue(lines.due(1, 10, false, 11 * S + 1), "a new tenth at once");
    assertTrue(lines.due(4, 40, false, 11 * S + 2), "tenths skipped: one line");
    assertFalse(lines.due(4, 41, false, 12 * S), "same tenth");
    assertTrue(lines.due(10, 100, false, 13 * S), "100%");
    assertFalse(lines.due(10, 100, true, 14 * S), "the end, already shown");
    assertFalse(lines.due(10, 100, true, 15 * S), "one end only");

    var other = new Progress.PlainLines(Progress.Unit.NONE, new PrintWriter(new StringWriter()), System::nanoTime);
    assertTrue(other.due(0, 0, false, 0));
    assertTrue(other.due(3, 35, true, S), "the end with a count not yet shown");
    assertFalse(other.due(3, 35, true, 2 * S));
  }

  @Test
  void aBarOffATerminalWritesLinesWithUnitsAndTheExtraMessage() {
    StringWriter err = new StringWriter();
    try (var bar = Progress.bar("load", 40L << 20, Progress.Unit.bytes(40L << 20), new PrintWriter(err))) {
      bar.stepTo(20L << 20);
      bar.setExtraMessage("half");
    }
    String[] l = err.toString().split("\n");
    assertEquals(2, l.length, err.toString());
    assertTrue(l[0].startsWith("load   0% 0/40 MiB (0:00)"), l[0]);
    assertTrue(l[1].startsWith("load  50% 20/40 MiB (0:0") && l[1].endsWith(") half"), l[1]);
  }
}
