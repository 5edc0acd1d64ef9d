package dev.fovea.llm.llama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufType;
import dev.fovea.tensor.io.GgufWriter;
import dev.fovea.tensor.io.WeightFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The checked-in tiny models of tools/reference/llama/make_llama_reference.py and their reference outputs. */
public final class LlamaFixtures {
  private LlamaFixtures() {}

  static Path dir(String name) {
    try {
      return Path.of(LlamaFixtures.class.getResource("/llama-reference/" + name + "/config.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** reference.safetensors of a fixture (mapped; close it). */
  static WeightSource reference(String name) {
    return WeightFiles.open(dir(name).resolve("reference.safetensors"));
  }

  static JsonNode meta(String name) {
    try {
      return new ObjectMapper().readTree(dir(name).resolve("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static int[] ints(WeightSource ref, String name) {
    long[] v = ref.get(name).toLongArray();
    int[] r = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      r[i] = (int) v[i];
    }
    return r;
  }

  /** max |a - b| / max(1, |b|) elementwise. */
  public static double maxRelErr(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1.0, Math.abs(b[i])));
    }
    return m;
  }

  public static double maxAbsErr(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  public static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  /**
   * A SentencePiece-style vocabulary of {@code n} pieces for GGUF metadata: &lt;unk&gt;, &lt;s&gt;,
   * &lt;/s&gt;, 256 byte pieces, then "▁a", "b", ... (n &gt;= 259).
   */
  static List<String> vocabulary(int n) {
    List<String> v = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
    for (int b = 0; b < 256; b++) {
      v.add(String.format("<0x%02X>", b));
    }
    String letters = "abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; v.size() < n; i++) {
      String piece = (i % 2 == 0 ? "\u2581" : "") + letters.charAt(i % 26) + (i / 26 == 0 ? "" : Integer.toString(i / 26));
      v.add(piece);
    }
    return v;
  }

  /**
   * Writes the fixture as a llama GGUF: weights as {@code type} (norms stay F32), q/k rows permuted
   * to llama.cpp's interleaved layout, llama.* and tokenizer.ggml.* metadata.
   */
  static Path writeGguf(String name, GgmlType type, Path out) {
    LlamaConfig c = LlamaConfig.fromJson(dir(name).resolve("config.json"));
    try (var src = WeightFiles.open(dir(name).resolve("model.safetensors")); var scope = Scope.open()) {
      GgufWriter w = header(c);
      for (String n : src.names()) {
        Tensor t = GgufLlamaNames.ggufRows(n, src.get(n), c.numAttentionHeads(), c.numKeyValueHeads());
        w.addTensor(GgufLlamaNames.toGguf(n), t, t.dim() == 1 ? GgmlType.F32 : type);
      }
      w.write(out);
    }
    return out;
  }

  static GgufWriter header(LlamaConfig c) {
    List<String> vocab = vocabulary(c.vocabSize());
    float[] scores = new float[vocab.size()];
    int[] types = new int[vocab.size()];
    for (int i = 0; i < vocab.size(); i++) {
      types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
      scores[i] = i < 259 ? 0 : -(i - 259);
    }
    return new GgufWriter()
        .putString("general.architecture", "llama")
        .putString("general.name", "fovea tiny llama")
        .putUInt32("llama.context_length", c.maxPositionEmbeddings())
        .putUInt32("llama.embedding_length", c.hiddenSize())
        .putUInt32("llama.block_count", c.numHiddenLayers())
        .putUInt32("llama.feed_forward_length", c.intermediateSize())
        .putUInt32("llama.rope.dimension_count", c.headDim())
        .putUInt32("llama.attention.head_count", c.numAttentionHeads())
        .putUInt32("llama.attention.head_count_kv", c.numKeyValueHeads())
        .putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps())
        .putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
        .putString("tokenizer.ggml.model", "llama")
        .putStrings("tokenizer.ggml.tokens", vocab)
        .putFloats("tokenizer.ggml.scores", scores)
        .putInts("tokenizer.ggml.token_type", types)
        .putUInt32("tokenizer.ggml.bos_token_id", 1)
        .putUInt32("tokenizer.ggml.eos_token_id", 2)
        .put("tokenizer.ggml.unknown_token_id", GgufType.UINT32, 0L);
  }
}
