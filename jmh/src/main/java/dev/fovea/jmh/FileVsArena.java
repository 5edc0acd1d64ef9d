package dev.fovea.jmh;

import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.tensor.io.Mappings;
import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * Issue 18's first check in one process: the TinyLlama-shaped GGUF of {@link LlamaBench} loaded as
 * a user loads it ({@link LlamaForCausalLM#load}, weights as {@code -Dfovea.weights} says, mapped by
 * default) against the same shapes built in an {@code Arena} ({@link LlamaBench#randomModel}),
 * alternated round by round (10 decode steps at context 600, or one 600-token prefill, per model and
 * round; the order flips every round), so both see the same memory phases of this VM, which drift
 * between processes by more than the 5% asked. Prints the medians (first two rounds dropped), their
 * ratio, how often the file model was faster, and how the mapping went on huge pages ({@code
 * HugeFilePages}). Usage: {@code FileVsArena dtype [rounds] [prefill]}, e.g. {@code java -cp
 * "jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*" --add-modules jdk.incubator.vector
 * --enable-native-access=ALL-UNNAMED -Xmx3g dev.fovea.jmh.FileVsArena bf16 22}.
 */
public final class FileVsArena {
  private FileVsArena() {}

  public static void main(String[] args) {
    String dtype = args.length > 0 ? args[0] : "bf16";
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 22;
    boolean prefill = args.length > 2 && args[2].equals("prefill");
    if (rounds < 3) {
      throw new IllegalArgumentException("rounds must be at least 3 (the first two are dropped), is " + rounds);
    }
    int context = 600;
    int steps = 10;
    LlamaForCausalLM file = LlamaForCausalLM.load(ModelFiles.tinyLlamaGguf(22, dtype));
    LlamaForCausalLM arena = LlamaBench.randomModel(22, dtype, Arena.ofShared());
    int[] prompt = LlamaBench.prompt(context);
    DecodeState fileState = file.prefill(Inputs.ids(prompt), context + 8);
    DecodeState arenaState = arena.prefill(Inputs.ids(prompt), context + 8);
    double[] fileMs = new double[rounds - 2];
    double[] arenaMs = new double[rounds - 2];
    int fileFaster = 0;
    for (int r = 0; r < rounds; r++) {
      double f = 0;
      double a = 0;
      for (int turn = 0; turn < 2; turn++) {
        boolean isFile = turn == (r & 1);
        LlamaForCausalLM m = isFile ? file : arena;
        DecodeState s = isFile ? fileState : arenaState;
        long t0 = System.nanoTime();
        if (prefill) {
          try (DecodeState p = m.prefill(Inputs.ids(prompt), context + 8)) {
            // timed: the prefill itself
          }
        } else {
          for (int k = 0; k < steps; k++) {
            m.step(s, 17);
            s.truncate(context);
          }
        }
        double ms = (System.nanoTime() - t0) / 1e6 / (prefill ? 1 : steps);
        if (isFile) {
          f = ms;
        } else {
          a = ms;
        }
      }
      if (r >= 2) {
        fileMs[r - 2] = f;
        arenaMs[r - 2] = a;
        fileFaster += f <= a ? 1 : 0;
      }
    }
    // the plain read of each model's weights (WeightReads), alternated the same way: separates the
    // memory the weights sit in from what the kernels do with it
    WeightReads fileReads = WeightReads.of(file);
    WeightReads arenaReads = WeightReads.of(arena);
    double[] fileGbps = new double[6];
    double[] arenaGbps = new double[6];
    for (int r = 0; r < 6; r++) {
      if ((r & 1) == 0) {
        fileGbps[r] = fileReads.best(1);
        arenaGbps[r] = arenaReads.best(1);
      } else {
        arenaGbps[r] = arenaReads.best(1);
        fileGbps[r] = fileReads.best(1);
      }
    }
    Arrays.sort(fileGbps);
    Arrays.sort(arenaGbps);
    Arrays.sort(fileMs);
    Arrays.sort(arenaMs);
    double fm = fileMs[fileMs.length / 2];
    double am = arenaMs[arenaMs.length / 2];
    var up = ModelFiles.weight(file, 0, "up");
    boolean mapped = Mappings.isFileMapped(up);
    System.out.printf("%s %s: file %.1f ms, arena %.1f ms (medians of %d rounds), file/arena %.3f, file faster in %d; weights %s%n",
        dtype, prefill ? "prefill" : "decode step", fm, am, fileMs.length, fm / am, fileFaster,
        mapped ? "mapped, huge_pages=" + Mappings.hugePages(up) + ", " + (Mappings.hugeMappedBytes(up) >> 20) + " MB on 2 MiB entries" : "copied");
    System.out.printf("weights read (median of 6 alternated passes): file %.1f GB/s, arena %.1f GB/s, file/arena %.3f%n",
        fileGbps[3], arenaGbps[3], fileGbps[3] / arenaGbps[3]);
    System.out.printf("layer 0 weights' addresses mod 64 (file / arena): up %d / %d, down %d / %d, q %d / %d%n",
        up.address() % 64, ModelFiles.weight(arena, 0, "up").address() % 64,
        ModelFiles.weight(file, 0, "down").address() % 64, ModelFiles.weight(arena, 0, "down").address() % 64,
        ModelFiles.weight(file, 0, "q").address() % 64, ModelFiles.weight(arena, 0, "q").address() % 64);
    fileState.close();
    arenaState.close();
    file.close();
  }
}
