package dev.fovea.tensor.cpu;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options the kernels are built and measured with (pom.xml's {@code fovea.jvm.flags}, which
 * the tests, the {@code ./fovea} launcher and the JMH forks pass), checked in the running JVM. An
 * application that embeds fovea and starts its JVM without them gets correct results, but more
 * slowly, and nothing says why: without {@code -XX:PerMethodTrapLimit=10000} C2 compiled the F16
 * GEMV with boxed vectors in about one process in five (4-5x slower; {@link Gemv}'s class comment),
 * and without native access {@code Scope} takes zeroed arena memory instead of its pool.
 *
 * <p>The first use of the CPU backend starts {@link #warnOnce}: a daemon thread (reading the options
 * takes ~20 ms of class loading in a fresh JVM, kept off the caller's path) that logs one WARNING
 * through {@link System.Logger} (name {@code dev.fovea}) naming every missing option, or nothing
 * when all are there. {@code -Dfovea.jvmOptions.check=false} turns the check off; the {@code ./fovea}
 * launcher sets it, since it passes the flags itself (LauncherTest holds it to the tests' flags), so
 * a CLI run does not load the management classes for nothing.
 */
public final class JvmOptions {
  /** The trap limit the launch flags set (HotSpot's default is 100). */
  static final long TRAP_LIMIT = 10_000;
  /** The launch flag that sets {@link #TRAP_LIMIT} (jmh's JvmFlags passes this constant to its forks). */
  public static final String TRAP_LIMIT_FLAG = "-XX:PerMethodTrapLimit=" + TRAP_LIMIT;
  /** The launch flag that inlines CpuMath's vector helpers into the kernels (likewise). */
  public static final String INLINE_CPUMATH_FLAG = "-XX:CompileCommand=inline,dev.fovea.tensor.cpu.CpuMath::*";
  private static volatile Thread check;

  private JvmOptions() {}

  /**
   * One line per recommended option this JVM lacks (empty when it has them all, or when it is not
   * HotSpot with a JIT compiler: an interpreted or non-HotSpot JVM is not checked for JIT options).
   */
  public static List<String> missing() {
    List<String> out = new ArrayList<>();
    if (!JvmOptions.class.getModule().isNativeAccessEnabled()) {
      out.add("--enable-native-access=" + moduleName() + " (scopes then allocate zeroed arena memory instead of"
          + " reusing malloc'd blocks: slower forward passes)");
    }
    HotSpotDiagnosticMXBean hotspot;
    try {
      if (ManagementFactory.getCompilationMXBean() == null) {
        return out; // -Xint: no JIT, nothing to tune
      }
      hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    } catch (LinkageError | RuntimeException e) {
      return out; // no java.management / jdk.management in this runtime
    }
    if (hotspot == null) {
      return out;
    }
    String limit = option(hotspot, "PerMethodTrapLimit");
    if (limit != null) {
      try {
        if (Long.parseLong(limit.trim()) < TRAP_LIMIT) {
          out.add(TRAP_LIMIT_FLAG + " (this JVM runs with " + limit.trim() + ": past it C2 stops"
              + " speculating on types in a method, and the larger vector kernels, which inline the Vector API's helpers"
              + " dozens of times, then compile with boxed vectors in some processes, several times slower)");
        }
      } catch (NumberFormatException e) {
        // not a number: leave it
      }
    }
    String commands = option(hotspot, "CompileCommand");
    if (commands != null && !inlinesCpuMath(commands) && !inlinesCpuMath(commandFile(option(hotspot, "CompileCommandFile")))) {
      out.add(INLINE_CPUMATH_FLAG + " (CpuMath's vector helpers are larger than C2 inlines by itself; called out of line they"
          + " box their vectors)");
    }
    return out;
  }

  /** Whether compile commands (one a line) inline CpuMath's methods. */
  private static boolean inlinesCpuMath(String commands) {
    return commands.lines().anyMatch(l -> l.strip().startsWith("inline") && l.contains("CpuMath"));
  }

  /** The text of a -XX:CompileCommandFile, or "" where there is none or it cannot be read. */
  private static String commandFile(String path) {
    if (path == null || path.isBlank()) {
      return "";
    }
    try {
      return Files.readString(Path.of(path));
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** The option's value, or null where this JVM has no such option. */
  private static String option(HotSpotDiagnosticMXBean hotspot, String name) {
    try {
      return hotspot.getVMOption(name).getValue();
    } catch (IllegalArgumentException | SecurityException e) {
      return null;
    }
  }

  private static String moduleName() {
    Module m = JvmOptions.class.getModule();
    return m.isNamed() ? m.getName() : "ALL-UNNAMED";
  }

  /** Starts the check once per JVM (see the class comment); later calls do nothing. */
  static void warnOnce() {
    if (check != null || "false".equalsIgnoreCase(System.getProperty("fovea.jvmOptions.check"))) {
      return;
    }
    synchronized (JvmOptions.class) {
      if (check != null) {
        return;
      }
      Thread t = new Thread(JvmOptions::warn, "fovea-jvm-options");
      t.setDaemon(true);
      check = t;
      t.start();
    }
  }

  /** The check's thread once started (tests wait for it), else null. */
  static Thread checkThread() {
    return check;
  }

  private static void warn() {
    List<String> missing;
    try {
      missing = missing();
    } catch (RuntimeException | LinkageError e) {
      return; // a check that cannot run says nothing rather than disturb the caller's process
    }
    if (missing.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder("fovea: this JVM was started without options fovea's kernels are tuned for;"
        + " results are the same, speed may not be. Add:");
    for (String m : missing) {
      msg.append("\n  ").append(m);
    }
    msg.append("\n(the flags pom.xml's fovea.jvm.flags lists; README, \"Getting a JDK 25\")");
    System.getLogger("dev.fovea").log(System.Logger.Level.WARNING, msg.toString());
  }
}
