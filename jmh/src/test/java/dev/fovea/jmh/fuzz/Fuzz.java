package dev.fovea.jmh.fuzz;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The parser fuzz campaign (issue 21), run by {@code bench/fuzz.sh}: every parser gets {@code
 * --inputs} generated inputs (mutations of valid files and structure-aware hostile values, see
 * {@link Targets}), each under a time limit, and the outcomes are counted: read fine, rejected with a
 * typed error naming the file, anything else, hangs. Anything else and hangs are saved to the findings
 * folder with their stack trace and the command that makes them again; the run exits 1 if there is any.
 *
 * <pre>
 *   --inputs N       inputs per parser (default 100000)
 *   --seed S         run seed (default 1); input i of parser p is made from (S, p, i) alone
 *   --parsers a,b    which parsers (default all; --list names them)
 *   --threads T      parsing threads (default 1)
 *   --timeout-s X    per-input time limit (default 10)
 *   --index I        only input I of each parser, its outcome printed with its stack trace
 *   --findings DIR   where failures are saved (default fuzz-findings)
 *   --work DIR       where inputs are written (default /dev/shm or the temporary folder)
 *   --repo DIR       the repository whose fixtures are the seeds (default .)
 * </pre>
 */
public final class Fuzz {
  private Fuzz() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = options(args);
    long inputs = Long.parseLong(o.getOrDefault("inputs", "100000"));
    long seed = Long.parseLong(o.getOrDefault("seed", "1"));
    int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
    long timeoutMs = (long) (Double.parseDouble(o.getOrDefault("timeout-s", "10")) * 1000);
    Path findings = Path.of(o.getOrDefault("findings", "fuzz-findings")).toAbsolutePath();
    Path shm = Path.of("/dev/shm");
    Path base = o.containsKey("work") ? Path.of(o.get("work"))
        : Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
    Path work = Files.createTempDirectory(base.toAbsolutePath(), "fovea-fuzz-");
    long bad = 0;
    try {
      Seeds seeds = new Seeds(Path.of(o.getOrDefault("repo", ".")).toAbsolutePath());
      Path scratch = Files.createDirectories(work.resolve("seeds"));
      List<Target> all = Targets.all(seeds, scratch);
      if (o.containsKey("list")) {
        all.forEach(t -> System.out.println(t.name()));
        Runner.delete(work);
        return;
      }
      List<Target> chosen = choose(all, o.get("parsers"));
      long from = o.containsKey("index") ? Long.parseLong(o.get("index")) : 0;
      long to = o.containsKey("index") ? from + 1 : inputs;
      Runner runner = new Runner(work, findings, seed, timeoutMs, o.containsKey("index"));
      System.err.printf("fuzz: %d parsers x %d inputs, seed %d, %d thread(s), %.0f s per input at most, max heap %d MB, inputs in %s%n", chosen.size(),
          to - from, seed, threads, timeoutMs / 1000.0, Runtime.getRuntime().maxMemory() >> 20, work);
      HeapWatch heap = new HeapWatch();
      List<Runner.Stats> results = new ArrayList<>();
      long t0 = System.nanoTime();
      for (Target t : chosen) {
        Target staged = stage(t, Files.createDirectories(work.resolve("side-" + t.name())));
        long fds = openFiles();
        System.gc(); // the previous parser's garbage is not this one's peak
        heap.reset();
        Runner.Stats st = runner.run(staged, from, to, threads);
        st.peakHeap = heap.peak();
        st.liveHeap = heap.live();
        st.fdGrowth = openFiles() - fds;
        results.add(st);
        System.err.println(row(st));
      }
      double wall = (System.nanoTime() - t0) / 1e9;
      report(results, System.out, wall);
      Files.createDirectories(findings);
      try (PrintStream ps = new PrintStream(Files.newOutputStream(findings.resolve("report.txt")), true, "UTF-8")) {
        details(results, ps);
        report(results, ps, wall);
      }
      bad = results.stream().mapToLong(s -> s.other.sum() + s.hangs.sum()).sum();
      if (bad > 0) {
        System.err.println("fuzz: " + bad + " inputs failed untyped or hung; see " + findings);
      }
    } finally {
      Runner.delete(work);
    }
    System.exit(bad > 0 ? 1 : 0); // also ends threads abandoned by hangs
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    Set<String> flags = Set.of("list");
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i] + " (options are --name value)");
      }
      String k = args[i].substring(2);
      if (flags.contains(k)) {
        o.put(k, "");
      } else if (i + 1 < args.length) {
        o.put(k, args[++i]);
      } else {
        throw new IllegalArgumentException("--" + k + " needs a value");
      }
    }
    return o;
  }

  private static List<Target> choose(List<Target> all, String names) {
    if (names == null || names.isEmpty()) {
      return all;
    }
    Map<String, Target> byName = all.stream().collect(Collectors.toMap(Target::name, t -> t, (a, b) -> a, LinkedHashMap::new));
    List<Target> out = new ArrayList<>();
    for (String n : names.split(",")) {
      Target t = byName.get(n.strip());
      if (t == null) {
        throw new IllegalArgumentException("no parser " + n + "; parsers: " + byName.keySet());
      }
      out.add(t);
    }
    return out;
  }

  /** The target with its side files copied once into the work folder, so each input links them on the same file system. */
  private static Target stage(Target t, Path dir) throws IOException {
    Map<String, Path> side = new LinkedHashMap<>();
    for (Map.Entry<String, Path> e : t.side().entrySet()) {
      Path p = dir.resolve(e.getKey().replace('/', '_'));
      Files.copy(e.getValue(), p);
      side.put(e.getKey(), p);
    }
    return new Target(t.name(), side, t.gen(), t.parse());
  }

  private static long openFiles() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  static String row(Runner.Stats s) {
    return String.format("%-24s %8d %8d %8d %6d %6d %8.1f s %7d MB %7d MB %9.1f MB", s.name, s.tried.sum(), s.read.sum(), s.typed.sum(), s.other.sum(),
        s.hangs.sum(), s.seconds, s.peakHeap >> 20, s.liveHeap >> 20, s.maxAllocated.get() / 1048576.0);
  }

  private static void report(List<Runner.Stats> results, PrintStream out, double wall) {
    out.printf("%-24s %8s %8s %8s %6s %6s %10s %10s %10s %12s%n", "parser", "tried", "read", "typed", "other", "hangs", "time", "peak heap",
        "after GC", "alloc/input");
    results.forEach(s -> out.println(row(s)));
    long tried = results.stream().mapToLong(s -> s.tried.sum()).sum();
    out.println("fuzz_parsers: " + results.size());
    out.println("fuzz_inputs: " + tried);
    out.println("fuzz_read: " + results.stream().mapToLong(s -> s.read.sum()).sum());
    out.println("fuzz_typed: " + results.stream().mapToLong(s -> s.typed.sum()).sum());
    out.println("fuzz_untyped: " + results.stream().mapToLong(s -> s.other.sum()).sum());
    out.println("fuzz_hangs: " + results.stream().mapToLong(s -> s.hangs.sum()).sum());
    out.println("fuzz_min_inputs_per_parser: " + results.stream().mapToLong(s -> s.tried.sum()).min().orElse(0));
    out.println("fuzz_peak_heap_mb: " + (results.stream().mapToLong(s -> s.peakHeap).max().orElse(0) >> 20));
    out.println("fuzz_peak_live_heap_mb: " + (results.stream().mapToLong(s -> s.liveHeap).max().orElse(0) >> 20));
    out.println("fuzz_max_heap_mb: " + (Runtime.getRuntime().maxMemory() >> 20));
    out.printf("fuzz_wall_s: %.0f%n", wall);
  }

  /** Per parser: the commonest typed rejections, and every distinct failure. */
  private static void details(List<Runner.Stats> results, PrintStream out) {
    for (Runner.Stats s : results) {
      out.println("== " + s.name + ": longest typed message " + s.maxMessage.get() + " chars, open files grew by " + s.fdGrowth
          + ", most allocated by one input " + (s.maxAllocated.get() >> 20) + " MB: " + s.maxAllocatedBy);
      s.topReasons(12).forEach(e -> out.printf("  %7d  %s%n", e.getValue().sum(), e.getKey()));
      s.failures.forEach((k, v) -> out.printf("  FAILED %7d  %s%n", v.sum(), k));
    }
  }

  /**
   * Heap figures since the last reset: the peak in use (sampled every millisecond, garbage
   * included), and the largest in use right after a collection (closer to what was live).
   */
  static final class HeapWatch {
    private final AtomicLong live = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    HeapWatch() {
      Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
          .map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        ((NotificationEmitter) gc).addNotificationListener((n, h) -> {
          if (n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
            var info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long used = info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream().filter(e -> heapPools.contains(e.getKey()))
                .mapToLong(e -> e.getValue().getUsed()).sum();
            live.accumulateAndGet(used, Math::max);
            long before = info.getGcInfo().getMemoryUsageBeforeGc().entrySet().stream().filter(e -> heapPools.contains(e.getKey()))
                .mapToLong(e -> e.getValue().getUsed()).sum();
            peak.accumulateAndGet(before, Math::max);
          }
        }, null, null);
      }
      MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
      Thread.ofPlatform().daemon().name("fuzz-heap-sampler").start(() -> {
        while (true) {
          peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
    }

    void reset() {
      live.set(0);
      peak.set(0);
    }

    long live() {
      return live.get();
    }

    long peak() {
      return peak.get();
    }
  }
}
