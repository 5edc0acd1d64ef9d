package dev.fovea.jmh;

import dev.fovea.nn.Module;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The read bandwidth of a model's own weights: one SIMD pass (64-bit integer adds, so no float
 * assist can slow it) over every byte of the given segments, split into ~2 MiB chunks over the
 * engine's threads as the GEMV splits its rows. Decode's bandwidth bound is the weight bytes per
 * token divided by this rate.
 *
 * <p>Two patterns: {@link #read} takes each chunk front to back (one stream a thread), {@link
 * #read4} as four quarters at once (four streams a thread, the pattern of Gemv's four-row kernels).
 * On this Zen 4 VM one core reads more with four streams: a scratch program over 2048 x 5632 F32
 * weights (2026-12-07, one process, passes alternating) read 14.1-14.7 GB/s front to back against
 * 16.4-21.8 in quarters on one thread, 21.6 against 24.1-24.2 on two; Gemv's F32 fours read as the
 * quarters did. So LlamaBench measures both; over a whole model at two threads (bench/decode.sh's
 * decode forks, the same day) the two agreed within 3%.
 *
 * <p>Measured in the decode benchmark's own fork, just before each of its iterations: this VM's
 * memory speed differs between processes (40-50 against 72-76 GB/s, 2026-11), so a bound taken in
 * another fork (as {@link ReadBandwidthBench} is) can be from another memory phase than the decode
 * it is compared with. Reading the weights themselves also reads the same pages at the same
 * placement as the decode step does.
 */
final class WeightReads {
  private static final VectorSpecies<Long> LS = LongVector.SPECIES_PREFERRED;
  private static final long CHUNK = 1L << 21;

  private final List<MemorySegment> pieces = new ArrayList<>();
  private final long bytes;

  WeightReads(List<MemorySegment> segments) {
    long total = 0;
    for (MemorySegment s : segments) {
      for (long o = 0; o < s.byteSize(); o += CHUNK) {
        pieces.add(s.asSlice(o, Math.min(CHUNK, s.byteSize() - o)));
      }
      total += s.byteSize();
    }
    bytes = total;
  }

  /** Every parameter of {@code model}, each read from its storage's segment. */
  static WeightReads of(Module model) {
    return new WeightReads(model.namedParameters().values().stream().map(p -> p.get().storage().segment()).toList());
  }

  long bytes() {
    return bytes;
  }

  /** One pass over every byte; returns its duration in nanoseconds. */
  long nanos() {
    return nanos(this::read);
  }

  /** One timed pass of {@code read}, in nanoseconds. */
  private static long nanos(LongSupplier read) {
    long t0 = System.nanoTime();
    long sum = read.getAsLong();
    long t1 = System.nanoTime();
    if (sum == 42) {
      System.out.print(""); // keeps the sum alive
    }
    return t1 - t0;
  }

  /** The best of {@code passes} timed passes, GB/s (the first pass of a process also warms the JIT). */
  double best(int passes) {
    return best(passes, this::read);
  }

  /** As {@link #best}, each pass reading every chunk as four quarters at once ({@link #read4}). */
  double best4(int passes) {
    return best(passes, this::read4);
  }

  private double best(int passes, LongSupplier read) {
    double best = 0;
    for (int i = 0; i < passes; i++) {
      best = Math.max(best, bytes / (double) nanos(read));
    }
    return best;
  }

  /** One pass over every byte, each chunk read as four quarters at once; returns their sum. */
  long read4() {
    return read(WeightReads::sum4);
  }

  /** One pass over every byte, untimed (for a JMH method, which times itself); returns their sum. */
  long read() {
    return read(WeightReads::sum);
  }

  private long read(ToLongFunction<MemorySegment> sum) {
    LongAdder sink = new LongAdder();
    Parallel.forChunks(pieces.size(), (c, worker) -> sink.add(sum.applyAsLong(pieces.get(c))));
    return sink.sum();
  }

  /**
   * The bytes of s summed as four streams a quarter apart (whole 2-vector steps each; the rest
   * front to back).
   */
  private static long sum4(MemorySegment s) {
    int l = LS.length();
    long step = 16L * l; // two vectors of bytes
    long n = s.byteSize();
    long q = n / 4 / step * step;
    LongVector a0 = LongVector.zero(LS), a1 = a0, a2 = a0, a3 = a0;
    for (long o = 0; o < q; o += step) {
      a0 = a0.add(LongVector.fromMemorySegment(LS, s, o, ByteOrder.LITTLE_ENDIAN))
          .add(LongVector.fromMemorySegment(LS, s, o + 8L * l, ByteOrder.LITTLE_ENDIAN));
      a1 = a1.add(LongVector.fromMemorySegment(LS, s, q + o, ByteOrder.LITTLE_ENDIAN))
          .add(LongVector.fromMemorySegment(LS, s, q + o + 8L * l, ByteOrder.LITTLE_ENDIAN));
      a2 = a2.add(LongVector.fromMemorySegment(LS, s, 2 * q + o, ByteOrder.LITTLE_ENDIAN))
          .add(LongVector.fromMemorySegment(LS, s, 2 * q + o + 8L * l, ByteOrder.LITTLE_ENDIAN));
      a3 = a3.add(LongVector.fromMemorySegment(LS, s, 3 * q + o, ByteOrder.LITTLE_ENDIAN))
          .add(LongVector.fromMemorySegment(LS, s, 3 * q + o + 8L * l, ByteOrder.LITTLE_ENDIAN));
    }
    long r = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    for (long o = 4 * q; o < n; o++) {
      r += s.get(ValueLayout.JAVA_BYTE, o);
    }
    return r;
  }

  private static long sum(MemorySegment s) {
    int l = LS.length();
    long n = s.byteSize();
    LongVector a0 = LongVector.zero(LS), a1 = a0;
    long o = 0;
    for (; o + 16L * l <= n; o += 16L * l) {
      a0 = a0.add(LongVector.fromMemorySegment(LS, s, o, ByteOrder.LITTLE_ENDIAN));
      a1 = a1.add(LongVector.fromMemorySegment(LS, s, o + 8L * l, ByteOrder.LITTLE_ENDIAN));
    }
    long r = a0.add(a1).reduceLanes(VectorOperators.ADD);
    for (; o < n; o++) {
      r += s.get(ValueLayout.JAVA_BYTE, o);
    }
    return r;
  }
}
