package dev.fovea.jmh;

import dev.fovea.llm.llama.LlamaForCausalLM;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The read bandwidth of a model file's weights, as {@link LlamaBench}'s decode fork measures it
 * ({@link WeightReads}, best of {@code passes}, front to back), in a process of its own: {@code
 * bench/oneshot.sh} runs it right before and right after each one-shot {@code ./fovea ask}, whose
 * process cannot measure it without slowing itself, so the one-shot decode is compared with the bound
 * of the seconds around it rather than with the memory phase of another run.
 *
 * <pre>
 *   java -cp 'jmh/target/fovea-jmh-0.1.0-SNAPSHOT.jar:jmh/target/lib/*' --add-modules jdk.incubator.vector \
 *       --enable-native-access=ALL-UNNAMED dev.fovea.jmh.ReadBound model.gguf [passes]
 * </pre>
 *
 * Prints one line {@code fovea-weight-read gbps=<best> bytes=<n> path=<file>}.
 */
public final class ReadBound {
  private ReadBound() {}

  public static void main(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: ReadBound <model.gguf | model folder> [passes, default 3]");
      System.exit(2);
    }
    Path model = Path.of(args[0]);
    if (!Files.exists(model)) {
      System.err.println("ReadBound: no such model: " + model);
      System.exit(2);
    }
    int passes;
    try {
      passes = args.length == 2 ? Integer.parseInt(args[1]) : 3;
    } catch (NumberFormatException e) {
      passes = 0;
    }
    if (passes < 1 || passes > 100) {
      System.err.println("ReadBound: passes must be an integer from 1 to 100, got " + args[1]);
      System.exit(2);
    }
    try (LlamaForCausalLM m = LlamaForCausalLM.load(model)) {
      WeightReads reads = WeightReads.of(m);
      double gbps = reads.best(passes);
      System.out.printf(Locale.ROOT, "fovea-weight-read gbps=%.2f bytes=%d path=%s%n", gbps, reads.bytes(), model);
    }
  }
}
