package dev.fovea.tensor.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.fovea.tensor.archive.fb.Archive;
import dev.fovea.tensor.archive.fb.BlockType;
import dev.fovea.tensor.archive.fb.ElementType;
import dev.fovea.tensor.archive.fb.TensorEntry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile archives: every malformed input must fail at open (or at most read fine) with an {@link
 * ArchiveException} naming the file, never an unchecked exception from FlatBuffers or FFM, an
 * OutOfMemoryError or a hang.
 */
class ArchiveCorruptionTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 300);

  @TempDir Path dir;
  private byte[] good;
  private long dataStart;

  @BeforeEach
  void makeSample() throws Exception {
    Path f = dir.resolve("good.fovea");
    ArchiveSample.write(f);
    good = Files.readAllBytes(f);
    try (ArchiveReader r = ArchiveReader.open(f)) {
      dataStart = r.dataStart();
    }
  }

  // ---------------------------------------------------------------- targeted cases

  /** One tensor entry as raw schema values, for building headers no writer would produce. */
  record Raw(String name, int dtype, long[] shape, long offset, long length, int quant) {}

  /** Assembles a complete file: preamble, a header holding {@code tensors}, and {@code dataLength} zero bytes. */
  static byte[] file(long dataLength, long declaredDataLength, int version, Raw... tensors) {
    FlatBufferBuilder b = new FlatBufferBuilder(256).forceDefaults(true);
    int[] te = new int[tensors.length];
    for (int i = 0; i < te.length; i++) {
      Raw t = tensors[i];
      te[i] = TensorEntry.createTensorEntry(b, b.createString(t.name()), t.dtype(), TensorEntry.createShapeVector(b, t.shape()), t.offset(), t.length(), t.quant(), 0);
    }
    int tv = Archive.createOffsetVector(b, te);
    Archive.startArchive(b);
    Archive.addFormatVersion(b, version);
    Archive.addTensors(b, tv);
    Archive.addDataLength(b, declaredDataLength);
    Archive.addAlignment(b, 64);
    Archive.finishArchiveBuffer(b, Archive.endArchive(b));
    byte[] header = b.sizedByteArray();
    long start = ArchiveFormat.dataStart(header.length);
    ByteBuffer out = ByteBuffer.allocate((int) (start + dataLength)).order(ByteOrder.LITTLE_ENDIAN);
    out.put(ArchiveFormat.MAGIC).putShort((short) version).putLong(header.length).put(header);
    return out.array();
  }

  private ArchiveException rejects(byte[] bytes, String... fragments) throws Exception {
    Path f = dir.resolve("bad.fovea");
    Files.write(f, bytes);
    ArchiveException e = assertThrows(ArchiveException.class, () -> ArchiveReader.open(f).close());
    assertTrue(e.getMessage().startsWith(f.toString() + ": "), "names the file: " + e.getMessage());
    for (String s : fragments) {
      assertTrue(e.getMessage().contains(s), "'" + s + "' in: " + e.getMessage());
    }
    assertNull(e.getCause(), "caught by a check, not by the safety net: " + e.getMessage());
    return e;
  }

  private static Raw f32(String name, long offset, long... shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    return new Raw(name, ElementType.F32, shape, offset, 4 * n, BlockType.NONE);
  }

  @Test
  void validHandBuiltFileOpens() throws Exception {
    Path f = dir.resolve("ok.fovea");
    Files.write(f, file(128, 128, 1, f32("a", 0, 2, 4), f32("b", 64, 16)));
    try (ArchiveReader r = ArchiveReader.open(f)) {
      assertEquals(2, r.names().size());
    }
  }

  @Test
  void preambleErrors() throws Exception {
    rejects(new byte[0], "shorter than the 16-byte preamble");
    byte[] b = good.clone();
    b[0] = 'G';
    rejects(b, "not a fovea archive", "magic");
    b = good.clone();
    b[6] = 2;
    rejects(b, "format version 2", "reads version 1");
    b = good.clone();
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(8, good.length);
    rejects(b, "header length", "does not fit the file");
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(8, -5);
    rejects(b, "header length 18446744073709551611");
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(8, 3);
    rejects(b, "header length 3");
    rejects(java.util.Arrays.copyOf(good, (int) dataStart + 10), "data_length", "truncated");
    rejects(java.util.Arrays.copyOf(good, good.length + 1), "data_length");
    rejects(file(0, 0, 2), "format version 2");
  }

  @Test
  void tensorEntryErrors() throws Exception {
    rejects(file(64, 64, 1, f32("a", 64, 4)), "tensor 'a'", "run past the 64-byte data section");
    rejects(file(128, 128, 1, f32("a", 0, 16), f32("b", 0, 2)), "tensor", "overlap tensor");
    rejects(file(128, 128, 1, f32("a", 32, 4)), "tensor 'a'", "offset 32 is not a multiple of 64");
    rejects(file(64, 64, 1, f32("a", -64, 4)), "tensor 'a'", "offset 18446744073709551552");
    rejects(file(64, 64, 1, new Raw("a", 9, new long[] {4}, 0, 16, 0)), "tensor 'a'", "unknown dtype code 9");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[] {4}, 0, 16, BlockType.Q8_0)), "quantization Q8_0 disagrees with dtype F32");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[] {4}, 0, 12, 0)), "length 12 bytes disagrees with F32 [4] (16 bytes)");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[] {4}, 0, -16, 0)), "length 18446744073709551600");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[] {-4}, 0, 16, 0)), "size -4 of dimension 0");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[] {1L << 32}, 0, 16, 0)), "beyond 2^31-1");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[] {1 << 30, 1 << 30, 1 << 30}, 0, 16, 0)), "more than 2^40 elements");
    rejects(file(64, 64, 1, new Raw("a", ElementType.Q8_0, new long[] {2, 48}, 0, 102, BlockType.Q8_0)), "Q8_0 needs a last dimension that is a multiple of 32");
    rejects(file(64, 64, 1, new Raw("a", ElementType.F32, new long[17], 0, 0, 0)), "rank 17");
    rejects(file(64, 64, 1, f32("a", 0, 4), f32("a", 0, 0)), "duplicate tensor name 'a'");
    rejects(file(64, 64, 1, f32("", 0, 4)), "tensors[0].name: is empty");
    rejects(file(64, 32, 1, f32("a", 0, 4)), "data_length", "header says 32");
  }

  @Test
  void structuralErrors() throws Exception {
    byte[] b = good.clone();
    // Root offset pointing past the header.
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(16, 0x7FFFFFF0);
    rejects(b, "malformed header", "root table offset");
    b = good.clone();
    b[16 + 4] = 'X';
    rejects(b, "file identifier");
  }

  @Test
  void sharedTablesCannotInflateTheEntryCount() throws Exception {
    // FlatBuffers lets every vector element point at the same table: 4 bytes per "tensor".
    FlatBufferBuilder b = new FlatBufferBuilder(1 << 23);
    int t = TensorEntry.createTensorEntry(b, b.createString("a"), ElementType.F32, TensorEntry.createShapeVector(b, new long[] {0}), 0, 0, 0, 0);
    int[] many = new int[HeaderVerifier.MAX_TENSORS + 1];
    java.util.Arrays.fill(many, t);
    int tv = Archive.createOffsetVector(b, many);
    Archive.startArchive(b);
    Archive.addFormatVersion(b, 1);
    Archive.addTensors(b, tv);
    Archive.addAlignment(b, 64);
    Archive.finishArchiveBuffer(b, Archive.endArchive(b));
    byte[] header = b.sizedByteArray();
    ByteBuffer out = ByteBuffer.allocate((int) ArchiveFormat.dataStart(header.length)).order(ByteOrder.LITTLE_ENDIAN);
    out.put(ArchiveFormat.MAGIC).putShort((short) 1).putLong(header.length).put(header);
    rejects(out.array(), "tensors: 1048577 entries exceed the limit of 1048576");
  }

  // ---------------------------------------------------------------- property-based mutations

  private final AtomicInteger rejected = new AtomicInteger();
  private final AtomicInteger accepted = new AtomicInteger();

  /** Opens {@code bytes}; if it opens, reads every tensor, file and key. Only ArchiveException may escape. */
  private void survive(byte[] bytes, String what) {
    Path f = dir.resolve("mutant.fovea");
    try {
      Files.write(f, bytes);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    try (ArchiveReader r = ArchiveReader.open(f)) {
      for (String n : r.names()) {
        r.get(n).toFloatArray();
      }
      r.files();
      r.metadata().forEach((k, v) -> k.length());
      accepted.incrementAndGet();
    } catch (ArchiveException e) {
      if (e.getCause() != null && !(e.getCause() instanceof java.io.IOException)) {
        fail(what + ": only the safety net caught it (verifier gap): " + e.getMessage(), e);
      }
      rejected.incrementAndGet();
    } catch (Throwable t) {
      fail(what + ": untyped failure " + t, t);
    }
  }

  @Test
  void truncationsAreRejected() {
    qt().withExamples(EXAMPLES).forAll(integers().between(0, good.length - 1)).checkAssert(len -> {
      survive(java.util.Arrays.copyOf(good, len), "truncated to " + len);
    });
    // Every truncation changes the data length, so none may be accepted.
    assertEquals(0, accepted.get(), "truncated archives accepted");
    System.out.printf("archive corruption: %d truncations rejected, %d accepted%n", rejected.get(), accepted.get());
  }

  @Test
  void byteFlipsInTheHeaderRegion() {
    qt().withExamples(EXAMPLES).forAll(integers().between(0, (int) dataStart - 1), integers().between(1, 255)).checkAssert((pos, x) -> {
      byte[] b = good.clone();
      b[pos] ^= x.byteValue();
      survive(b, "byte " + pos + " xor " + x);
    });
    System.out.printf("archive corruption: %d header byte flips rejected, %d accepted (blob/name/padding bytes)%n", rejected.get(), accepted.get());
  }

  @Test
  void randomWordsOverHeaderOffsets() {
    // 4- and 8-byte overwrites at aligned positions hit uoffsets, vtable entries, lengths and shape sizes.
    qt().withExamples(EXAMPLES).forAll(integers().between(0, ((int) dataStart - 8) / 4), longs().all(), integers().between(0, 1)).checkAssert((slot, v, wide) -> {
      byte[] b = good.clone();
      ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
      if (wide == 1) {
        bb.putLong(slot * 4, v);
      } else {
        bb.putInt(slot * 4, (int) (long) v);
      }
      survive(b, "word at " + slot * 4 + " = " + v);
    });
    System.out.printf("archive corruption: %d header word overwrites rejected, %d accepted%n", rejected.get(), accepted.get());
  }

  @Test
  void smallIntegersOverHeaderFields() {
    // Plausible-looking values (small offsets, sizes near the real ones) probe the semantic checks.
    qt().withExamples(EXAMPLES).forAll(integers().between(16, (int) dataStart - 4), integers().between(-70, 300)).checkAssert((pos, v) -> {
      byte[] b = good.clone();
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(pos, v);
      survive(b, "int at " + pos + " = " + v);
    });
    System.out.printf("archive corruption: %d small-integer overwrites rejected, %d accepted%n", rejected.get(), accepted.get());
  }
}
