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

  @Test
  void writesAndReadsBackEveryDtypeFilesAndMetadata() throws Exception {
    Path f = dir.resolve("m.fovea");
    ArchiveWriter.Result res = ArchiveSample.write(f);
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
