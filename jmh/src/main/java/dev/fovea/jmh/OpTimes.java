package dev.fovea.jmh;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Nanoseconds per op of a profile replay ({@link ClipProfile}, {@link LlamaProfile}), summed over
 * repeats in first-seen order, with the whole pass under {@link #TOTAL}; printed as milliseconds
 * per repeat and the share of the total.
 */
final class OpTimes {
  static final String TOTAL = "TOTAL";

  private final Map<String, Long> nanos = new LinkedHashMap<>();

  /** Adds the time since {@code t0} (a System.nanoTime) to {@code op}. */
  void add(String op, long t0) {
    nanos.merge(op, System.nanoTime() - t0, Long::sum);
  }

  /** Forgets everything (after the JIT warm-up pass). */
  void clear() {
    nanos.clear();
  }

  /** Milliseconds of the whole pass per repeat. */
  double totalMs(int repeats) {
    return nanos.get(TOTAL) / 1e6 / repeats;
  }

  /** One line per op: name padded to {@code width}, ms per repeat with {@code decimals} places, share of the total. */
  void print(int repeats, int width, int decimals) {
    double total = totalMs(repeats);
    String line = "  %-" + width + "s %9." + decimals + "f ms  %5.1f%%%n";
    for (Map.Entry<String, Long> e : nanos.entrySet()) {
      if (!e.getKey().equals(TOTAL)) {
        double ms = e.getValue() / 1e6 / repeats;
        System.out.printf(line, e.getKey(), ms, 100 * ms / total);
      }
    }
  }
}
