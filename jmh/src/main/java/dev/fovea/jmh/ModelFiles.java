package dev.fovea.jmh;

import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.GgufType;
import dev.fovea.tensor.io.GgufWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Model files for the benchmarks, so that they time what a user runs: a model loaded from a file
 * through the same entry point {@code ./fovea ask} calls ({@link LlamaForCausalLM#load}), weights
 * held as a user's are ({@code fovea.weights}). The files are written once by our {@link GgufWriter} into {@code
 * jmh/target/models/} (or {@code -Dfovea.bench.models=DIR}) and reused.
 */
public final class ModelFiles {
  private ModelFiles() {}

  /** Where the benchmark model files live. */
  public static Path dir() {
    return Path.of(System.getProperty("fovea.bench.models", "jmh/target/models"));
  }

  /**
   * Layer {@code layer}'s weight of {@code model} named by {@code which} ("up", "down" or "q"), as
   * the segment its storage sits in: what the benchmarks inspect to say how a model holds its
   * weights (mapped from the file or copied, on huge pages or not).
   */
  static java.lang.foreign.MemorySegment weight(LlamaForCausalLM model, int layer, String which) {
    var l = model.model.layers.get(layer);
    var linear = switch (which) {
      case "up" -> l.mlp.upProj;
      case "down" -> l.mlp.downProj;
      case "q" -> l.selfAttn.qProj;
      default -> throw new IllegalArgumentException("weight: up, down or q, not " + which);
    };
    return linear.weight.get().storage().segment();
  }

  /**
   * {@code ../shared/data} (or {@code -Dfovea.shared=<folder>}'s {@code data}), or null when absent:
   * the real vocabularies and pictures the benchmarks use when they can.
   */
  static Path sharedData() {
    for (String c : new String[] {System.getProperty("fovea.shared", ""), "../shared", "../../shared"}) {
      if (!c.isEmpty() && Files.isDirectory(Path.of(c, "data"))) {
        return Path.of(c, "data");
      }
    }
    return null;
  }

  /**
   * A llama GGUF of {@link LlamaBench#config TinyLlama-1.1B's shapes} with {@code layers} layers,
   * the random weights of {@link LlamaBench#randomModel} stored as {@code dtype} (f32, f16, bf16,
   * q8_0, q4_0; norms F32) and the LLaMA-2 vocabulary (from {@code ../shared}; a made-up one of the
   * same size without it). Written on first use, then reused.
   */
  public static Path tinyLlamaGguf(int layers, String dtype) {
    Path out = dir().resolve("tinyllama-" + layers + "l-" + dtype + ".gguf");
    if (Files.isRegularFile(out)) {
      return out;
    }
    LlamaConfig c = LlamaBench.config(layers);
    try (Arena arena = Arena.ofConfined()) {
      GgufWriter w = header(c);
      // the values of the arena model, so source=file and source=arena time the same weights
      LlamaBench.randomModel(layers, dtype, arena).namedParameters().forEach((name, p) -> {
        dev.fovea.tensor.Tensor t = p.get();
        w.addRaw(GgufLlamaNames.toGguf(name), GgmlType.valueOf(t.dtype().name()), t.shape(), t.storage().segment());
      });
      Files.createDirectories(dir());
      Path tmp = Files.createTempFile(dir(), out.getFileName().toString(), ".tmp");
      try {
        w.write(tmp);
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /**
   * A Hugging Face style folder {@code dir()/name}: {@code config.json} and {@code
   * model.safetensors} holding every parameter of the module {@code make} builds (random values of
   * {@code Module.initRandom}), under {@code prefix}. Written on first use (into a temporary folder,
   * then renamed), then reused.
   */
  public static Path hfFolder(String name, String configJson, String prefix, java.util.function.Supplier<dev.fovea.nn.Module> make) {
    return hfFolder(name, configJson, prefix, make, (n, t) -> t);
  }

  /** As {@link #hfFolder(String, String, String, java.util.function.Supplier)}, each parameter stored as {@code store} returns it (e.g. in BF16). */
  public static Path hfFolder(String name, String configJson, String prefix, java.util.function.Supplier<dev.fovea.nn.Module> make,
      java.util.function.BiFunction<String, dev.fovea.tensor.Tensor, dev.fovea.tensor.Tensor> store) {
    Path out = dir().resolve(name);
    if (Files.isRegularFile(out.resolve("model.safetensors")) && Files.isRegularFile(out.resolve("config.json"))) {
      return out;
    }
    try {
      Files.createDirectories(dir());
      Path tmp = Files.createTempDirectory(dir(), name + ".tmp");
      try (var scope = dev.fovea.tensor.Scope.open()) {
        dev.fovea.nn.Module m = make.get();
        List<dev.fovea.tensor.io.SafetensorsWriter.Item> items = new ArrayList<>();
        m.namedParameters().forEach((n, p) -> items.add(new dev.fovea.tensor.io.SafetensorsWriter.Item(prefix + n, store.apply(n, p.get()))));
        dev.fovea.tensor.io.SafetensorsWriter.write(tmp.resolve("model.safetensors"), items, java.util.Map.of("format", "pt"));
        Files.writeString(tmp.resolve("config.json"), configJson);
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static GgufWriter header(LlamaConfig c) {
    GgufWriter w = new GgufWriter()
        .putString("general.architecture", "llama")
        .putString("general.name", "TinyLlama-1.1B shapes, " + c.numHiddenLayers() + " layers, random weights (fovea bench)")
        .putUInt32("llama.context_length", c.maxPositionEmbeddings())
        .putUInt32("llama.embedding_length", c.hiddenSize())
        .putUInt32("llama.block_count", c.numHiddenLayers())
        .putUInt32("llama.feed_forward_length", c.intermediateSize())
        .putUInt32("llama.rope.dimension_count", c.headDim())
        .putUInt32("llama.attention.head_count", c.numAttentionHeads())
        .putUInt32("llama.attention.head_count_kv", c.numKeyValueHeads())
        .putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps())
        .putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
        .putString("tokenizer.ggml.model", "llama");
    Path data = sharedData();
    Path vocab = data == null ? null : data.resolve("tokenizers/llama/ggml-vocab-llama-spm.gguf");
    if (vocab != null && Files.isRegularFile(vocab)) {
      try (GgufSource v = GgufSource.open(vocab)) {
        for (String k : List.of("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")) {
          w.put(k, GgufType.ARRAY, v.getArray(k));
        }
        w.putUInt32("tokenizer.ggml.bos_token_id", v.getInt("tokenizer.ggml.bos_token_id"));
        w.putUInt32("tokenizer.ggml.eos_token_id", v.getInt("tokenizer.ggml.eos_token_id"));
        w.putUInt32("tokenizer.ggml.unknown_token_id", v.getInt("tokenizer.ggml.unknown_token_id", 0));
      }
      return w;
    }
    // no ../shared: 3 specials, 256 byte pieces, then made-up pieces up to the vocabulary size
    int n = c.vocabSize();
    List<String> tokens = new ArrayList<>(n);
    float[] scores = new float[n];
    int[] types = new int[n];
    tokens.add("<unk>");
    tokens.add("<s>");
    tokens.add("</s>");
    for (int b = 0; b < 256; b++) {
      tokens.add(String.format("<0x%02X>", b));
    }
    for (int i = 0; tokens.size() < n; i++) {
      tokens.add("\u2581p" + i);
    }
    for (int i = 0; i < n; i++) {
      types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
      scores[i] = i < 259 ? 0 : -(i - 259);
    }
    return w.putStrings("tokenizer.ggml.tokens", tokens).putFloats("tokenizer.ggml.scores", scores)
        .putInts("tokenizer.ggml.token_type", types).putUInt32("tokenizer.ggml.bos_token_id", 1)
        .putUInt32("tokenizer.ggml.eos_token_id", 2).putUInt32("tokenizer.ggml.unknown_token_id", 0);
  }
}
