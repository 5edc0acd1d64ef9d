package dev.fovea.tensor.io;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
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
      try {
        Mutations.readAll(src);
      } catch (AssertionError e) {
        throw new AssertionError(st.label + " " + what + ": " + e.getMessage(), e);
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
              byte[] b = s < 5 ? Mutations.generic(s, seed, orig, 8 + n) : Mutations.structuredSafetensors(s, seed, header, data);
              check(st, "strategy " + s + " seed " + seed, b, ".safetensors", SafetensorsSource::open);
            });
    System.out.println(st.report() + " " + st.reasons);
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
                    case 1, 2 -> Mutations.generic(2, seed, orig, orig.length);
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
              byte[] b = s < 5 ? Mutations.generic(s, seed, orig, dataStart) : Mutations.structuredGguf(seed, orig);
              check(st, "strategy " + s + " seed " + seed, b, ".gguf", GgufSource::open);
            });
    System.out.println(st.report() + " " + st.reasons);
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
                  byte[] mt = Mutations.generic(s, seed, tail, tail.length);
                  b = Arrays.copyOf(orig, cdStart + mt.length);
                  System.arraycopy(mt, 0, b, cdStart, mt.length);
                } else {
                  b = Mutations.generic(s, seed, orig, finalPklEnd);
                }
                check(st, "strategy " + s + " seed " + seed, b, ".bin", TorchBinSource::open);
              } else if (s < 7) {
                b = Mutations.rezip(Fixtures.path("basic.bin"), pkl -> Mutations.mutatePickle(seed, pkl));
                check(st, "pickle mutation seed " + seed, b, ".bin", TorchBinSource::open);
              } else {
                String[] g = {"os\nsystem", "builtins\neval", "subprocess\nPopen", "__builtin__\nexec", "torch\nload", "numpy.core.multiarray\n_reconstruct"};
                String pick = g[new Random(seed).nextInt(g.length)];
                b = Mutations.rezip(Fixtures.path("basic.bin"), pkl -> Mutations.replace(pkl, "collections\nOrderedDict", pick));
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
}
