package dev.fovea.tensor.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check of the launch options ({@link JvmOptions}): silent in a JVM started with pom.xml's
 * {@code fovea.jvm.flags} (as this test JVM is), one warning naming each missing option in a JVM
 * started without them.
 */
class JvmOptionsTest {
  @Test
  void theTestJvmHasEveryOption() {
    // surefire starts this JVM with fovea.jvm.flags: a flag dropped from the pom shows here
    assertEquals(List.of(), JvmOptions.missing());
  }

  @Test
  void aJvmWithoutTheFlagsIsWarnedOnceAndOneWithThemIsNot() throws Exception {
    String bare = run(List.of("--add-modules", "jdk.incubator.vector"));
    assertEquals(1, bare.lines().filter(l -> l.contains("fovea: this JVM was started without options")).count(), bare);
    assertTrue(bare.contains("-XX:PerMethodTrapLimit=10000 (this JVM runs with 100"), bare);
    assertTrue(bare.contains("-XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::*"), bare);
    assertTrue(bare.contains("--enable-native-access=ALL-UNNAMED"), bare);
    assertTrue(bare.contains("SUM 6.0"), "the kernel ran and gave its result: " + bare);

    String full = run(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommand=quiet", JvmOptions.INLINE_CPUMATH_FLAG, JvmOptions.TRAP_LIMIT_FLAG));
    assertFalse(full.contains("fovea:"), full);
    assertTrue(full.contains("SUM 6.0"), full);

    String off = run(List.of("--add-modules", "jdk.incubator.vector", "-Dfovea.jvmOptions.check=false"));
    assertFalse(off.contains("fovea:"), off);
  }

  @Test
  void theInlineCommandMayComeFromACommandFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("commands.txt"), "quiet\ninline,dev.fovea.tensor.cpu.CpuMath::*\n");
    String out = run(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommandFile=" + file, JvmOptions.TRAP_LIMIT_FLAG));
    assertFalse(out.contains("fovea:"), out);
    assertTrue(out.contains("SUM 6.0"), out);
    Files.writeString(file, "quiet\n");
    String without = run(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "-XX:CompileCommandFile=" + file, JvmOptions.TRAP_LIMIT_FLAG));
    assertTrue(without.contains("-XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::*"), without);
    assertFalse(without.contains("PerMethodTrapLimit"), without);
  }

  private static String run(List<String> flags) throws Exception {
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(flags);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "child did not finish");
    assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
    return out;
  }

  /** Child JVM: one op on the CPU backend, then waits for the check's thread (if any) to finish. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      float s = Ops.sumAll(Tensor.of(new float[] {1, 2, 3}, 3)).item();
      Thread t = JvmOptions.checkThread();
      if (t != null) {
        t.join(60_000);
      }
      System.out.println("SUM " + s);
    }
  }
}
