package dev.fovea.methods.eval;

import java.io.IOException;
import java.io.Reader;

/**
 * Reads lines one at a time, like {@code BufferedReader.readLine} ({@code \n}, {@code \r\n} or a lone
 * {@code \r} ends a line), but refuses a line longer than a limit before holding more of it, so a file
 * without newlines cannot fill the memory.
 */
final class LineReader {
  /** A line longer than the limit. */
  static final class TooLongException extends IOException {
    TooLongException(int max) {
      super("line longer than " + max + " characters");
    }
  }

  private final Reader in;
  private final int maxChars;
  private final char[] buf = new char[8192];
  private int pos;
  private int end;
  private boolean skipLf; // the previous line ended with \r: a \n right after belongs to it

  LineReader(Reader in, int maxChars) {
    this.in = in;
    this.maxChars = maxChars;
  }

  /** The next line without its terminator, or null at the end of the input. */
  String next() throws IOException {
    StringBuilder line = null;
    while (true) {
      if (pos == end) {
        end = in.read(buf, 0, buf.length);
        pos = 0;
        if (end <= 0) {
          end = 0;
          return line == null ? null : line.toString();
        }
      }
      if (skipLf) {
        skipLf = false;
        if (buf[pos] == '\n') {
          pos++;
          continue;
        }
      }
      if (line == null) {
        line = new StringBuilder();
      }
      int start = pos;
      while (pos < end && buf[pos] != '\n' && buf[pos] != '\r') {
        pos++;
      }
      if (line.length() + (pos - start) > maxChars) {
        throw new TooLongException(maxChars);
      }
      line.append(buf, start, pos - start);
      if (pos < end) {
        skipLf = buf[pos] == '\r';
        pos++;
        return line.toString();
      }
    }
  }
}
