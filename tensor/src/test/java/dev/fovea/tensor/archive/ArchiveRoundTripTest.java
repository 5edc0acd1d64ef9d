package dev.fovea.tensor.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveRoundTripTest {
  @TempDir Path dir;

  /** A small archive with every dtype, an empty tensor, files and metadata (shared with the corruption tests). */
  static ArchiveWriter.Result sample(Path file) throws Exception {
    Random rng = new Random(42);
    Tensor a = Tensor.randn(rng, 3, 5);
    Tensor b = Tensor.randn(rng, 2, 32);
    Tensor c = Tensor.randn(rng, 2, 64);
    return ArchiveWriter.to(file)
        .tensor("a.weight", a)
        .tensor("b.weight", DType.F16, new int[] {2, 32}, "F32", () -> Ops.to(b, DType.F16))
        .tensor("c.weight", DType.Q8_0, new int[] {2, 64}, "F32", () -> Ops.to(c, DType.Q8_0))
        .tensor("d.weight", DType.Q4_0, new int[] {2, 64}, "F32", () -> Ops.to(c, DType.Q4_0))
        .tensor("ids", Tensor.ofLongs(new long[] {1, -2, 3, 1L << 40}, 4))
        .tensor("empty", Tensor.zeros(0, 3))
        .tensor("e.bias", DType.BF16, new int[] {7}, "F32", () -> Ops.to(Tensor.randn(rng, 7), DType.BF16))
        .file("config.json", "{\"hidden_size\": 5}".getBytes(StandardCharsets.UTF_8))
        .file("merges.txt", "#version: 0.2\na b\n".getBytes(StandardCharsets.UTF_8))
        .metadata("fovea.dtype", "mixed")
        .metadata("general.name", "sample")
        .write();
  }

  @Test
  void writesAndReadsBackEveryDtypeFilesAndMetadata() throws Exception {
    Path f = dir.resolve("m.fovea");
    ArchiveWriter.Result res = sample(f);
    assertEquals(Files.size(f), res.fileBytes());
    Random rng = new Random(42);
    Tensor a = Tensor.randn(rng, 3, 5);
    Tensor b = Tensor.randn(rng, 2, 32);
    Tensor c = Tensor.randn(rng, 2, 64);
    try (ArchiveReader r = ArchiveReader.open(f)) {
      assertEquals(List.of("a.weight", "b.weight", "c.weight", "d.weight", "ids", "empty", "e.bias"), List.copyOf(r.names()));
      assertArrayEquals(a.toFloatArray(), r.get("a.weight").toFloatArray());
      assertArrayEquals(Ops.to(b, DType.F16).toFloatArray(), r.get("b.weight").toFloatArray());
      assertArrayEquals(Ops.to(c, DType.Q8_0).toFloatArray(), r.get("c.weight").toFloatArray());
      assertArrayEquals(Ops.to(c, DType.Q4_0).toFloatArray(), r.get("d.weight").toFloatArray());
      assertArrayEquals(new long[] {1, -2, 3, 1L << 40}, r.get("ids").toLongArray());
      assertEquals(0, r.get("empty").numel());
      assertEquals(DType.BF16, r.info("e.bias").dtype());
      assertEquals("F32", r.entry("b.weight").sourceDtype());
      assertTrue(r.get("a.weight").storage().isReadOnly(), "weights are mapped read-only");
      for (ArchiveReader.Entry e : r.entries()) {
        assertEquals(0, e.offset() % 64, e.name());
        assertEquals(0, r.get(e.name()).storage().segment().address() % 64, "tensor " + e.name() + " is 64-byte aligned in memory");
      }
      assertEquals("{\"hidden_size\": 5}", new String(r.file("config.json"), StandardCharsets.UTF_8));
      assertEquals(List.of("config.json", "merges.txt"), List.copyOf(r.fileNames()));
      assertNull(r.file("tokenizer.json"));
      assertEquals("sample", r.metadata().get("general.name"));
      assertEquals(f.toString(), r.origin());
      assertEquals(1, r.formatVersion());
    }
  }
}
