package dev.fovea.cli;

import java.io.PrintWriter;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * Progress on standard error. On a terminal: a bar redrawn in place with {@code \r}. Elsewhere (a
 * log file, a pipe, a test): a plain line when the task starts, at each further 10%, at least every
 * {@link #PLAIN_INTERVAL_NANOS} while it moves, and at the end, so logs get readable lines instead
 * of carriage-return frames.
 *
 * <p>Standard error counts as a terminal when the system property {@code fovea.stderr.terminal} is
 * {@code true}, or, when it is not set, when isatty(2) says so. The launcher sets the property: its
 * standard error reaches Java through a filter, so Java itself sees a pipe.
 */
final class Progress {
  /** Longest time between two plain lines while the count moves. */
  static final long PLAIN_INTERVAL_NANOS = 5_000_000_000L;

  private Progress() {}

  /** How counts are shown: unit name (with its leading space, as progressbar wants it) and size, and whether a rate is shown. */
  record Unit(String name, long size, boolean speed) {
    static final Unit NONE = new Unit("", 1, false);

    /** MiB from 16 MiB on, KiB below. */
    static Unit bytes(long total) {
      boolean big = total >= 16L << 20;
      return new Unit(big ? " MiB" : " KiB", big ? 1L << 20 : 1L << 10, false);
    }
  }

  /** A started progress bar over {@code max} steps: a terminal bar, or plain lines on {@code err}. */
  static ProgressBar bar(String task, long max, Unit unit, PrintWriter err) {
    ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, max)).setStyle(ProgressBarStyle.ASCII);
    if (stderrIsTerminal()) {
      if (!unit.name().isEmpty()) {
        b.setUnit(unit.name(), unit.size());
      }
      if (unit.speed()) {
        b.showSpeed();
      }
      return b.setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }
    PlainLines lines = new PlainLines(unit, err, System::nanoTime);
    ProgressBar bar = b.setRenderer(lines).setConsumer(lines).build();
    lines.start(task, Math.max(1, max)); // the bar's first frame comes from another thread, maybe after the end
    return bar;
  }

  /**
   * An evaluation's bar over questions, showing the running accuracy and how many results came from
   * the results file; draws nothing when not shown ({@code --no-progress}).
   */
  static final class Questions implements AutoCloseable {
    private final ProgressBar bar;

    Questions(String task, long total, boolean show, PrintWriter err) {
      this.bar = show ? bar(task, total, new Unit(" q", 1, true), err) : null;
    }

    /** After each question: how many are done, the running accuracy in percent, how many were resumed. */
    void step(long done, double accuracyPercent, long resumed) {
      if (bar != null) {
        bar.stepTo(done);
        String resumedNote = resumed > 0 ? " (" + resumed + " resumed)" : "";
        bar.setExtraMessage(Double.isNaN(accuracyPercent) ? resumedNote : String.format(Locale.ROOT, " acc %.2f%%%s", accuracyPercent, resumedNote));
      }
    }

    @Override
    public void close() {
      if (bar != null) {
        bar.close();
      }
    }
  }

  /** The property when set, else isatty(2); false when neither can tell. */
  static boolean stderrIsTerminal() {
    String p = System.getProperty("fovea.stderr.terminal");
    if (p != null) {
      return Boolean.parseBoolean(p.strip());
    }
    try {
      Linker linker = Linker.nativeLinker();
      @SuppressWarnings("restricted")
      MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
      return (int) isatty.invokeExact(2) == 1;
    } catch (Throwable e) {
      return false; // no libc isatty (or no native access): plain lines are safe anywhere
    }
  }

  /**
   * The plain-line mode, as renderer and consumer: {@link #render} returns the line when one is due
   * and "" otherwise; {@link #accept} prints the non-empty ones.
   */
  static final class PlainLines implements ProgressBarRenderer, ProgressBarConsumer {
    private final Unit unit;
    private final PrintWriter err;
    private final LongSupplier nanoTime;
    private int lastDecile = -1;
    private long lastNanos;
    private long lastCurrent = -1;
    private boolean ended;

    PlainLines(Unit unit, PrintWriter err, LongSupplier nanoTime) {
      this.unit = unit;
      this.err = err;
      this.nanoTime = nanoTime;
    }

    /** Prints the first line, at 0, unless the bar's first frame came first. */
    synchronized void start(String task, long max) {
      if (due(0, 0, false, nanoTime.getAsLong())) {
        accept(line(task, 0, max, Duration.ZERO, null));
      }
    }

    @Override
    public synchronized String render(ProgressState s, int maxLength) {
      long current = s.getCurrent();
      long max = s.getMax();
      double fraction = max > 0 ? Math.min(1, Math.max(0, current / (double) max)) : 0;
      if (due((int) Math.floor(fraction * 10), current, !s.isAlive(), nanoTime.getAsLong())) {
        // Printed here, under this object's lock, not returned to the bar: the bar's refresh thread
        // renders and then hands the line to accept, and under load a line rendered just before the
        // bar was closed reached accept after close had returned (ProgressTest saw one line of two).
        accept(line(s.getTaskName(), current, max, s.getTotalElapsed(), s.getExtraMessage()));
      }
      return "";
    }

    /** "task  40% 12/30 MiB [0.50 MiB/s] (m:ss) [extra]". */
    private String line(String task, long current, long max, Duration elapsed, String extra) {
      double fraction = max > 0 ? Math.min(1, Math.max(0, current / (double) max)) : 0;
      StringBuilder line = new StringBuilder(task);
      line.append(String.format(Locale.ROOT, " %3d%% %d/%d%s", (int) Math.floor(fraction * 100), current / unit.size(), max / unit.size(), unit.name()));
      double seconds = elapsed.toNanos() / 1e9;
      if (unit.speed() && seconds > 0) {
        line.append(String.format(Locale.ROOT, " %.2f%s/s", current / (double) unit.size() / seconds, unit.name()));
      }
      line.append(String.format(Locale.ROOT, " (%d:%02d)", elapsed.toMinutes(), elapsed.toSecondsPart()));
      if (extra != null && !extra.isBlank()) {
        line.append(' ').append(extra.strip());
      }
      return line.toString();
    }

    /** Whether a line is due: a new decile, the interval passed with the count moved, or the end with a count not yet shown. */
    boolean due(int decile, long current, boolean end, long now) {
      boolean yes;
      if (end) {
        yes = !ended && current != lastCurrent;
        ended = true;
      } else {
        yes = decile > lastDecile || (current != lastCurrent && now - lastNanos >= PLAIN_INTERVAL_NANOS);
      }
      if (yes) {
        lastDecile = Math.max(lastDecile, decile);
        lastNanos = now;
        lastCurrent = current;
      }
      return yes;
    }

    @Override
    public int getMaxRenderedLength() {
      return 400;
    }

    @Override
    public void accept(String line) {
      if (!line.isEmpty()) {
        err.println(line);
        err.flush();
      }
    }

    @Override
    public void close() {
      err.flush();
    }
  }
}
