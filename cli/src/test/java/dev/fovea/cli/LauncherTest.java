package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./fovea} launcher script, run with a stand-in {@code java} that writes what the JVM
 * writes first (a VM warning, the incubator warning) and then a progress frame without a newline,
 * and waits for the test before it writes more: the frame must reach the launcher's standard error
 * while the program still runs, and the incubator warning must not.
 */
class LauncherTest {
  static final Path LAUNCHER = Path.of("../fovea");
  @TempDir Path tmp;

  @Test
  void standardErrorPassesPartialLinesAtOnceWithoutTheIncubatorWarning() throws Exception {
    Path root = tmp.resolve("fovea-root");
    Files.createDirectories(root.resolve("cli/target/classes"));
    Files.createDirectories(root.resolve("cli/target/lib"));
    Path launcher = root.resolve("fovea");
    Files.copy(LAUNCHER, launcher);
    Path javaHome = tmp.resolve("jdk");
    Path java = javaHome.resolve("bin/java");
    Files.createDirectories(java.getParent());
    Path go = tmp.resolve("go");
    Files.writeString(java, """
        #!/usr/bin/env bash
        if [ "${1:-}" = -version ]; then echo 'openjdk version "25" 2025-09-16' >&2; exit 0; fi
        printf '%%s\\n' "$*" > '%1$s.args'
        echo 'OpenJDK 64-Bit Server VM warning: something about an option' >&2
        echo 'WARNING: Using incubator modules: jdk.incubator.vector' >&2
        printf 'frame 1\\r' >&2
        for i in $(seq 400); do [ -e '%1$s' ] && break; sleep 0.05; done
        printf 'frame 2\\r\\n' >&2
        echo result
        exit 3
        """.formatted(go));
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));

    ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "convert").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().put("JAVA_HOME", javaHome.toString());
    pb.environment().remove("FOVEA_JAVA_OPTS");
    Process p = pb.start();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread reader = Thread.ofPlatform().daemon().start(() -> copy(p.getErrorStream(), err));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    boolean seen = false;
    while (!seen && System.nanoTime() < deadline && p.isAlive()) {
      synchronized (err) {
        seen = err.toString(StandardCharsets.UTF_8).contains("frame 1");
      }
      Thread.sleep(20);
    }
    boolean aliveWhenSeen = p.isAlive();
    Files.createFile(go);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "launcher did not end");
    reader.join(5000);
    String stderr;
    synchronized (err) {
      stderr = err.toString(StandardCharsets.UTF_8);
    }
    assertTrue(seen && aliveWhenSeen, "the partial line 'frame 1\\r' reached standard error only when the program ended: " + stderr);
    assertEquals(3, p.exitValue(), "java's exit status");
    assertEquals("OpenJDK 64-Bit Server VM warning: something about an option\nframe 1\rframe 2\r\n", stderr);
    assertEquals("result\n", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    String args = Files.readString(Path.of(go + ".args"));
    assertTrue(args.contains("-Dfovea.stderr.terminal=false"), "standard error is a pipe here: " + args);
    assertFalse(args.contains("-Dfovea.stderr.terminal=true"), args);
    // The JIT flags the kernels rely on (pom.xml's fovea.jvm.flags, which this test JVM runs with):
    // the launcher must pass each of them, or `ask` compiles kernels the tests never saw.
    List<String> jit = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(a -> a.startsWith("-XX:CompileCommand=inline") || a.startsWith("-XX:PerMethodTrapLimit")).toList();
    assertTrue(jit.contains("-XX:PerMethodTrapLimit=10000"), "the tests run without pom.xml's fovea.jvm.flags: " + jit);
    for (String flag : jit) {
      assertTrue(Arrays.asList(args.strip().split(" ")).contains(flag), "the launcher does not pass " + flag + ": " + args);
    }
  }

  private static void copy(InputStream in, ByteArrayOutputStream to) {
    try {
      int b;
      while ((b = in.read()) >= 0) {
        synchronized (to) {
          to.write(b);
        }
      }
    } catch (java.io.IOException e) {
      // the process ended
    }
  }
}
