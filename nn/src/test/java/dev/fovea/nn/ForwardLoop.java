package dev.fovea.nn;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Child JVM of {@link InferenceMemoryTest}: builds a two-layer encoder and runs many plain
 * inference passes, each in its own {@link Scope}, then prints one RESULT line of measurements
 * (Java heap allocated per pass by all threads, scope bytes per pass, resident set size after
 * warm-up and at the end). Arguments: passes, T, C, heads, MLP width.
 */
public final class ForwardLoop {
  private ForwardLoop() {}

  public static void main(String[] args) throws Exception {
    int passes = Integer.parseInt(args[0]);
    int t = Integer.parseInt(args[1]);
    int c = Integer.parseInt(args[2]);
    int heads = Integer.parseInt(args[3]);
    int f = Integer.parseInt(args[4]);
    var model = new Encoder(EncoderLayer.Config.clip(c, heads, f), 2);
    model.initRandom(1);
    Tensor x = Tensor.randn(new Random(2), 1, t, c);
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    double checksum = 0;
    int warmup = 30;
    for (int i = 0; i < warmup; i++) {
      checksum += pass(model, x)[0];
    }
    System.gc();
    long rssBefore = rss();
    long heapBefore = mx.getTotalThreadAllocatedBytes();
    long maxRss = rssBefore;
    long scopeBytes = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < passes; i++) {
      double[] r = pass(model, x);
      checksum += r[0];
      scopeBytes = Math.max(scopeBytes, (long) r[1]);
      if (i % 50 == 49) {
        maxRss = Math.max(maxRss, rss());
      }
    }
    long elapsed = System.nanoTime() - t0;
    long heapAfter = mx.getTotalThreadAllocatedBytes();
    long rssAfter = rss();
    maxRss = Math.max(maxRss, rssAfter);
    // one pass measured alone on this thread (the pool's workers are included in the total above)
    long h0 = mx.getCurrentThreadAllocatedBytes();
    pass(model, x);
    long h1 = mx.getCurrentThreadAllocatedBytes();
    System.out.printf(
        "RESULT passes=%d scopeBytesPerPass=%d heapBytesPerPass=%d callerHeapBytesOnePass=%d rssBefore=%d rssAfter=%d maxRss=%d msPerPass=%.2f checksum=%s%n",
        passes, scopeBytes, (heapAfter - heapBefore) / passes, h1 - h0, rssBefore, rssAfter, maxRss, elapsed / 1e6 / passes, checksum);
  }

  /**
   * One pass, its layers called one by one: Encoder.forward would run each layer in a scope of its
   * own (Module.forwardFreeing), and this test is about a pass's scope holding every activation.
   */
  private static double[] pass(Encoder model, Tensor x) {
    try (var s = Scope.open()) {
      Tensor y = x;
      for (EncoderLayer layer : model.layers) {
        y = layer.forward(y, null);
      }
      return new double[] {y.get(0, 0, 0), s.allocatedBytes()};
    }
  }

  /** VmRSS of this process in bytes (Linux), or -1 where /proc is not available. */
  static long rss() throws java.io.IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return -1;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    return -1;
  }
}
