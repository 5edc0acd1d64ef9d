package dev.fovea.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Results must not depend on timing (DESIGN: bit-identical run to run), and JIT state is timing:
 * the Vector API's fallback code (interpreter, C1) and C2's intrinsics must round the same way.
 * Two quick_gelu encoder layers and a causal GELU one (attention, layer norms, MLPs) run in a JVM that only
 * interprets ({@code -Xint}) and in one that has compiled everything with C2 after warm-up, with 1
 * and 2 threads; the SHA-256 of the output bits must be the same in all four.
 */
class JitDeterminismTest {
  @Test
  void interpretedAndCompiledRunsGiveTheSameBits() throws Exception {
    String interpreted1 = run("-Xint", "1", "1");
    String compiled1 = run("-XX:+UseSerialGC", "1", "300");
    String compiled2 = run("-XX:+UseSerialGC", "2", "300");
    String interpreted2 = run("-Xint", "2", "1");
    assertEquals(interpreted1, compiled1, "interpreted vs C2-compiled, 1 thread");
    assertEquals(compiled1, compiled2, "C2-compiled, 1 vs 2 threads");
    assertEquals(interpreted1, interpreted2, "interpreted, 1 vs 2 threads");
  }

  private static String run(String jvmFlag, String threads, String passes) throws Exception {
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>(List.of(java, jvmFlag, "-Dfovea.threads=" + threads, "--add-modules", "jdk.incubator.vector",
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Child.class.getName(), passes));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child did not finish");
    assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
    String line = out.lines().filter(l -> l.startsWith("SHA256 ")).findFirst().orElseThrow(() -> new AssertionError(out));
    return line.substring(7);
  }

  /** Child JVM: runs the encoder {@code passes} times and prints the hash of the last output's bits. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      int passes = Integer.parseInt(args[0]);
      var config = EncoderLayer.Config.clip(48, 4, 96);
      var model = new Encoder(config, 2);
      model.initRandom(3);
      var causalGelu = new Encoder(new EncoderLayer.Config(48, 4, 96, Activation.GELU, 1e-5f, true), 1);
      causalGelu.initRandom(5);
      Tensor x = Tensor.randn(new Random(4), 2, 37, 48);
      float[] y = null;
      for (int i = 0; i < passes; i++) {
        try (var s = Scope.open()) {
          y = causalGelu.forward(model.forward(x)).toFloatArray();
        }
      }
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (float v : y) {
        int b = Float.floatToRawIntBits(v);
        sha.update(new byte[] {(byte) b, (byte) (b >> 8), (byte) (b >> 16), (byte) (b >> 24)});
      }
      System.out.println("SHA256 " + HexFormat.of().formatHex(sha.digest()));
    }
  }
}
