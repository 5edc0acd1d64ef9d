package dev.fovea.tensor.io;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property: a corrupted or hostile weight file either reads consistently (every tensor's info
 * matches what get returns, and its values can be read) or fails with a {@link TensorException}
 * (normally a {@link FormatException}) whose message names the file; never an unchecked exception
 * from deep inside, an OutOfMemoryError or a hang. Each parser gets {@code fovea.examples}
 * corrupted inputs (200 by default, 2000 with -Plong); the counts are printed.
 */
class CorruptionTest {
  static final int EXAMPLES = Integer.getInteger("fovea.examples", 200);
  static final long SEED = Long.getLong("fovea.seed", 20250101L);
  static final long[] INTERESTING = {
    -1L, 0L, 1L, 7L, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL, 1L << 32, 1_000_000_000_000L, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 100_000_001L,
  };

  @TempDir Path tmp;
  final AtomicInteger fileNo = new AtomicInteger();

  /** Tally of one parser's outcomes. */
  static final class Stats {
    final String label;
    int total;
    int rejected;
    int read;
    final Map<String, Integer> reasons = new java.util.TreeMap<>();

    Stats(String label) {
      this.label = label;
    }

    String report() {
      return label + ": " + total + " corrupted inputs, all rejected cleanly or read consistently (" + rejected + " rejected with a typed error naming the file, "
          + read + " read consistently)";
    }
  }

  /** Opens, then reads every tensor; classifies the outcome or fails on anything untyped. */
  void check(Stats st, String what, byte[] bytes, String suffix, Function<Path, WeightSource> open) {
    Path p = tmp.resolve("c" + fileNo.incrementAndGet() + suffix);
    try {
      Files.write(p, bytes);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    st.total++;
    try (WeightSource src = open.apply(p)) {
      for (String n : src.names()) {
        WeightSource.TensorInfo info = src.info(n);
        var t = src.get(n);
        if (!Arrays.equals(info.shape(), t.shape()) || info.dtype() != t.dtype()) {
          throw new AssertionError(st.label + " " + what + ": info of '" + n + "' disagrees with get");
        }
        if (t.numel() <= 1 << 16) {
          t.toFloatArray();
        }
      }
      st.read++;
    } catch (TensorException e) {
      if (!e.getMessage().contains(p.toString())) {
        throw new AssertionError(st.label + " " + what + ": error does not name the file: " + e.getMessage(), e);
      }
      st.rejected++;
      String kind = e instanceof FormatException fe && fe.field() != null ? fe.field().replaceAll("(?s)'.*'|#\\d+|\\d+", "*").replaceAll("\\P{Print}", "?") : e.getClass().getSimpleName();
      st.reasons.merge(kind, 1, Integer::sum);
    } catch (Throwable e) {
      throw new AssertionError(st.label + " " + what + ": untyped failure " + e, e);
    } finally {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  // ---------------------------------------------------------------- generic mutations

  /** Strategies 0-4 apply to every format: truncation, bit flips in the header, byte flips anywhere, length fields overwritten. */
  static byte[] generic(int strategy, long seed, byte[] orig, int headerEnd) {
    Random r = new Random(seed);
    byte[] b = orig.clone();
    int hdr = Math.max(1, Math.min(headerEnd, b.length));
    switch (strategy) {
      case 0 -> b = Arrays.copyOf(orig, r.nextInt(orig.length));
      case 1 -> {
        for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
          b[r.nextInt(hdr)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 2 -> {
        for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
      }
      case 3, 4 -> {
        // Overwrite a small little-endian integer of the header (a likely length, count, offset or
        // dimension) with an interesting value.
        int width = strategy == 3 ? 8 : 4;
        List<Integer> at = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(orig).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + width <= hdr; i++) {
          long v = width == 8 ? bb.getLong(i) : bb.getInt(i) & 0xFFFFFFFFL;
          if (v > 0 && v < (1 << 20)) {
            at.add(i);
          }
        }
        int pos = at.isEmpty() ? r.nextInt(Math.max(1, hdr - width)) : at.get(r.nextInt(at.size()));
        long v = r.nextInt(4) == 0 ? r.nextLong() : INTERESTING[r.nextInt(INTERESTING.length)] + (r.nextBoolean() ? 0 : r.nextInt(64) - 32);
        ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (pos + width <= b.length) {
          if (width == 8) {
            w.putLong(pos, v);
          } else {
            w.putInt(pos, (int) v);
          }
        }
      }
      default -> throw new IllegalArgumentException("strategy " + strategy);
    }
    return b;
  }

  static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  // ---------------------------------------------------------------- safetensors

  @Test
  @Timeout(120)
  void safetensors() {
    byte[] orig = read(Fixtures.path("basic.safetensors"));
    int n = (int) ByteBuffer.wrap(orig).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String header = new String(orig, 8, n, StandardCharsets.UTF_8);
    byte[] data = Arrays.copyOfRange(orig, 8 + n, orig.length);
    Stats st = new Stats("safetensors");
    qt().withFixedSeed(SEED)
        .withExamples(EXAMPLES)
        .forAll(integers().between(0, 6), longs().all())
        .checkAssert(
            (s, seed) -> {
              byte[] b = s < 5 ? generic(s, seed, orig, 8 + n) : structuredSafetensors(s, seed, header, data);
              check(st, "strategy " + s + " seed " + seed, b, ".safetensors", SafetensorsSource::open);
            });
    System.out.println(st.report() + " " + st.reasons);
  }

  /** Strategy 5: one field of the JSON header set to a hostile value; 6: raw text damage (invalid UTF-8, cut JSON, padding). */
  static byte[] structuredSafetensors(int s, long seed, String header, byte[] data) {
    Random r = new Random(seed);
    byte[] h;
    if (s == 5) {
      ObjectNode root;
      try {
        root = (ObjectNode) SafetensorsSource.JSON.readTree(header);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      List<String> names = new ArrayList<>();
      for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!k.equals("__metadata__")) {
          names.add(k);
        }
      }
      ObjectNode t = (ObjectNode) root.get(names.get(r.nextInt(names.size())));
      long v = INTERESTING[r.nextInt(INTERESTING.length)];
      switch (r.nextInt(7)) {
        case 0 -> ((ArrayNode) t.get("data_offsets")).set(r.nextInt(2), v);
        case 1 -> ((ArrayNode) t.get("data_offsets")).set(r.nextInt(2), ((ArrayNode) t.get("data_offsets")).get(0).longValue() - 4 + r.nextInt(8));
        case 2 -> {
          ArrayNode shape = (ArrayNode) t.get("shape");
          if (shape.isEmpty()) {
            shape.add(v);
          } else {
            shape.set(r.nextInt(shape.size()), r.nextBoolean() ? v : -r.nextInt(5));
          }
        }
        case 3 -> t.put("dtype", List.of("F8_E4M3", "Q4_0", "", "f32", "C64", "F4", "U64").get(r.nextInt(7)));
        case 4 -> t.putArray("shape").add(1_000_000).add(1_000_000);
        case 5 -> t.put("data_offsets", "0,4");
        default -> root.putObject("__metadata__").put("x", r.nextInt());
      }
      h = root.toString().getBytes(StandardCharsets.UTF_8);
    } else {
      h = header.getBytes(StandardCharsets.UTF_8);
      switch (r.nextInt(4)) {
        case 0 -> {
          int at = 2 + r.nextInt(h.length - 4);
          h[at] = (byte) (0x80 + r.nextInt(0x40)); // a lone continuation byte: invalid UTF-8
        }
        case 1 -> h = Arrays.copyOf(h, r.nextInt(h.length));
        case 2 -> h[r.nextInt(h.length)] = (byte) "{}[],:\"0".charAt(r.nextInt(8));
        default -> h = (header + "x").getBytes(StandardCharsets.UTF_8);
      }
    }
    return SafetensorsWriter.frame(h, data);
  }

  // ---------------------------------------------------------------- sharded safetensors (the index)

  @Test
  @Timeout(120)
  void shardedIndex() throws IOException {
    Path dir = Fixtures.path("sharded");
    Path work = tmp.resolve("shards");
    Files.createDirectories(work);
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.copy(p, work.resolve(p.getFileName()));
      }
    }
    byte[] orig = read(dir.resolve("model.safetensors.index.json"));
    Stats st = new Stats("safetensors index");
    int examples = Math.max(20, EXAMPLES / 4);
    qt().withFixedSeed(SEED)
        .withExamples(examples)
        .forAll(integers().between(0, 3), longs().all())
        .checkAssert(
            (s, seed) -> {
              Random r = new Random(seed);
              byte[] b =
                  switch (s) {
                    case 0 -> Arrays.copyOf(orig, r.nextInt(orig.length));
                    case 1, 2 -> generic(2, seed, orig, orig.length);
                    default -> new String(orig, StandardCharsets.UTF_8)
                        .replaceFirst("model-0000" + (1 + r.nextInt(3)) + "-of-00003.safetensors", List.of("../x", "/etc/passwd", "", "missing.safetensors").get(r.nextInt(4)))
                        .getBytes(StandardCharsets.UTF_8);
                  };
              Path idx = work.resolve("model.safetensors.index.json");
              try {
                Files.write(idx, b);
              } catch (IOException e) {
                throw new AssertionError(e);
              }
              st.total++;
              try (WeightSource src = WeightFiles.open(idx)) {
                src.names().forEach(src::get);
                st.read++;
              } catch (TensorException e) {
                if (!e.getMessage().contains(work.toString())) {
                  throw new AssertionError("error does not name the index: " + e.getMessage(), e);
                }
                st.rejected++;
              } catch (Throwable e) {
                throw new AssertionError("untyped failure " + e, e);
              }
            });
    System.out.println(st.report());
  }

  // ---------------------------------------------------------------- GGUF

  @Test
  @Timeout(120)
  void gguf() {
    byte[] orig = read(Fixtures.path("tiny.gguf"));
    int dataStart;
    try (var src = GgufSource.open(Fixtures.path("tiny.gguf"))) {
      dataStart = (int) src.dataStart();
    }
    Stats st = new Stats("GGUF");
    qt().withFixedSeed(SEED)
        .withExamples(EXAMPLES)
        .forAll(integers().between(0, 5), longs().all())
        .checkAssert(
            (s, seed) -> {
              byte[] b = s < 5 ? generic(s, seed, orig, dataStart) : structuredGguf(seed, orig);
              check(st, "strategy " + s + " seed " + seed, b, ".gguf", GgufSource::open);
            });
    System.out.println(st.report() + " " + st.reasons);
  }

  /** Strategy 5: a hostile count right at the top (tensor_count, metadata_kv_count) or a bad version/magic. */
  static byte[] structuredGguf(long seed, byte[] orig) {
    Random r = new Random(seed);
    byte[] b = orig.clone();
    ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long v = INTERESTING[r.nextInt(INTERESTING.length)];
    switch (r.nextInt(4)) {
      case 0 -> w.putLong(8, v);
      case 1 -> w.putLong(16, v);
      case 2 -> w.putInt(4, List.of(0, 1, 4, 0x03000000).get(r.nextInt(4)));
      default -> w.putInt(0, Integer.reverseBytes(GgufSource.MAGIC));
    }
    return b;
  }

  // ---------------------------------------------------------------- PyTorch .bin

  @Test
  @Timeout(120)
  void torchBin() throws IOException {
    byte[] orig = read(Fixtures.path("basic.bin"));
    ByteBuffer bb = ByteBuffer.wrap(orig).order(ByteOrder.LITTLE_ENDIAN);
    int pklEnd = 0;
    try (ZipFile z = new ZipFile(Fixtures.path("basic.bin").toFile())) {
      ZipEntry pkl = z.stream().filter(e -> e.getName().endsWith("data.pkl")).findFirst().orElseThrow();
      pklEnd = (int) (pkl.getSize() + 200);
    }
    int cdStart = bb.getInt(orig.length - 22 + 16);
    Stats st = new Stats("PyTorch .bin");
    Stats foreign = new Stats("PyTorch .bin foreign globals");
    int finalPklEnd = pklEnd;
    qt().withFixedSeed(SEED)
        .withExamples(EXAMPLES)
        .forAll(integers().between(0, 7), longs().all())
        .checkAssert(
            (s, seed) -> {
              byte[] b;
              if (s < 5) {
                // Header = the pickle at the front, or the central directory at the back.
                boolean back = new Random(seed).nextBoolean() && s != 0;
                if (back) {
                  byte[] tail = Arrays.copyOfRange(orig, cdStart, orig.length);
                  byte[] mt = generic(s, seed, tail, tail.length);
                  b = Arrays.copyOf(orig, cdStart + mt.length);
                  System.arraycopy(mt, 0, b, cdStart, mt.length);
                } else {
                  b = generic(s, seed, orig, finalPklEnd);
                }
                check(st, "strategy " + s + " seed " + seed, b, ".bin", TorchBinSource::open);
              } else if (s < 7) {
                b = rezip(seed, pkl -> mutatePickle(seed, pkl));
                check(st, "pickle mutation seed " + seed, b, ".bin", TorchBinSource::open);
              } else {
                String[] g = {"os\nsystem", "builtins\neval", "subprocess\nPopen", "__builtin__\nexec", "torch\nload", "numpy.core.multiarray\n_reconstruct"};
                String pick = g[new Random(seed).nextInt(g.length)];
                b = rezip(seed, pkl -> replace(pkl, "collections\nOrderedDict", pick));
                foreign.total++;
                Path p = tmp.resolve("foreign" + fileNo.incrementAndGet() + ".bin");
                try {
                  Files.write(p, b);
                  TorchBinSource.open(p).close();
                  throw new AssertionError("foreign global " + pick + " was accepted");
                } catch (FormatException e) {
                  String want = "refusing to load foreign global " + pick.replace('\n', '.');
                  if (!e.getMessage().contains(want) || !e.getMessage().contains(p.toString())) {
                    throw new AssertionError("expected '" + want + "' naming the file, got: " + e.getMessage(), e);
                  }
                  foreign.rejected++;
                } catch (IOException e) {
                  throw new AssertionError(e);
                }
              }
            });
    System.out.println(st.report() + " " + st.reasons);
    System.out.println(foreign.report());
  }

  static byte[] replace(byte[] hay, String from, String to) {
    String s = new String(hay, StandardCharsets.ISO_8859_1);
    return s.replace(from, to).getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Damages the pickle itself: random opcode bytes, truncation, or a dropped byte. */
  static byte[] mutatePickle(long seed, byte[] pkl) {
    Random r = new Random(seed);
    byte[] b = pkl.clone();
    switch (r.nextInt(3)) {
      case 0 -> {
        for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
      }
      case 1 -> b = Arrays.copyOf(pkl, r.nextInt(pkl.length));
      default -> {
        int at = r.nextInt(pkl.length);
        b = new byte[pkl.length - 1];
        System.arraycopy(pkl, 0, b, 0, at);
        System.arraycopy(pkl, at + 1, b, at, pkl.length - at - 1);
      }
    }
    return b;
  }

  /** The fixture re-zipped (STORED, as torch does) with its data.pkl transformed. */
  static byte[] rezip(long seed, Function<byte[], byte[]> pickle) {
    try (ZipFile z = new ZipFile(Fixtures.path("basic.bin").toFile())) {
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try (ZipOutputStream out = new ZipOutputStream(bos)) {
        for (ZipEntry e : z.stream().toList()) {
          byte[] data;
          try (InputStream in = z.getInputStream(e)) {
            data = in.readAllBytes();
          }
          if (e.getName().endsWith("data.pkl")) {
            data = pickle.apply(data);
          }
          ZipEntry ne = new ZipEntry(e.getName());
          ne.setMethod(ZipEntry.STORED);
          ne.setSize(data.length);
          CRC32 crc = new CRC32();
          crc.update(data);
          ne.setCrc(crc.getValue());
          out.putNextEntry(ne);
          out.write(data);
          out.closeEntry();
        }
      }
      return bos.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

}
