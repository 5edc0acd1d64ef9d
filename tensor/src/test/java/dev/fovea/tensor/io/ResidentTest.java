package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights as a loaded model holds them: one segment class for every reader and mode, and copies
 * that equal the file's bytes.
 */
class ResidentTest {
  @TempDir Path dir;

  /** Every reader, on fixtures written by an independent tool (tools/reference/formats) and our archive. */
  private List<java.util.function.Supplier<WeightSource>> sources() throws java.io.IOException {
    Path archive = dir.resolve("sample.fovea");
    if (!java.nio.file.Files.exists(archive)) {
      java.util.Random rng = new java.util.Random(42);
      dev.fovea.tensor.archive.ArchiveWriter.to(archive)
          .tensor("a.weight", Tensor.randn(rng, 3, 5))
          .tensor("q.weight", dev.fovea.tensor.DType.Q8_0, new int[] {2, 64}, "F32",
              () -> dev.fovea.tensor.Ops.to(Tensor.randn(rng, 2, 64), dev.fovea.tensor.DType.Q8_0))
          .write();
    }
    return List.of(() -> SafetensorsSource.open(Fixtures.path("basic.safetensors")), () -> GgufSource.open(Fixtures.path("tiny.gguf")),
        () -> TorchBinSource.open(Fixtures.path("basic.bin")),
        () -> WeightFiles.open(Fixtures.path("sharded").resolve("model.safetensors.index.json")), () -> ArchiveReader.open(archive));
  }

  /**
   * The kernels' call sites must see one segment class, the one an {@code Arena} allocates:
   * {@code FileChannel.map}'s own segment class (a subclass) made C2 leave the Vector API's loads
   * and fmas as calls in kernels that saw both (file-loaded models up to 4x slower). Fails with
   * {@code MappedMemorySegmentImpl} segments.
   */
  @Test
  void mappedTensorsHaveTheArenaSegmentClass() throws Exception {
    Class<?> arenaClass;
    try (Arena a = Arena.ofConfined()) {
      arenaClass = a.allocate(64, 64).getClass();
    }
    for (var open : sources()) {
      try (WeightSource s = open.get()) {
        for (String n : s.names()) {
          MemorySegment seg = s.get(n).storage().segment();
          assertSame(arenaClass, seg.getClass(), s.origin() + " tensor " + n + " has segment class " + seg.getClass().getName());
        }
      }
    }
  }

  @Test
  void copiesHoldTheFilesBytesInMemoryOfTheirOwn() throws Exception {
    for (var open : sources()) {
      try (WeightSource mapped = open.get(); WeightSource copy = new Resident.Copying(open.get())) {
        for (String n : mapped.names()) {
          Tensor m = mapped.get(n);
          Tensor c = copy.get(n);
          assertEquals(m.dtype(), c.dtype(), n);
          assertEquals(java.util.Arrays.toString(m.shape()), java.util.Arrays.toString(c.shape()), n);
          long bytes = m.dtype().byteSize(m.storage().numel());
          assertEquals(-1, m.storage().segment().asSlice(0, bytes).mismatch(c.storage().segment().asSlice(0, bytes)), mapped.origin() + " " + n);
          assertTrue(c.storage().isReadOnly(), n);
          assertSame(c, copy.get(n), "cached until released");
          if (bytes > 0) {
            long a = c.storage().segment().address();
            long lo = mapped.get(n).storage().segment().address();
            assertTrue(a != lo, n + ": a copy, not the mapping");
          }
        }
      }
    }
  }

  @Test
  void releaseFreesACopyAndCloseFreesAll() throws Exception {
    WeightSource copy = Resident.of(SafetensorsSource.open(Fixtures.path("basic.safetensors")), Resident.Mode.COPY);
    String n = copy.names().iterator().next();
    Tensor first = copy.get(n);
    float v = first.toFloatArray()[0];
    copy.release(n);
    assertThrows(IllegalStateException.class, () -> first.toFloatArray(), "a released copy is freed");
    Tensor again = copy.get(n);
    assertNotSame(first, again);
    assertEquals(v, again.toFloatArray()[0]);
    copy.close();
    assertThrows(IllegalStateException.class, again::toFloatArray);
    TensorException e = assertThrows(TensorException.class, () -> copy.get(n));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void modesAndTheirProperty() {
    Function<String, Resident.Mode> with = v -> {
      String old = System.getProperty("fovea.weights");
      System.setProperty("fovea.weights", v);
      try {
        return Resident.requested();
      } finally {
        if (old == null) {
          System.clearProperty("fovea.weights");
        } else {
          System.setProperty("fovea.weights", old);
        }
      }
    };
    assertEquals(Resident.Mode.MAP, with.apply("map"));
    assertEquals(Resident.Mode.COPY, with.apply("COPY"));
    assertEquals(Resident.Mode.AUTO, with.apply("auto"));
    TensorException e = assertThrows(TensorException.class, () -> with.apply("sometimes"));
    assertTrue(e.getMessage().contains("-Dfovea.weights=sometimes") && e.getMessage().contains("copy, map or auto"), e.getMessage());
    WeightSource s = SafetensorsSource.open(Fixtures.path("basic.safetensors"));
    try (s) {
      assertSame(s, Resident.of(s, Resident.Mode.MAP));
      // a few hundred bytes always fit in half of the available memory
      assertEquals(Resident.Mode.COPY, Resident.decide(s, Resident.Mode.AUTO));
    }
  }
}
