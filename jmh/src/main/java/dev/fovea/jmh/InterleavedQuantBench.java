package dev.fovea.jmh;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.cpu.Gemv;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A prototype, not yet a kernel of the engine: Q4_0, Q8_0 and BF16 GEMVs with the weights repacked so
 * that 16 rows are interleaved, lanes being rows, against {@link Gemv#gemv} on row-major weights.
 *
 * <p>Why. The row-major kernels give each lane a column: every block's bytes are widened to int
 * lanes ({@code vpmovzxbd}), its scale broadcast, and each row's lanes summed at the end; on Zen 4
 * the widening and the broadcast take the fmas' issue slots ({@link VectorPortsBench}) and the
 * kernels are compute-bound far below the read bound (Q4_0 ~0.3-0.4 of it in the model's step).
 * Interleaved ({@code R16}), for each group of 16 rows and each 32-element block: the 16 f16 scales
 * (32 bytes), then the block's bytes as int vectors whose lane i holds four consecutive bytes of row
 * i (Q4_0: four 64-byte vectors, Q8_0: eight). A weight comes out of its lane with shifts and an
 * and, which run beside the fmas, and one int-to-f32 conversion (also beside them); x[k] is
 * broadcast once for 32 rows (two groups); the scales are one vector a block (f16 bits to f32 with
 * integer operations and one exact multiply by 2^112); no horizontal sum remains (y[16 rows] is one
 * vector store). Q4_0's -8 is taken out as -8 sum(x) over each block, the start of its sum. Each
 * lane is one row's dot product in another order than the row-major kernels (four partial sums per
 * block), so results differ in the last bits: setup prints the largest difference against {@code
 * Gemv.gemv} relative to the largest |y| and fails above 1e-5.
 *
 * <p>Measured (Zen 4 VM, 2 threads, 2026-12-07, 24 weights a call, 2 forks x 6 iterations, ms a call,
 * interleaved / row-major / plain read): Q4_0 k 2048 x n 5632 (gate/up) 8.43 / 9.00 / 5.40, k 5632 x
 * n 2048 (down) 8.83 / 9.82 / 4.62; Q8_0 gate/up 9.42 / 8.61 / 8.57, down 10.09 / 13.42 / 8.94 (a
 * second run of row-major at k 5632: 15.2 with fours, 16.5 with pairs only, read 8.4-8.8). So at k
 * 2048 row-major Q8_0 already reads at the bound and the interleaved form is 9% slower; at k 5632
 * row-major Q8_0 reads at ~0.6 of the bound with fours or pairs (x's 22 KB in L1 again, see Gemv's
 * BF16_PAIR_K notes) and the interleaved form, which reads x one float at a time, at ~0.9 (1.33x);
 * Q4_0 gains 7-11% (it stays compute-bound: 1.6-1.9x the read time). These were measured before
 * Gemv's Q8_0 rows went in eights from k 4096 ({@code Gemv.QUANT_OCT_K}), which closes part of the
 * k 5632 gap the row-major way ({@code -jvmArgsPrepend -Dfovea.gemv.quant.octK=1000000} restores
 * the fours): rerun with them, Q8_0 k 5632 9.25 / 9.91 / 8.98 (row-major at 0.91 of the read), k
 * 2048 8.88 / 8.76 / 9.40. A scratch harness had shown more for Q4_0 (11.9 against 8.8 GB/s streamed on one
 * thread) against a copy of the pair kernel
 * that streamed slower than Gemv.gemv does here. What it would take in the engine: a weight layout of
 * its own (a dtype or a storage form) made at load time (the mapped GGUF bytes are row-major), the
 * prefill's GEMM panel decode and GemvRows reading it, and n a multiple of 32 (a tail of rows in
 * the old layout otherwise); worth it first for long rows (down_proj; LLaMA-7B's k 4096 and 11008).
 * See the README, "Zen 4, tenth session".
 *
 * <p>BF16 ({@code kind=bf16}, added after): per group and 32 k, 16 vectors whose lane i holds two
 * consecutive bf16 of row i, widened with a shift or an and, no scales. 12 weights a call, 3 forks
 * x 8 iterations, k 5632 x n 2048 (down_proj): interleaved 6.03 against row-major 7.17 ms (1.19x,
 * each fork 5.9-6.15 against 7.12-7.2); a first 2-fork run had 6.14 / 7.77 there and 6.54 / 7.01 at
 * k 2048 (its plain reads too noisy to use).
 *
 * <p>The plain reads above came from a read loop of this class's own (four 64-byte int vectors an
 * iteration); {@code read} is now {@link WeightReads}'s pass, the bound the model benchmarks use.
 *
 * <p>Shapes are k x n as in {@link GemvStreamBench}; {@code layers} weights of the shape are
 * multiplied per call (sized so they do not fit the last-level cache).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(value = 2, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT})
@State(Scope.Benchmark)
public class InterleavedQuantBench {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
  static final VectorSpecies<Integer> IS = IntVector.SPECIES_512;
  static final VectorSpecies<Short> SS = ShortVector.SPECIES_256;
  static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
  static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
  /** Rows a group interleaves: the lanes of a 512-bit vector of f32. */
  static final int R = 16;

  @Param({"q4_0", "q8_0", "bf16"})
  public String kind;

  @Param({"2048x5632", "5632x2048"})
  public String shape;

  @Param({"2"})
  public int threads;

  @Param({"24"})
  public int layers;

  private DType type;
  private int k;
  private int n;
  private long rowBytes;
  private long groupBlock;
  private Arena arena;
  private MemorySegment[] rowMajor;
  private MemorySegment[] interleaved;
  private WeightReads reads;
  private MemorySegment x;
  private MemorySegment y;
  private float[] xs;
  private float[] bias;

  @Setup(Level.Trial)
  public void setup() {
    if (FloatVector.SPECIES_PREFERRED.length() != 16) {
      throw new IllegalStateException("InterleavedQuantBench needs 512-bit vectors (16 f32 lanes); this JVM prefers "
          + FloatVector.SPECIES_PREFERRED.length());
    }
    Parallel.setThreads(threads);
    type = switch (kind) {
      case "q4_0" -> DType.Q4_0;
      case "q8_0" -> DType.Q8_0;
      case "bf16" -> DType.BF16;
      default -> throw new IllegalArgumentException("kind must be q4_0, q8_0 or bf16: " + kind);
    };
    String[] kn = shape.split("x");
    k = Integer.parseInt(kn[0]);
    n = Integer.parseInt(kn[1]);
    if (k % 32 != 0 || n % (2 * R) != 0) {
      throw new IllegalArgumentException("shape needs k % 32 == 0 and n % 32 == 0: " + shape);
    }
    rowBytes = type.byteSize(k);
    groupBlock = type == DType.BF16 ? R * 64L : (long) R * type.blockBytes(); // per 32 k
    arena = Arena.ofShared();
    Random rnd = new Random(7);
    rowMajor = new MemorySegment[layers];
    interleaved = new MemorySegment[layers];
    for (int l = 0; l < layers; l++) {
      MemorySegment w = arena.allocate(n * rowBytes, 64);
      byte[] bytes = new byte[(int) Math.min(Integer.MAX_VALUE - 8, n * rowBytes)];
      rnd.nextBytes(bytes);
      MemorySegment.copy(bytes, 0, w, ValueLayout.JAVA_BYTE, 0, bytes.length);
      if (type == DType.BF16) { // finite values: bf16 of Gaussian weights
        for (long o = 0; o < n * rowBytes; o += 2) {
          w.set(I16, o, (short) (Float.floatToRawIntBits((float) rnd.nextGaussian() * 0.05f) >>> 16));
        }
      } else {
        for (long o = 0; o < n * rowBytes; o += type.blockBytes()) { // valid scales: normal f16 of either sign
          w.set(I16, o, Float.floatToFloat16((rnd.nextFloat() * 2 - 1) * 0.02f + (rnd.nextBoolean() ? 1e-3f : -1e-3f)));
        }
      }
      rowMajor[l] = w;
      interleaved[l] = interleave(w);
    }
    reads = new WeightReads(java.util.List.of(rowMajor));
    x = arena.allocate(4L * k, 64);
    y = arena.allocate(4L * n, 64);
    xs = new float[k];
    bias = new float[k / 32];
    for (int i = 0; i < k; i++) {
      x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
    }
    float[] ref = new float[n];
    Gemv.gemv(n, k, x, 0, rowMajor[0], type, 0, k, y, 0, false);
    MemorySegment.copy(y, ValueLayout.JAVA_FLOAT, 0, ref, 0, n);
    interleavedGemv(interleaved[0]);
    double worst = 0;
    double big = 0;
    for (int j = 0; j < n; j++) {
      worst = Math.max(worst, Math.abs(ref[j] - y.getAtIndex(ValueLayout.JAVA_FLOAT, j)));
      big = Math.max(big, Math.abs(ref[j]));
    }
    System.out.printf("%nfovea-interleaved kind=%s shape=%s max_diff_rel=%.3g%n", kind, shape, worst / big);
    if (!(worst <= 1e-5 * big)) {
      throw new IllegalStateException("interleaved GEMV differs from Gemv.gemv: " + worst + " against max |y| " + big);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  /** Gemv.gemv, row-major GGUF blocks, over every weight. */
  @Benchmark
  public float rowMajor() {
    for (MemorySegment w : rowMajor) {
      Gemv.gemv(n, k, x, 0, w, type, 0, k, y, 0, false);
    }
    return y.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
  }

  /** A plain read of the same bytes ({@link WeightReads}: 2 MiB pieces on the engine's threads): the bound. */
  @Benchmark
  public long read() {
    return reads.read();
  }

  /** The interleaved prototype over every weight (x copied and, for Q4_0, its block sums taken per call as a GEMV would). */
  @Benchmark
  public float interleaved() {
    for (MemorySegment w : interleaved) {
      interleavedGemv(w);
    }
    return y.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
  }

  private void interleavedGemv(MemorySegment w) {
    MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, 0, xs, 0, k);
    boolean q4 = type == DType.Q4_0;
    boolean bf16 = type == DType.BF16;
    if (q4) {
      for (int b = 0; b < k / 32; b++) {
        double t = 0;
        for (int i = 0; i < 32; i++) {
          t += xs[32 * b + i];
        }
        bias[b] = (float) (-8 * t);
      }
    }
    long groupBytes = (long) (k / 32) * groupBlock;
    int groups = n / R;
    int perChunk = Math.max(2, (int) ((2L << 20) / groupBytes) / 2 * 2); // ~2 MiB chunks, whole pairs of groups
    int chunks = (groups + perChunk - 1) / perChunk;
    Parallel.forChunks(chunks, (c, worker) -> {
      int g0 = c * perChunk;
      int g1 = Math.min(groups, g0 + perChunk);
      int half = (g1 - g0) / 2;
      for (int g = g0; g < g0 + half; g++) {
        pair(w, g, g + half, groupBytes, q4, bf16);
      }
      if (((g1 - g0) & 1) != 0) { // an odd last group: with itself, written twice
        pair(w, g1 - 1, g1 - 1, groupBytes, q4, bf16);
      }
    });
  }

  /** Groups g and h (16 rows each) of the interleaved weight w, by its type. */
  private void pair(MemorySegment w, int g, int h, long groupBytes, boolean q4, boolean bf16) {
    long o0 = g * groupBytes;
    long o1 = h * groupBytes;
    long j0 = (long) g * R;
    long j1 = (long) h * R;
    if (bf16) {
      bf16Pair(w, o0, o1, xs, k, y, j0, j1);
    } else if (q4) {
      q4Pair(w, o0, o1, xs, bias, k, y, j0, j1);
    } else {
      q8Pair(w, o0, o1, xs, k, y, j0, j1);
    }
  }

  /** Row-major blocks to the interleaved layout (see the class comment). */
  private MemorySegment interleave(MemorySegment w) {
    int nb = k / 32;
    if (type == DType.BF16) { // per group and 32 k: 16 vectors, lane i holding row i's elements 2v and 2v + 1
      MemorySegment r = arena.allocate(n * rowBytes, 64);
      for (int g = 0; g < n / R; g++) {
        for (int b = 0; b < nb; b++) {
          long base = ((long) g * nb + b) * groupBlock;
          for (int v = 0; v < 16; v++) {
            for (int i = 0; i < R; i++) {
              r.set(ValueLayout.JAVA_INT_UNALIGNED, base + 64L * v + 4L * i,
                  w.get(ValueLayout.JAVA_INT_UNALIGNED, (long) (R * g + i) * rowBytes + 2L * (32 * b + 2 * v)));
            }
          }
        }
      }
      return r;
    }
    int qBytes = type.blockBytes() - 2;
    MemorySegment r = arena.allocate(n * rowBytes, 64);
    for (int g = 0; g < n / R; g++) {
      for (int b = 0; b < nb; b++) {
        long base = ((long) g * nb + b) * groupBlock;
        for (int i = 0; i < R; i++) {
          long src = (long) (R * g + i) * rowBytes + (long) b * type.blockBytes();
          r.set(I16, base + 2L * i, w.get(I16, src));
          for (int v = 0; v < qBytes / 4; v++) {
            for (int j = 0; j < 4; j++) {
              r.set(ValueLayout.JAVA_BYTE, base + 2L * R + 64L * v + 4L * i + j,
                  w.get(ValueLayout.JAVA_BYTE, src + 2 + 4L * v + j));
            }
          }
        }
      }
    }
    return r;
  }

  /**
   * Two BF16 groups at byte offsets o0, o1, all k: per 32 k, 16 vectors whose lane i holds row i's
   * elements 2v (low half) and 2v + 1 (high half), widened with a shift and an and, each multiplied by
   * x broadcast once for both groups, in four partial sums a group.
   */
  static void bf16Pair(MemorySegment w, long o0, long o1, float[] xa, int k, MemorySegment y, long j0, long j1) {
    FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    for (int e = 0; e < k; e += 4, o0 += 128, o1 += 128) {
      IntVector p0 = IntVector.fromMemorySegment(IS, w, o0, LE);
      IntVector p1 = IntVector.fromMemorySegment(IS, w, o1, LE);
      IntVector q0 = IntVector.fromMemorySegment(IS, w, o0 + 64, LE);
      IntVector q1 = IntVector.fromMemorySegment(IS, w, o1 + 64, LE);
      FloatVector xb = FloatVector.broadcast(S, xa[e]);
      s00 = p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xb, s00);
      s10 = p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xb, s10);
      xb = FloatVector.broadcast(S, xa[e + 1]);
      s01 = p0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(xb, s01);
      s11 = p1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(xb, s11);
      xb = FloatVector.broadcast(S, xa[e + 2]);
      s02 = q0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xb, s02);
      s12 = q1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xb, s12);
      xb = FloatVector.broadcast(S, xa[e + 3]);
      s03 = q0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(xb, s03);
      s13 = q1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(xb, s13);
    }
    s00.add(s01).add(s02.add(s03)).intoMemorySegment(y, 4L * j0, LE);
    s10.add(s11).add(s12.add(s13)).intoMemorySegment(y, 4L * j1, LE);
  }

  /** 16 f16 scales at byte o of w as f32 lanes, exactly for every finite value (subnormal ones too; no infinity or NaN). */
  private static FloatVector scales(MemorySegment w, long o) {
    IntVector h = (IntVector) ShortVector.fromMemorySegment(SS, w, o, LE)
        .convertShape(VectorOperators.ZERO_EXTEND_S2I, IS, 0);
    return h.lanewise(VectorOperators.AND, 0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats()
        .mul(0x1p112f).reinterpretAsInts()
        .lanewise(VectorOperators.OR, h.lanewise(VectorOperators.AND, 0x8000).lanewise(VectorOperators.LSHL, 16))
        .reinterpretAsFloats();
  }

  /**
   * Two Q4_0 groups (rows 16 g.. and 16 h..) at byte offsets o0, o1, all k: per block, each 64-byte
   * vector's lanes give 8 nibbles (byte j's low nibble is element 4v + j, its high one 16 + 4v + j),
   * each converted and multiplied by x broadcast once for both groups, in four partial sums that start
   * from the block's -8 sum(x).
   */
  static void q4Pair(MemorySegment w, long o0, long o1, float[] xa, float[] bias, int k, MemorySegment y, long j0,
      long j1) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    int nb = k / 32;
    for (int b = 0; b < nb; b++, o0 += 288, o1 += 288) {
      FloatVector d0 = scales(w, o0);
      FloatVector d1 = scales(w, o1);
      FloatVector s00 = FloatVector.broadcast(S, bias[b]), s10 = s00;
      FloatVector s01 = FloatVector.zero(S), s02 = s01, s03 = s01, s11 = s01, s12 = s01, s13 = s01;
      for (int v = 0; v < 4; v++) {
        IntVector p0 = IntVector.fromMemorySegment(IS, w, o0 + 32 + 64L * v, LE);
        IntVector p1 = IntVector.fromMemorySegment(IS, w, o1 + 32 + 64L * v, LE);
        int xv = 32 * b + 4 * v;
        FloatVector xb = FloatVector.broadcast(S, xa[xv]);
        s00 = ((FloatVector) p0.lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s00);
        s10 = ((FloatVector) p1.lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s10);
        xb = FloatVector.broadcast(S, xa[xv + 16]);
        s00 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s00);
        s10 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 4).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s10);
        xb = FloatVector.broadcast(S, xa[xv + 1]);
        s01 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 8).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s01);
        s11 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 8).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s11);
        xb = FloatVector.broadcast(S, xa[xv + 17]);
        s01 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 12).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s01);
        s11 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 12).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s11);
        xb = FloatVector.broadcast(S, xa[xv + 2]);
        s02 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s02);
        s12 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 16).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s12);
        xb = FloatVector.broadcast(S, xa[xv + 18]);
        s02 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 20).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s02);
        s12 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 20).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s12);
        xb = FloatVector.broadcast(S, xa[xv + 3]);
        s03 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 24).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s03);
        s13 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 24).lanewise(VectorOperators.AND, 0xF).convert(VectorOperators.I2F, 0)).fma(xb, s13);
        xb = FloatVector.broadcast(S, xa[xv + 19]);
        s03 = ((FloatVector) p0.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0)).fma(xb, s03);
        s13 = ((FloatVector) p1.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0)).fma(xb, s13);
      }
      a0 = s00.add(s01).add(s02.add(s03)).fma(d0, a0);
      a1 = s10.add(s11).add(s12.add(s13)).fma(d1, a1);
    }
    a0.intoMemorySegment(y, 4L * j0, LE);
    a1.intoMemorySegment(y, 4L * j1, LE);
  }

  /**
   * Two Q8_0 groups at byte offsets o0, o1, all k: per block, each of 8 vectors' lanes gives 4 int8
   * weights (byte j is element 4v + j), sign-extended with two shifts, converted and multiplied by x
   * broadcast once for both groups, in four partial sums.
   */
  static void q8Pair(MemorySegment w, long o0, long o1, float[] xa, int k, MemorySegment y, long j0, long j1) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0;
    int nb = k / 32;
    for (int b = 0; b < nb; b++, o0 += 544, o1 += 544) {
      FloatVector d0 = scales(w, o0);
      FloatVector d1 = scales(w, o1);
      FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
      for (int v = 0; v < 8; v++) {
        IntVector p0 = IntVector.fromMemorySegment(IS, w, o0 + 32 + 64L * v, LE);
        IntVector p1 = IntVector.fromMemorySegment(IS, w, o1 + 32 + 64L * v, LE);
        int xv = 32 * b + 4 * v;
        FloatVector xb = FloatVector.broadcast(S, xa[xv]);
        s00 = ((FloatVector) p0.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s00);
        s10 = ((FloatVector) p1.lanewise(VectorOperators.LSHL, 24).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s10);
        xb = FloatVector.broadcast(S, xa[xv + 1]);
        s01 = ((FloatVector) p0.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s01);
        s11 = ((FloatVector) p1.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s11);
        xb = FloatVector.broadcast(S, xa[xv + 2]);
        s02 = ((FloatVector) p0.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s02);
        s12 = ((FloatVector) p1.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s12);
        xb = FloatVector.broadcast(S, xa[xv + 3]);
        s03 = ((FloatVector) p0.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s03);
        s13 = ((FloatVector) p1.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0)).fma(xb, s13);
      }
      a0 = s00.add(s01).add(s02.add(s03)).fma(d0, a0);
      a1 = s10.add(s11).add(s12.add(s13)).fma(d1, a1);
    }
    a0.intoMemorySegment(y, 4L * j0, LE);
    a1.intoMemorySegment(y, 4L * j1, LE);
  }
}
