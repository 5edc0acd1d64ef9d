package dev.fovea.llm.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resident memory of a loaded model: a ~140 MB F32 LLaMA written to a temp safetensors folder is
 * loaded and run (prefill + decode steps) in a forked JVM whose heap is fixed and pre-touched;
 * VmRSS grows by at most 1.1x the weight bytes plus the KV cache when the weights are mapped (not
 * copied: a copy would double the growth), and by at most 1.3x when they are copied into the
 * process ({@link dev.fovea.tensor.io.Resident}).
 */
class LlamaMemoryTest {
  @TempDir Path tmp;

  static Map<String, Object> config() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("model_type", "llama");
    c.put("vocab_size", 16000);
    c.put("hidden_size", 512);
    c.put("intermediate_size", 1408);
    c.put("num_hidden_layers", 6);
    c.put("num_attention_heads", 8);
    c.put("num_key_value_heads", 4);
    c.put("max_position_embeddings", 512);
    c.put("rms_norm_eps", 1e-5);
    c.put("tie_word_embeddings", false);
    return c;
  }

  /** Mapped weights ({@code fovea.weights=map}): growth within 1.1x the weights plus the cache. */
  @Test
  void mappedWeightsAreNotCopied() throws Exception {
    residentMemoryStaysWithinWeightsPlusCache("map", 1.1);
  }

  /**
   * Weights copied into the process ({@code fovea.weights=copy}, or {@code auto} when they
   * fit): the copy is held once and the file's pages leave the resident set after copying, so the
   * growth stays well below the 2x that a copy plus its mapped source would take. Measured: 1.17
   * (the whole embedding is copied, where a mapped run touches only the rows it reads).
   */
  @Test
  void copiedWeightsAreHeldOnce() throws Exception {
    residentMemoryStaysWithinWeightsPlusCache("copy", 1.3);
  }

  private void residentMemoryStaysWithinWeightsPlusCache(String mode, double bound) throws Exception {
    Files.writeString(tmp.resolve("config.json"), new ObjectMapper().writeValueAsString(config()));
    LlamaConfig c = LlamaConfig.fromJson(tmp.resolve("config.json"));
    try (var scope = Scope.open()) {
      LlamaForCausalLM shape = new LlamaForCausalLM(c);
      List<SafetensorsWriter.Item> items = new ArrayList<>();
      SplittableRandom rng = new SplittableRandom(5);
      shape.namedParameters().forEach((name, p) -> {
        Tensor t = Tensor.empty(DType.F32, p.shape());
        MemorySegment seg = t.storage().segment();
        float scale = (float) (1 / Math.sqrt(p.shape()[p.shape().length - 1]));
        for (long i = 0; i < t.numel(); i++) {
          seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, p.shape().length == 1 ? 1f : (float) (rng.nextDouble(-1, 1) * scale));
        }
        items.add(new SafetensorsWriter.Item(name, t));
      });
      SafetensorsWriter.write(tmp.resolve("model.safetensors"), items, Map.of());
    }
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xms64m", "-Xmx64m", "-XX:+AlwaysPreTouch",
        "-XX:TieredStopAtLevel=1", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dfovea.threads=2", "-Dfovea.weights=" + mode,
        "-cp", System.getProperty("java.class.path"), Probe.class.getName(), tmp.toString(), LlamaFixtures.dir("tiny").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe timed out");
    assertEquals(0, p.exitValue(), out);
    String line = out.lines().filter(l -> l.startsWith("rss ")).findFirst().orElseThrow(() -> new AssertionError(out));
    String[] f = line.split(" ");
    long before = Long.parseLong(f[1]);
    long after = Long.parseLong(f[2]);
    long weights = Long.parseLong(f[3]);
    long cache = Long.parseLong(f[4]);
    long growth = after - before;
    System.out.printf("llama memory (" + mode + "): VmRSS grew %.1f MiB for %.1f MiB of weights + %.1f MiB of KV cache (ratio %.3f); %s%n", growth / 1048576.0,
        weights / 1048576.0, cache / 1048576.0, growth / (double) (weights + cache), f.length > 5 ? String.join(" ", java.util.Arrays.copyOfRange(f, 5, f.length)) : "");
    assertTrue(growth <= bound * weights + cache, mode + ": RSS grew " + growth + " bytes for " + weights + " bytes of weights and " + cache + " of cache");
  }

  /** Runs in the forked JVM: warm up on the tiny fixture, then load and run the big one, printing VmRSS before and after. */
  public static final class Probe {
    public static void main(String[] args) throws IOException {
      try (var tiny = LlamaForCausalLM.load(Path.of(args[1])); var s = tiny.prefill(Inputs.ids(1, 5, 9, 11), 32)) {
        for (int i = 0; i < 8; i++) {
          tiny.step(s, 7 + i);
        }
      }
      System.gc();
      long before = rss("VmRSS");
      try (var lm = LlamaForCausalLM.load(Path.of(args[0]))) {
        int[] prompt = new int[64];
        for (int i = 0; i < prompt.length; i++) {
          prompt[i] = (i * 37) % lm.vocabSize();
        }
        long cache;
        try (var s = lm.prefill(Inputs.ids(prompt), 256)) {
          for (int i = 0; i < 16; i++) {
            lm.step(s, i + 3);
          }
          cache = s.cacheBytes();
          long after = rss("VmRSS");
          System.out.println("rss " + before + " " + after + " " + lm.weightBytes() + " " + cache + " RssAnon=" + rss("RssAnon") / 1024 + "KiB RssFile="
              + rss("RssFile") / 1024 + "KiB");
        }
      }
    }

    static long rss(String key) throws IOException {
      for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (l.startsWith(key + ":")) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        }
      }
      throw new IllegalStateException(key + " not in /proc/self/status");
    }
  }
}
