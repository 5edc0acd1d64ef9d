package dev.fovea.jmh.fuzz;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * Runs one {@link Target}: inputs {@code 0..n-1}, each made from its own seed (so a run's outcome
 * does not depend on the thread count, and {@code --index} remakes one input), written into a folder
 * of its own beside the target's side files, then parsed on a worker thread under a time limit.
 *
 * <p>Outcomes: read fine; rejected with a typed error (an exception of ours, a {@code dev.fovea} type
 * that is not an {@link Error}, whose message names the input's folder, so the file, in at most
 * {@link #MAX_MESSAGE} characters); anything else (untyped exceptions and errors, a typed error that
 * names no file or whose message is longer); a hang (the time limit passed:
 * the worker is abandoned and a new one takes over). Anything else and hangs are saved with their
 * input, stack trace and the command that reproduces them.
 */
final class Runner {
  /** Findings saved per distinct failure (its exception type and top frames). */
  static final int SAVED_PER_SIGNATURE = 3;

  private final Path work;
  private final Path findings;
  private final long seed;
  private final long timeoutMs;
  private final boolean verbose;

  /** {@code verbose}: print every input's outcome (for {@code --index}). */
  Runner(Path work, Path findings, long seed, long timeoutMs, boolean verbose) {
    this.work = work;
    this.findings = findings;
    this.seed = seed;
    this.timeoutMs = timeoutMs;
    this.verbose = verbose;
  }

  /** The tally of one target's run. */
  static final class Stats {
    final String name;
    final LongAdder tried = new LongAdder();
    final LongAdder read = new LongAdder();
    final LongAdder typed = new LongAdder();
    final LongAdder other = new LongAdder();
    final LongAdder hangs = new LongAdder();
    final AtomicLong done = new AtomicLong();
    final AtomicLong maxAllocated = new AtomicLong();
    volatile String maxAllocatedBy = "";
    final AtomicLong maxMessage = new AtomicLong();
    final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();
    final Map<String, LongAdder> failures = new ConcurrentHashMap<>();
    double seconds;
    long peakHeap;
    long liveHeap;
    long fdGrowth;

    Stats(String name) {
      this.name = name;
    }

    /** The commonest typed rejections, most frequent first. */
    List<Map.Entry<String, LongAdder>> topReasons(int k) {
      return reasons.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, LongAdder> e) -> -e.getValue().sum())).limit(k).toList();
    }
  }

  /** The seed of input {@code index} of {@code target}: the run's seed, the target's name and the index mixed. */
  static long inputSeed(long runSeed, String target, long index) {
    long h = runSeed * 0x9E3779B97F4A7C15L + target.hashCode();
    h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + index;
    h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
    return h ^ (h >>> 31);
  }

  /** Runs inputs [from, to) of {@code t} on {@code threads} threads. */
  Stats run(Target t, long from, long to, int threads) throws InterruptedException {
    Stats st = new Stats(t.name());
    AtomicLong next = new AtomicLong(from);
    long t0 = System.nanoTime();
    Thread[] drivers = new Thread[threads];
    AtomicReference<Throwable> driverFailure = new AtomicReference<>();
    for (int d = 0; d < threads; d++) {
      int id = d;
      drivers[d] = Thread.ofPlatform().name("fuzz-" + t.name() + "-driver-" + d).start(() -> {
        try {
          drive(t, st, next, to, id, from);
        } catch (Throwable e) {
          driverFailure.set(e);
        }
      });
    }
    for (Thread d : drivers) {
      d.join();
    }
    if (driverFailure.get() != null) {
      throw new IllegalStateException("the campaign itself failed on " + t.name(), driverFailure.get());
    }
    st.seconds = (System.nanoTime() - t0) / 1e9;
    return st;
  }

  private static final class Worker {
    final AtomicReference<Thread> thread = new AtomicReference<>();
    final ExecutorService exec;

    Worker(String name) {
      exec = Executors.newSingleThreadExecutor(r -> {
        Thread th = new Thread(r, name);
        th.setDaemon(true);
        thread.set(th);
        return th;
      });
    }
  }

  /** What happened to one input. */
  private record Outcome(Throwable error, long allocated, boolean typed) {}

  private void drive(Target t, Stats st, AtomicLong next, long to, int driver, long from) throws Exception {
    AtomicInteger generation = new AtomicInteger();
    Worker w = new Worker("fuzz-" + t.name() + "-" + driver + "-" + generation.get());
    long reportEvery = Math.max(1, (to - from) / 10);
    try {
      for (long i; (i = next.getAndIncrement()) < to; ) {
        long s = inputSeed(seed, t.name(), i);
        Target.Input in = t.gen().make(new Random(s));
        Path dir = work.resolve(t.name() + "-" + i);
        lay(t, in, dir);
        Future<Outcome> f = w.exec.submit(() -> parse(t, dir));
        Outcome o;
        try {
          o = f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          Thread hung = w.thread.get();
          StackTraceElement[] where = hung == null ? new StackTraceElement[0] : hung.getStackTrace();
          f.cancel(true);
          w.exec.shutdownNow();
          w = new Worker("fuzz-" + t.name() + "-" + driver + "-" + generation.incrementAndGet());
          st.tried.increment();
          st.hangs.increment();
          save(t, st, i, s, in, "hang", "no result after " + timeoutMs + " ms; the parser was at:\n" + frames(where));
          continue; // the abandoned thread may still use dir: it is left behind
        }
        st.tried.increment();
        if (st.maxAllocated.accumulateAndGet(o.allocated(), Math::max) == o.allocated()) {
          st.maxAllocatedBy = "input " + i + " (" + in.how() + ")";
        }
        if (verbose) {
          System.err.println(t.name() + " input " + i + " (" + in.how() + "): " + (o.error() == null ? "read fine" : (o.typed() ? "typed: " : "OTHER: ")
              + stackTrace(o.error())));
        }
        if (o.error() == null) {
          st.read.increment();
        } else if (o.typed()) {
          st.typed.increment();
          String m = String.valueOf(o.error().getMessage());
          st.maxMessage.accumulateAndGet(m.length(), Math::max);
          st.reasons.computeIfAbsent(reason(m, dir), k -> new LongAdder()).increment();
        } else {
          st.other.increment();
          save(t, st, i, s, in, signature(o.error()), stackTrace(o.error()));
        }
        delete(dir);
        if (st.done.incrementAndGet() % reportEvery == 0) {
          System.err.printf("  %s: %d/%d inputs%n", t.name(), st.tried.sum(), to - from);
        }
      }
    } finally {
      w.exec.shutdownNow();
    }
  }

  /** Writes the input's files into a new folder and links the side files beside them. */
  private static void lay(Target t, Target.Input in, Path dir) throws IOException {
    Files.createDirectories(dir);
    for (Map.Entry<String, Path> e : t.side().entrySet()) {
      Path link = dir.resolve(e.getKey());
      Files.createDirectories(link.getParent());
      try {
        Files.createLink(link, e.getValue());
      } catch (IOException | UnsupportedOperationException x) {
        Files.copy(e.getValue(), link);
      }
    }
    for (Map.Entry<String, byte[]> e : in.files().entrySet()) {
      Path f = dir.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.deleteIfExists(f); // not through a link into a side file
      Files.write(f, e.getValue());
    }
  }

  private static Outcome parse(Target t, Path dir) {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long a0 = mx.getCurrentThreadAllocatedBytes();
    Throwable error = null;
    try {
      t.parse().run(dir);
    } catch (Throwable e) {
      error = e;
    }
    long allocated = mx.getCurrentThreadAllocatedBytes() - a0;
    return new Outcome(error, allocated, error != null && typed(error, dir));
  }

  /** The longest message a typed error may have: it names a file and a field, and a value cut short. */
  static final int MAX_MESSAGE = 4096;

  /**
   * An exception of ours (not an Error) whose message names the input's folder, so its file, in at
   * most {@link #MAX_MESSAGE} characters (a hostile value echoed whole made messages of 600 KB).
   */
  static boolean typed(Throwable e, Path dir) {
    return !(e instanceof Error) && e.getClass().getName().startsWith("dev.fovea.") && e.getMessage() != null
        && e.getMessage().contains(dir.toString()) && e.getMessage().length() <= MAX_MESSAGE;
  }

  /** A typed rejection's message as a reason: the folder, numbers and quoted text taken out, cut to 100 characters. */
  private static String reason(String message, Path dir) {
    String m = message.replace(dir.toString(), "").replaceAll("'[^']*'|\"[^\"]*\"", "'*'").replaceAll("\\d+", "N").replaceAll("\\s+", " ");
    return m.length() > 100 ? m.substring(0, 100) : m;
  }

  /** A failure's kind: its type, and the top frames (ours first) that say where. */
  static String signature(Throwable e) {
    StackTraceElement[] st = e.getStackTrace();
    StackTraceElement top = Arrays.stream(st).filter(f -> f.getClassName().startsWith("dev.fovea.") && !f.getClassName().startsWith("dev.fovea.jmh."))
        .findFirst().orElse(st.length > 0 ? st[0] : null);
    String where = top == null ? "?" : top.getClassName().substring(top.getClassName().lastIndexOf('.') + 1) + "." + top.getMethodName() + ":"
        + top.getLineNumber();
    boolean ours = !(e instanceof Error) && e.getClass().getName().startsWith("dev.fovea.");
    String kind = !ours ? "" : String.valueOf(e.getMessage()).length() > MAX_MESSAGE ? "long-message " : "unnamed-file ";
    return kind + e.getClass().getSimpleName() + " at " + where;
  }

  private static String stackTrace(Throwable e) {
    StringWriter sw = new StringWriter();
    e.printStackTrace(new PrintWriter(sw));
    return sw.toString();
  }

  private static String frames(StackTraceElement[] st) {
    StringBuilder sb = new StringBuilder();
    for (StackTraceElement f : st) {
      sb.append("\tat ").append(f).append('\n');
    }
    return sb.toString();
  }

  /** Saves the input (first few of each signature) with what happened and how to make it again. */
  private void save(Target t, Stats st, long index, long inputSeed, Target.Input in, String signature, String detail) throws IOException {
    LongAdder seen = st.failures.computeIfAbsent(signature, k -> new LongAdder());
    seen.increment();
    if (seen.sum() > SAVED_PER_SIGNATURE) {
      return;
    }
    Path d = findings.resolve(t.name()).resolve(index + "-" + signature.replaceAll("[^A-Za-z0-9.]+", "_"));
    Files.createDirectories(d);
    for (Map.Entry<String, byte[]> e : in.files().entrySet()) {
      Path f = d.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.write(f, e.getValue());
    }
    String text = "parser: " + t.name() + "\ninput: " + index + " (seed " + inputSeed + ", run seed " + seed + ")\nmutation: " + in.how()
        + "\nside files: " + t.side().keySet() + "\nreproduce: bench/fuzz.sh --parsers " + t.name() + " --seed " + seed + " --index " + index
        + "\n\n" + signature + "\n" + detail;
    Files.writeString(d.resolve("finding.txt"), text, StandardCharsets.UTF_8);
  }

  static void delete(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // best effort: the work folder is removed at the end
    }
  }
}
