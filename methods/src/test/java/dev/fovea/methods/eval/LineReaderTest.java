package dev.fovea.methods.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineReaderTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 100);

  /** A reader that hands out at most {@code chunk} characters per read, to cross buffer boundaries. */
  private static Reader trickle(String text, int chunk) {
    return new Reader() {
      private final StringReader in = new StringReader(text);

      @Override
      public int read(char[] buf, int off, int len) throws IOException {
        return in.read(buf, off, Math.min(len, chunk));
      }

      @Override
      public void close() {}
    };
  }

  private static List<String> all(LineReader r) {
    List<String> lines = new ArrayList<>();
    try {
      for (String l; (l = r.next()) != null; ) {
        lines.add(l);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return lines;
  }

  @Test
  void splitsLikeBufferedReader() {
    // pieces: letters and the three terminators, glued at random
    List<String> pieces = List.of("a", "bc", "\n", "\r", "\r\n", "", " ", "xyz");
    qt().withExamples(EXAMPLES)
        .forAll(lists().of(integers().between(0, pieces.size() - 1)).ofSizeBetween(0, 40), integers().between(1, 5))
        .checkAssert((idx, chunk) -> {
          StringBuilder sb = new StringBuilder();
          idx.forEach(i -> sb.append(pieces.get(i)));
          String text = sb.toString();
          List<String> expected = new BufferedReader(new StringReader(text)).lines().toList();
          assertEquals(expected, all(new LineReader(trickle(text, chunk), 1000)), text.replace("\r", "\\r").replace("\n", "\\n"));
        });
  }

  @Test
  void refusesALineOverTheLimitAndAcceptsOneAtIt() throws IOException {
    LineReader r = new LineReader(new StringReader("12345\n123456\n"), 5);
    assertEquals("12345", r.next());
    assertThrows(LineReader.TooLongException.class, r::next);
    LineReader s = new LineReader(new StringReader("abc"), 5);
    assertEquals("abc", s.next());
    assertNull(s.next());
  }
}
