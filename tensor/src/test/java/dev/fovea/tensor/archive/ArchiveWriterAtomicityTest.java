package dev.fovea.tensor.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveWriterAtomicityTest {
  @TempDir Path dir;

  private List<String> listing() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void failingSourceLeavesNoFileAndNoTempFile() throws Exception {
    Path f = dir.resolve("m.fovea");
    RuntimeException boom = new IllegalStateException("source broke at tensor 2");
    ArchiveWriter w = ArchiveWriter.to(f)
        .tensor("x", Tensor.ones(4, 32))
        .tensor("y", DType.F32, new int[] {4, 32}, "F32", () -> {
          throw boom;
        })
        .tensor("z", Tensor.ones(2));
    RuntimeException e = assertThrows(RuntimeException.class, w::write);
    assertEquals(boom, e);
    assertEquals(List.of(), listing(), "neither the archive nor a temp file may remain");
  }

  @Test
  void checkedFailureAndWrongShapeAreTypedAndCleanedUp() throws Exception {
    Path f = dir.resolve("m.fovea");
    ArchiveException e = assertThrows(ArchiveException.class, () -> ArchiveWriter.to(f)
        .tensor("x", DType.F32, new int[] {2, 3}, "F32", () -> Tensor.ones(3, 2))
        .write());
    assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("declared F32 [2, 3]"), e.getMessage());
    e = assertThrows(ArchiveException.class, () -> ArchiveWriter.to(f)
        .tensor("x", DType.F32, new int[] {2}, "F32", () -> {
          throw new Exception("checked failure");
        })
        .write());
    assertTrue(e.getMessage().contains("checked failure"), e.getMessage());
    assertEquals(List.of(), listing());
  }

  @Test
  void interruptionStopsTheWriteAndCleansUp() throws Exception {
    Path f = dir.resolve("m.fovea");
    ArchiveWriter w = ArchiveWriter.to(f)
        .tensor("x", DType.F32, new int[] {8}, "F32", () -> {
          Thread.currentThread().interrupt();
          return Tensor.ones(8);
        })
        .tensor("y", Tensor.ones(8));
    try {
      assertThrows(IOException.class, w::write, "ClosedByInterruptException or InterruptedIOException");
    } finally {
      Thread.interrupted();
    }
    assertEquals(List.of(), listing());
  }

  @Test
  void successfulWriteReplacesAnExistingFileAtomically() throws Exception {
    Path f = dir.resolve("m.fovea");
    ArchiveWriter.to(f).tensor("old", Tensor.ones(3)).metadata("v", "1").write();
    // While the second write runs (inside a producer), the old archive is still whole under the final name.
    ArchiveWriter.to(f)
        .tensor("new", DType.F32, new int[] {2}, "F32", () -> {
          try (ArchiveReader r = ArchiveReader.open(f)) {
            assertEquals(List.of("old"), List.copyOf(r.names()));
          }
          assertEquals(2, listing().size(), "old archive plus one temp file");
          assertTrue(listing().stream().anyMatch(n -> n.startsWith("m.fovea.tmp-")), listing().toString());
          return Tensor.of(new float[] {5, 6}, 2);
        })
        .metadata("v", "2")
        .write();
    assertEquals(List.of("m.fovea"), listing());
    try (ArchiveReader r = ArchiveReader.open(f)) {
      assertEquals(List.of("new"), List.copyOf(r.names()));
      assertArrayEquals(new float[] {5, 6}, r.get("new").toFloatArray());
      assertEquals("2", r.metadata().get("v"));
    }
  }

  @Test
  void failedRewriteKeepsThePreviousArchive() throws Exception {
    Path f = dir.resolve("m.fovea");
    ArchiveWriter.to(f).tensor("old", Tensor.ones(3)).write();
    byte[] before = Files.readAllBytes(f);
    assertThrows(IllegalStateException.class, () -> ArchiveWriter.to(f)
        .tensor("new", DType.F32, new int[] {2}, "F32", () -> {
          throw new IllegalStateException("disk on fire");
        })
        .write());
    assertArrayEquals(before, Files.readAllBytes(f));
    assertFalse(listing().stream().anyMatch(n -> n.contains(".tmp-")));
  }
}
