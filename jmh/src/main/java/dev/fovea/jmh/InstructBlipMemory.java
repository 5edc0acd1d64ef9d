package dev.fovea.jmh;

import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.llm.instructblip.InstructBlipPrompt;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.tokenizer.TokenizerLoader;
import dev.fovea.nn.StageClock;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.Resident;
import dev.fovea.vit.image.ImageProcessor;
import dev.fovea.vit.tokenizer.TextTokenizer;
import dev.fovea.vit.tokenizer.WordPieceTokenizer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Memory and time of one InstructBLIP answer (issue 24, item 4), run by {@code
 * bench/instructblip-memory.sh} on the full-size folder of {@link InstructBlipFolder}: the steps of
 * {@code ./fovea ask --model FOLDER --image IMAGE --question QUESTION} through the same API (load
 * with the weights as {@code fovea.weights} says, mapped by default; the tokenizers and the
 * BlipImageProcessor of the folder; every weight page touched once as ask's load does; the image;
 * {@link InstructBlipForConditionalGeneration#prepare}, timed per module by a {@link StageClock};
 * prefill and greedy decode steps), then the process's resident memory from {@code
 * /proc/self/status}.
 *
 * <p>Run it in a JVM whose heap is fixed and pre-touched ({@code -Xms = -Xmx, -XX:+AlwaysPreTouch}):
 * then the heap is resident before the first reading, and the growth of VmRSS (and the peak,
 * VmHWM) after it is what the model takes: mapped weight pages, the KV cache, activations, code.
 * The bound of the issue is growth <= 1.1 x weight bytes + KV cache bytes.
 *
 * <p>Prints {@code name: value} lines: times in ms per stage (load, page_in, preprocess, vision,
 * qformer, projection, prefill, step median, decode, total), memory in MiB, the ratio and whether it
 * is within the bound, and the answer's ids and text. Exits 1 when the bound is exceeded.
 */
public final class InstructBlipMemory {
  private InstructBlipMemory() {}

  /** The sum of the page-in reads, kept so they are not optimized away. */
  static volatile long touched;

  public static void main(String[] args) throws IOException {
    if (args.length != 4) {
      System.err.println("usage: InstructBlipMemory FOLDER IMAGE QUESTION NEW_TOKENS");
      System.exit(2);
    }
    Path folder = Path.of(args[0]);
    Path image = Path.of(args[1]);
    String question = args[2];
    int newTokens = Integer.parseInt(args[3]);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("weights_mode", Resident.requested().name().toLowerCase());
    out.put("threads", dev.fovea.tensor.cpu.Parallel.threads());
    out.put("heap_max_mib", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getMax() >> 20);
    System.gc();
    long rss0 = status("VmRSS");
    long t0 = System.nanoTime();
    try (InstructBlipForConditionalGeneration lm = InstructBlipForConditionalGeneration.load(folder)) {
      TextTokenizer tokenizer = TokenizerLoader.load(folder);
      WordPieceTokenizer qformerTokenizer = TokenizerLoader.fromVocabTxt(folder.resolve("qformer_tokenizer/vocab.txt"));
      ImageProcessor processor = ImageProcessor.fromConfig(folder.resolve("preprocessor_config.json"));
      long t1 = System.nanoTime();
      long rssLoaded = status("VmRSS");
      touched = pageIn(lm);
      long t2 = System.nanoTime();
      long rssPaged = status("VmRSS");
      long weights = lm.weightBytes();
      try (Scope scope = Scope.open(); StageClock clock = StageClock.attach(lm, "vision_model", "qformer", "language_projection")) {
        int[] ids = InstructBlipPrompt.llmIds(tokenizer, question);
        int[] qids = InstructBlipPrompt.qformerIds(qformerTokenizer, question, lm.config);
        Tensor pixels = processor.process(image).unsqueeze(0);
        long t3 = System.nanoTime();
        clock.start();
        var inputs = lm.prepare(ids, qids, pixels);
        long t4 = System.nanoTime();
        Map<String, Double> stages = clock.millis();
        int length = inputs.ids().length;
        int[] answer = new int[newTokens];
        long[] steps = new long[newTokens - 1];
        long cache;
        long t5;
        try (DecodeState state = lm.prefill(inputs.toInputs(), length + newTokens)) {
          t5 = System.nanoTime();
          answer[0] = argmax(state.logits());
          for (int i = 1; i < newTokens; i++) {
            long s = System.nanoTime();
            answer[i] = argmax(lm.step(state, answer[i - 1]));
            steps[i - 1] = System.nanoTime() - s;
          }
          cache = state.cacheBytes();
        }
        long t6 = System.nanoTime();
        long rssEnd = status("VmRSS");
        long hwm = status("VmHWM");
        long[] sorted = steps.clone();
        Arrays.sort(sorted);
        out.put("load_ms", ms(t1 - t0));
        out.put("page_in_ms", ms(t2 - t1));
        out.put("preprocess_ms", ms(t3 - t2));
        out.put("vision_ms", stages.get("vision_model"));
        out.put("qformer_ms", stages.get("qformer"));
        out.put("projection_ms", stages.get("language_projection"));
        out.put("prepare_ms", ms(t4 - t3));
        out.put("prefill_ms", ms(t5 - t4));
        out.put("prompt_positions", length);
        out.put("step_median_ms", sorted.length == 0 ? 0 : ms(sorted[sorted.length / 2]));
        out.put("step_ms", Arrays.toString(Arrays.stream(steps).mapToDouble(InstructBlipMemory::ms).toArray()));
        out.put("decode_ms", ms(t6 - t5));
        out.put("total_ms", ms(t6 - t0));
        out.put("weight_bytes", weights);
        out.put("kv_cache_bytes", cache);
        out.put("scope_bytes", scope.allocatedBytes());
        out.put("rss_before_load_mib", rss0 >> 20);
        out.put("rss_after_load_mib", rssLoaded >> 20);
        out.put("rss_after_page_in_mib", rssPaged >> 20);
        out.put("rss_end_mib", rssEnd >> 20);
        out.put("hwm_mib", hwm >> 20);
        out.put("rss_anon_end_mib", status("RssAnon") >> 20);
        out.put("rss_file_end_mib", status("RssFile") >> 20);
        long growth = hwm - rss0;
        double bound = 1.1 * weights + cache;
        out.put("peak_growth_mib", growth >> 20);
        out.put("bound_mib", (long) bound >> 20);
        out.put("growth_over_weights_plus_cache", Math.round(1000.0 * growth / (weights + cache)) / 1000.0);
        out.put("within_bound", growth <= bound);
        out.put("heap_used_mib", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20);
        out.put("answer_ids", Arrays.toString(answer));
        out.put("answer_text", tokenizer.decode(answer).replace('\n', ' '));
        out.forEach((k, v) -> System.out.println(k + ": " + v));
        if (growth > bound) {
          System.exit(1);
        }
      }
    }
  }

  /** Reads one byte of every 4 KiB page of every weight, as {@code ./fovea ask} does after loading; returns their sum. */
  static long pageIn(InstructBlipForConditionalGeneration lm) {
    long sink = 0;
    for (var p : lm.namedParameters().values()) {
      Tensor t = p.get();
      MemorySegment seg = t.storage().segment();
      long bytes = Math.min(t.dtype().byteSize(t.numel()), seg.byteSize());
      for (long off = 0; off < bytes; off += 4096) {
        sink += seg.get(ValueLayout.JAVA_BYTE, off);
      }
    }
    return sink;
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  static double ms(long nanos) {
    return Math.round(nanos / 1e5) / 10.0;
  }

  /** A {@code /proc/self/status} field in bytes (its kB times 1024). */
  static long status(String key) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith(key + ":")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException(key + " not in /proc/self/status");
  }
}
