package dev.fovea.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.GgufWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The converter holds at most one source tensor's copy at a time (K-quants are dequantized on get). */
class StreamingTest {
  @TempDir Path dir;

  /** Counts tensors handed out and not yet released, and keeps them to check their memory afterwards. */
  static final class Watching implements WeightSource {
    final WeightSource in;
    final Set<String> live = new HashSet<>();
    final List<Tensor> handedOut = new ArrayList<>();
    int maxLive;

    Watching(WeightSource in) {
      this.in = in;
    }

    @Override
    public Set<String> names() {
      return in.names();
    }

    @Override
    public TensorInfo info(String name) {
      return in.info(name);
    }

    @Override
    public Tensor get(String name) {
      live.add(name);
      maxLive = Math.max(maxLive, live.size());
      Tensor t = in.get(name);
      handedOut.add(t);
      return t;
    }

    @Override
    public void release(String name) {
      live.remove(name);
      in.release(name);
    }

    @Override
    public Map<String, Object> metadata() {
      return in.metadata();
    }

    @Override
    public String origin() {
      return in.origin();
    }

    @Override
    public void close() {
      in.close();
    }
  }

  @Test
  void kQuantGgufIsConvertedOneTensorAtATime() throws Exception {
    Path tiny = Path.of(StreamingTest.class.getResource("/formats/tiny.gguf").toURI());
    Path big = dir.resolve("many.gguf");
    int n = 300;
    try (GgufSource src = GgufSource.open(tiny)) {
      GgufWriter w = new GgufWriter().putString("general.architecture", "test");
      for (int i = 0; i < n; i++) {
        String from = i % 2 == 0 ? "t.q4_k" : "t.q6_k";
        w.addRaw("blk." + i + ".w", src.ggmlType(from), src.info(from).shape(), src.rawBytes(from));
      }
      w.write(big);
    }
    Path out = dir.resolve("many.fovea");
    float[] first;
    try (GgufSource g = GgufSource.open(big)) {
      first = g.get("blk.0.w").toFloatArray();
    }
    try (Watching w = new Watching(GgufSource.open(big))) {
      Converter.convert(w, Map.of(), Map.of(), out, Converter.Options.of(DType.F32), Converter.Progress.NONE);
      assertEquals(1, w.maxLive, "one source tensor alive at a time");
      assertTrue(w.live.isEmpty());
      assertEquals(n, w.handedOut.size());
      for (Tensor t : w.handedOut) {
        assertFalse(t.storage().segment().scope().isAlive(), "each dequantized copy was freed after its tensor was written");
      }
    }
    try (ArchiveReader a = ArchiveReader.open(out)) {
      assertEquals(n, a.names().size());
      assertArrayEquals(first, a.get("blk.0.w").toFloatArray());
    }
  }
}
