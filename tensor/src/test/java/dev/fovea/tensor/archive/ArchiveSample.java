package dev.fovea.tensor.archive;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;

/** The sample archive of the archive tests and of the fuzz campaign's seed. */
public final class ArchiveSample {
  private ArchiveSample() {}

  /** A small archive with every dtype, an empty tensor, files and metadata (shared with the corruption tests). */
  public static ArchiveWriter.Result write(Path file) throws java.io.IOException {
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
}
