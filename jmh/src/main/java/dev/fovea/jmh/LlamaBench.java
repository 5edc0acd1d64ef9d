package dev.fovea.jmh;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.Storage;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.cpu.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * A LLaMA decoder with TinyLlama-1.1B shapes (22 layers, hidden 2048, intermediate 5632, 32 heads,
 * 4 KV heads, vocabulary 32000) and random weights stored as {@code dtype} (norms F32), loaded the
 * way a user's model is ({@code source=file}, the default): a llama GGUF written by our {@link
 * dev.fovea.tensor.io.GgufWriter} ({@link ModelFiles#tinyLlamaGguf}) and opened with {@link
 * LlamaForCausalLM#load}, the entry point of {@code ./fovea ask}, its weights held as {@code
 * fovea.weights} says (default {@code map}: the file's mapped pages; {@code bench/decode.sh} passes
 * {@code FOVEA_WEIGHTS=copy} through {@code -jvmArgsPrepend -Dfovea.weights=copy}). The same GGUF files are what {@code
 * bench/decode.sh} times llama.cpp on. {@code source=arena} builds the model with the same values
 * written straight into an {@code Arena} (a diagnostic: no user has such a model).
 *
 * <ul>
 *   <li>{@code prefill}: a fresh state and one batched pass over {@code context} prompt tokens;
 *   <li>{@code decode}: one step at context {@code context} (the state is rolled back after each step).
 *       Before each of its iterations the fork also reads every weight once ({@link WeightReads},
 *       best of two passes) and at the end prints the mean of those rates over the measurement
 *       iterations as a line {@code fovea-weight-read dtype=<dtype> gbps=<mean> min=<min>
 *       max=<max> bytes=<n> source=<source> each=<the rate before each measurement iteration, in order>}: the read
 *       bandwidth of the same pages in the same process, which {@code bench/decode.sh} divides the
 *       weight bytes per token by for the decode bound (per iteration too); then the same with
 *       each chunk read as four streams ({@link WeightReads#read4}, the pattern of the four-row
 *       GEMVs), as {@code fovea-weight-read4 dtype=<dtype> gbps=<mean> source=<source> each=<...>};
 *   <li>{@code gemmOnly}: just the prefill's projections ([context, C] x W^T for every weight of every
 *       layer) in F32, the GEMM figure prefill is compared with (only for dtype f32).
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.ADD_MODULES, JvmFlags.VECTOR, JvmFlags.NATIVE_ACCESS, JvmFlags.QUIET, JvmFlags.INLINE_CPUMATH,
    JvmFlags.TRAP_LIMIT, "-Xmx2g"})
@State(Scope.Benchmark)
public class LlamaBench {
  @Param({"f32", "f16", "bf16", "q8_0", "q4_0"})
  public String dtype;

  /** {@code file}: loaded from a GGUF through {@link LlamaForCausalLM#load}; {@code arena}: built in memory (diagnostic). */
  @Param({"file"})
  public String source;

  @Param({"22"})
  public int layers;

  @Param({"600"})
  public int context;

  @Param({"0"})
  public int threads;

  private Arena arena;
  private LlamaForCausalLM model;
  private DecodeState state;
  private int[] prompt;
  private Tensor x;
  private WeightReads reads;
  private final List<Double> readGbps = new java.util.ArrayList<>();
  private final List<Double> read4Gbps = new java.util.ArrayList<>();

  /** TinyLlama-1.1B's shapes with {@code layers} layers. */
  public static LlamaConfig config(int layers) {
    return new LlamaConfig(32000, 2048, 5632, layers, 32, 4, 64, 1e-5f, 10000.0, null, 2048, false, 1, List.of(2),
        "TinyLlama-1.1B shapes (random weights)");
  }

  /**
   * The model of {@link #config} with random weights stored as {@code dtype} (f32, bf16, q8_0...;
   * norms F32), each written once straight into {@code arena}'s off-heap memory.
   */
  static LlamaForCausalLM randomModel(int layers, String dtype, Arena arena) {
    DType type = DType.valueOf(dtype.toUpperCase());
    LlamaForCausalLM model = new LlamaForCausalLM(config(layers));
    long[] seed = {1};
    model.namedParameters().forEach((name, p) -> {
      int[] shape = p.shape();
      DType t = shape.length == 1 ? DType.F32 : type;
      long n = Shapes.numel(shape);
      MemorySegment seg = Buffers.random(arena, t, n, seed[0]++);
      p.set(new Tensor(Storage.wrap(seg, t, n), shape, Shapes.contiguousStrides(shape), 0));
    });
    return model;
  }

  /** A fixed prompt of {@code context} token ids spread over the vocabulary. */
  static int[] prompt(int context) {
    int[] prompt = new int[context];
    for (int i = 0; i < context; i++) {
      prompt[i] = (int) ((i * 7919L + 3) % 32000);
    }
    return prompt;
  }

  @Setup(Level.Trial)
  public void setup() {
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    if (source.equals("file")) {
      java.nio.file.Path gguf = ModelFiles.tinyLlamaGguf(layers, dtype);
      model = LlamaForCausalLM.load(gguf);
      var up = ModelFiles.weight(model, 0, "up");
      boolean mapped = dev.fovea.tensor.io.Mappings.isFileMapped(up);
      System.out.printf("%nfovea-model source=file path=%s weights=%s huge_pages=%s%n", gguf, mapped ? "mapped" : "copied",
          mapped ? dev.fovea.tensor.io.Mappings.hugePages(up) : "-");
    } else if (source.equals("arena")) {
      arena = Arena.ofShared();
      model = randomModel(layers, dtype, arena);
    } else {
      throw new IllegalArgumentException("source must be file or arena, is " + source);
    }
    prompt = prompt(context);
    state = model.prefill(Inputs.ids(prompt), context + 8);
    try (var s = dev.fovea.tensor.Scope.open()) {
      x = Tensor.ones(context, 2048).copyTo(dev.fovea.tensor.Scope.global());
    }
    reads = WeightReads.of(model);
  }

  /** Decode only: the weights' read bandwidth right before the iteration (best of two passes). */
  @Setup(Level.Iteration)
  public void readWeights(BenchmarkParams benchmark, IterationParams iteration) {
    if (!benchmark.getBenchmark().endsWith(".decode")) {
      return;
    }
    double best = reads.best(2);
    double best4 = reads.best4(2);
    if (iteration.getType() == IterationType.MEASUREMENT) {
      readGbps.add(best);
      read4Gbps.add(best4);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (!readGbps.isEmpty()) {
      double mean = readGbps.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      System.out.printf("%nfovea-weight-read dtype=%s gbps=%.2f min=%.2f max=%.2f bytes=%d source=%s each=%s%n", dtype, mean,
          readGbps.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
          readGbps.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), reads.bytes(), source,
          readGbps.stream().map(g -> String.format(java.util.Locale.ROOT, "%.2f", g))
              .collect(java.util.stream.Collectors.joining(",")));
      System.out.printf("%nfovea-weight-read4 dtype=%s gbps=%.2f source=%s each=%s%n", dtype,
          read4Gbps.stream().mapToDouble(Double::doubleValue).average().orElseThrow(), source,
          read4Gbps.stream().map(g -> String.format(java.util.Locale.ROOT, "%.2f", g))
              .collect(java.util.stream.Collectors.joining(",")));
    }
    if (source.equals("file")) {
      // every weight has been read by now, so the mapping's share on 2 MiB entries is final
      var up = ModelFiles.weight(model, 0, "up");
      if (dev.fovea.tensor.io.Mappings.isFileMapped(up)) {
        System.out.printf("%nfovea-model-pages file_pmd_mapped_mb=%d%n", dev.fovea.tensor.io.Mappings.hugeMappedBytes(up) >> 20);
      }
    }
    state.close();
    if (arena != null) {
      arena.close();
    } else {
      model.close();
    }
  }

  @Benchmark
  public int prefill() {
    try (DecodeState s = model.prefill(Inputs.ids(prompt), context)) {
      return s.position();
    }
  }

  @Benchmark
  public float decode() {
    float[] logits = model.step(state, 17);
    state.truncate(context);
    return logits[0];
  }

  @Benchmark
  public float gemmOnly() {
    if (!dtype.equals("f32")) {
      return 0;
    }
    float sum = 0;
    try (var s = dev.fovea.tensor.Scope.open()) {
      for (var layer : model.model.layers) {
        for (var lin : List.of(layer.selfAttn.qProj, layer.selfAttn.kProj, layer.selfAttn.vProj, layer.selfAttn.outProj, layer.mlp.gateProj,
            layer.mlp.upProj)) {
          sum += Ops.linear(x, lin.weight.get(), null).get(0, 0);
        }
        Tensor h = Tensor.empty(DType.F32, context, 5632);
        sum += Ops.linear(h, layer.mlp.downProj.weight.get(), null).get(0, 0);
      }
    }
    return sum;
  }
}
