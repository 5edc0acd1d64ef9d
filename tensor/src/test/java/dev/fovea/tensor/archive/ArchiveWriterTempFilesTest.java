package dev.fovea.tensor.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's temporary file: named with its writer's pid, cleaned up after a SIGKILL, never named in errors. */
class ArchiveWriterTempFilesTest {
  @TempDir Path dir;

  private List<String> listing() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** The pid of a process that has exited (and been reaped). */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    long pid = p.pid();
    assumeTrue(Files.notExists(Path.of("/proc", Long.toString(pid))), "pid " + pid + " was reused at once");
    return pid;
  }

  @Test
  void temporaryFileNamesCarryTheWritersPid() throws Exception {
    Path f = dir.resolve("m.fovea");
    List<String> during = new ArrayList<>();
    ArchiveWriter.to(f).tensor("x", DType.F32, new int[] {2}, "F32", () -> {
      during.addAll(listing());
      return Tensor.ones(2);
    }).write();
    assertEquals(1, during.size(), during.toString());
    String pid = Long.toString(ProcessHandle.current().pid());
    assertTrue(during.get(0).matches("m\\.fovea\\.tmp-" + pid + "-[0-9a-z]+"), during.toString());
    assertEquals(List.of("m.fovea"), listing());
  }

  @Test
  void leftoversOfKilledWritersForTheSameTargetAreRemoved() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self")), "SKIPPED: no /proc on this system");
    long dead = deadPid();
    long self = ProcessHandle.current().pid();
    String stale = "m.fovea.tmp-" + dead + "-3k9x2";
    List<String> kept = List.of(
        "m.fovea.tmp-" + self + "-a1", // a live writer (this process)
        "n.fovea.tmp-" + dead + "-3k9x2", // another target's
        "m.fovea.tmp-notes", // not our pattern
        "m.fovea.tmp-" + dead + "-3k9x2.bak", // not our pattern
        "xm.fovea.tmp-" + dead + "-1"); // another target's
    Files.writeString(dir.resolve(stale), "half an archive");
    for (String k : kept) {
      Files.writeString(dir.resolve(k), "keep");
    }
    ArchiveWriter.to(dir.resolve("m.fovea")).tensor("x", Tensor.ones(2)).write();
    List<String> want = new ArrayList<>(kept);
    want.add("m.fovea");
    assertEquals(want.stream().sorted().toList(), listing());
  }

  @Test
  void failuresNameTheTargetNotTheTemporaryFile() throws Exception {
    Path f = dir.resolve("m.fovea");
    // The temporary file disappears under the writer: re-reading it for verification fails.
    Exception e = assertThrows(Exception.class, () -> ArchiveWriter.to(f).tensor("x", DType.F32, new int[] {2}, "F32", () -> {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.toList()) {
          Files.delete(p);
        }
      }
      return Tensor.ones(2);
    }).write());
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertFalse(e.getMessage().contains(".tmp-"), e.getMessage());
    assertEquals(List.of(), listing());
  }
}
