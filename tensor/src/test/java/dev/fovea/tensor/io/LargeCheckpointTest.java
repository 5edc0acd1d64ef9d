package dev.fovea.tensor.io;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opening a sharded LLaMA-7B-shaped safetensors checkpoint (32 layers, hidden 4096, FF 11008,
 * vocab 32000, F16: 13.5 GB of random data in 3 shards) must take well under a second and read no
 * tensor data. The full size runs with {@code -Dfovea.big=true} (it needs ~14 GB in the temp
 * dir); by default the same code runs on a scaled-down shape.
 *
 * <p>"Reads no data" is checked with the kernel: after writing, each shard is fsync'ed and dropped
 * from the page cache ({@code posix_fadvise(DONTNEED)}); after opening and calling {@code get} on
 * every tensor, {@code mincore} counts how many pages of the tensors' mapped bytes are resident.
 */
class LargeCheckpointTest {
  @TempDir Path tmp;

  record Shape(int layers, int hidden, int ff, int vocab) {}

  static final boolean BIG = Boolean.getBoolean("fovea.big");

  @Test
  void opensASharded7BShapedCheckpointWithoutReadingTensorData() throws Throwable {
    Shape s = BIG ? new Shape(32, 4096, 11008, 32000) : new Shape(4, 256, 688, 1000);
    Map<String, int[]> tensors = new LinkedHashMap<>();
    tensors.put("model.embed_tokens.weight", new int[] {s.vocab, s.hidden});
    for (int i = 0; i < s.layers; i++) {
      String p = "model.layers." + i + ".";
      for (String w : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
        tensors.put(p + "self_attn." + w + ".weight", new int[] {s.hidden, s.hidden});
      }
      tensors.put(p + "mlp.gate_proj.weight", new int[] {s.ff, s.hidden});
      tensors.put(p + "mlp.up_proj.weight", new int[] {s.ff, s.hidden});
      tensors.put(p + "mlp.down_proj.weight", new int[] {s.hidden, s.ff});
      tensors.put(p + "input_layernorm.weight", new int[] {s.hidden});
      tensors.put(p + "post_attention_layernorm.weight", new int[] {s.hidden});
    }
    tensors.put("model.norm.weight", new int[] {s.hidden});
    tensors.put("lm_head.weight", new int[] {s.vocab, s.hidden});

    // Split into 3 shards of about equal size, in order, as HF does.
    long total = 0;
    for (int[] sh : tensors.values()) {
      total += 2L * sh[0] * (sh.length > 1 ? sh[1] : 1);
    }
    List<Map<String, int[]>> shards = new ArrayList<>();
    shards.add(new LinkedHashMap<>());
    long acc = 0;
    for (Map.Entry<String, int[]> e : tensors.entrySet()) {
      int[] sh = e.getValue();
      long bytes = 2L * sh[0] * (sh.length > 1 ? sh[1] : 1);
      if (acc > total * shards.size() / 3 && shards.size() < 3) {
        shards.add(new LinkedHashMap<>());
      }
      shards.getLast().put(e.getKey(), sh);
      acc += bytes;
    }
    long t0 = System.nanoTime();
    ObjectNode index = SafetensorsSource.JSON.createObjectNode();
    index.putObject("metadata").put("total_size", total);
    ObjectNode map = index.putObject("weight_map");
    List<Path> files = new ArrayList<>();
    for (int k = 0; k < shards.size(); k++) {
      String name = String.format("model-%05d-of-%05d.safetensors", k + 1, shards.size());
      Path p = tmp.resolve(name);
      writeShard(p, shards.get(k), k);
      files.add(p);
      shards.get(k).keySet().forEach(n -> map.put(n, name));
    }
    Path idx = tmp.resolve("model.safetensors.index.json");
    Files.writeString(idx, index.toString());
    double writeS = (System.nanoTime() - t0) / 1e9;
    for (Path p : files) {
      dropFromPageCache(p);
    }

    long t1 = System.nanoTime();
    try (WeightSource src = WeightFiles.open(tmp)) {
      double openMs = (System.nanoTime() - t1) / 1e6;
      long t2 = System.nanoTime();
      long resident = 0;
      long mapped = 0;
      List<Tensor> all = new ArrayList<>();
      for (String n : src.names()) {
        all.add(src.get(n));
      }
      double getMs = (System.nanoTime() - t2) / 1e6;
      for (Tensor t : all) {
        MemorySegment seg = t.storage().segment();
        // mappings are plain native segments (Mappings): read-only tells a view from a (writable) copy
        assertTrue(seg.isReadOnly(), "a read-only mapped view, not a copy");
        mapped += seg.byteSize();
        resident += residentBytes(seg);
      }
      assertEquals(tensors.size(), src.names().size());
      // Touch one tensor: its pages come in, which shows the check can see reads.
      Tensor probe = src.get("model.layers.0.mlp.down_proj.weight");
      long before = residentBytes(probe.storage().segment());
      float sum = 0;
      for (float v : probe.slice(0, 0, 8).toFloatArray()) {
        sum += v;
      }
      long after = residentBytes(probe.storage().segment());
      System.out.printf(
          "LargeCheckpointTest%s: %d tensors, %.2f GB in %d shards (written in %.1f s); open %.1f ms, get() of every tensor %.1f ms; "
              + "resident after open+get: %d KB of %.2f GB mapped; reading 8 rows of one tensor brought %d KB in (sum %.3f)%n",
          BIG ? " (7B)" : " (scaled down)", tensors.size(), total / 1e9, shards.size(), writeS, openMs, getMs, resident >> 10, mapped / 1e9,
          (after - before) >> 10, sum);
      long t3 = System.nanoTime();
      try (WeightSource again = WeightFiles.open(tmp)) {
        System.out.printf("LargeCheckpointTest: second open (warm JVM) %.1f ms%n", (System.nanoTime() - t3) / 1e6);
      }
      assertTrue(openMs < 1000, "opening took " + openMs + " ms");
      assertTrue(resident < Math.max(4L << 20, mapped / 100), "open+get read " + resident + " bytes of tensor data");
    }
    for (Path p : files) {
      Files.delete(p);
    }
  }

  /** Header + random F16-sized bytes for each tensor, streamed from a reused random buffer at random offsets. */
  private static void writeShard(Path p, Map<String, int[]> tensors, int seed) throws IOException {
    ObjectNode h = SafetensorsSource.JSON.createObjectNode();
    h.putObject("__metadata__").put("format", "pt");
    long off = 0;
    for (Map.Entry<String, int[]> e : tensors.entrySet()) {
      int[] sh = e.getValue();
      long bytes = 2L * sh[0] * (sh.length > 1 ? sh[1] : 1);
      ObjectNode t = h.putObject(e.getKey());
      t.put("dtype", "F16");
      var shape = t.putArray("shape");
      for (int d : sh) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(off).add(off + bytes);
      off += bytes;
    }
    byte[] header = SafetensorsWriter.header(h);
    SplittableRandom rng = new SplittableRandom(seed);
    byte[] pool = new byte[16 << 20];
    for (int i = 0; i < pool.length; i += 8) {
      long v = rng.nextLong() & 0x3BFF3BFF3BFF3BFFL; // finite halves below 1.0
      for (int k = 0; k < 8; k++) {
        pool[i + k] = (byte) (v >>> (8 * k));
      }
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
      ch.write(len);
      ch.write(ByteBuffer.wrap(header));
      int chunk = 4 << 20;
      for (long left = off; left > 0; ) {
        int n = (int) Math.min(chunk, left);
        int start = rng.nextInt(pool.length - n + 1) & ~1;
        ch.write(ByteBuffer.wrap(pool, start, n));
        left -= n;
      }
      ch.force(true);
    }
  }

  // ------------------------------------------------------------------ libc through FFM

  private static final Linker LINKER = Linker.nativeLinker();

  private static MethodHandle libc(String name, FunctionDescriptor fd) {
    return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
  }

  private static final MethodHandle OPEN = libc("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  private static final MethodHandle FADVISE = libc("posix_fadvise", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
  private static final MethodHandle MINCORE = libc("mincore", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
  private static final int POSIX_FADV_DONTNEED = 4;
  private static final long PAGE = 4096;

  private static void dropFromPageCache(Path p) throws Throwable {
    try (Arena a = Arena.ofConfined()) {
      int fd = (int) OPEN.invokeExact(a.allocateFrom(p.toString()), 0);
      assertTrue(fd >= 0, "open " + p);
      int rc = (int) FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED);
      assertEquals(0, rc, "posix_fadvise");
      int ignored = (int) CLOSE.invokeExact(fd);
    }
  }

  /** Bytes of {@code seg}'s pages that are resident in memory (mincore), page-rounded. */
  private static long residentBytes(MemorySegment seg) throws Throwable {
    if (seg.byteSize() == 0) {
      return 0;
    }
    long start = seg.address() & ~(PAGE - 1);
    long end = seg.address() + seg.byteSize();
    long pages = (end - start + PAGE - 1) / PAGE;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment vec = a.allocate(pages);
      int rc = (int) MINCORE.invokeExact(MemorySegment.ofAddress(start), pages * PAGE, vec);
      assertEquals(0, rc, "mincore");
      long n = 0;
      for (long i = 0; i < pages; i++) {
        n += vec.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) & 1;
      }
      return n * PAGE;
    }
  }
}
