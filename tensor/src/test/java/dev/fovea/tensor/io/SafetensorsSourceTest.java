package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsSourceTest {
  @TempDir Path tmp;

  @Test
  void readsEveryDtypeOfThePythonFixtureBitExact() {
    JsonNode want = Fixtures.expected("basic.safetensors.expected.json");
    try (var src = SafetensorsSource.open(Fixtures.path("basic.safetensors"))) {
      Fixtures.checkAll(src, want.get("tensors"));
      assertEquals("pt", src.metadata().get("format"));
      assertEquals("fovea fixture \u2713", src.metadata().get("note"));
      assertEquals(SafetensorsSource.FileDType.BOOL, src.fileDType("mask"));
      assertEquals(DType.I32, src.info("mask").dtype());
      assertTrue(src.get("f32").storage().isReadOnly(), "F32 tensors are mapped, not copied");
      assertFalse(src.fileDType("u8").mappedDirectly());
    }
  }

  @Test
  void getAfterCloseIsATypedError() {
    var src = SafetensorsSource.open(Fixtures.path("basic.safetensors"));
    src.close();
    assertThrows(TensorException.class, () -> src.get("f32"));
  }

  @Test
  void missingTensorNamesTheFile() {
    try (var src = SafetensorsSource.open(Fixtures.path("basic.safetensors"))) {
      var e = assertThrows(TensorException.class, () -> src.get("nope"));
      assertTrue(e.getMessage().contains("basic.safetensors") && e.getMessage().contains("nope"), e.getMessage());
    }
  }

  @Test
  void readsTheShardedFixtureThroughItsIndex() {
    JsonNode want = Fixtures.expected("sharded.expected.json");
    try (WeightSource src = WeightFiles.open(Fixtures.path("sharded/model.safetensors.index.json"))) {
      Fixtures.checkAll(src, want.get("tensors"));
      assertEquals(3, ((ShardedSource) src).shards().size());
      assertEquals("pt", src.metadata().get("format"));
      assertTrue(src.metadata().containsKey("total_size"));
    }
    try (WeightSource src = WeightFiles.open(Fixtures.path("sharded"))) {
      assertEquals(want.get("tensors").size(), src.names().size());
    }
  }

  /** Found by bench/fuzz.sh: a NUL in a shard name was an InvalidPathException from Path.resolve. */
  @Test
  void aShardNameWithANulIsAFormatErrorOfTheIndex() throws IOException {
    Path index = tmp.resolve("model.safetensors.index.json");
    Files.writeString(index, "{\"weight_map\": {\"w\": \"model-1.safe\\u0000tensors\"}}");
    var e = assertThrows(FormatException.class, () -> WeightFiles.open(index));
    assertEquals(index + ": weight_map['w']: shard 'model-1.safe?tensors' must be a plain file name next to the index", e.getMessage());
  }

  /** Found by bench/fuzz.sh: hostile header values were echoed whole, in messages of 200 KB. */
  @Test
  void hostileHeaderValuesAreCutInMessages() throws IOException {
    String longText = "x".repeat(100_000);
    for (String tensor : List.of("{\"dtype\": \"" + longText + "\", \"shape\": [1], \"data_offsets\": [0, 4]}",
        "{\"dtype\": \"F32\", \"shape\": [\"" + longText + "\"], \"data_offsets\": [0, 4]}")) {
      for (String name : List.of("w", "y".repeat(40_000))) { // Jackson refuses names over 50,000 characters
        Path p = tmp.resolve("long.safetensors");
        byte[] header = ("{\"" + name + "\": " + tensor + "}").getBytes(StandardCharsets.UTF_8);
        Files.write(p, SafetensorsWriter.frame(header, new byte[4]));
        var e = assertThrows(FormatException.class, () -> SafetensorsSource.open(p));
        assertTrue(e.getMessage().startsWith(p + ": tensor '") && e.getMessage().length() < 1000, e.getMessage().length() + " chars: " + e.getMessage().substring(0, Math.min(300, e.getMessage().length())));
      }
    }
  }

  @Test
  void javaWrittenFileRoundTrips() throws IOException {
    Path p = tmp.resolve("t.safetensors");
    SafetensorsWriter.write(
        p,
        List.of(
            new SafetensorsWriter.Item("a", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)),
            new SafetensorsWriter.Item("b", Tensor.ofLongs(new long[] {7, -8}, 2))),
        java.util.Map.of("k", "v"));
    try (var src = SafetensorsSource.open(p)) {
      assertEquals(List.of("a", "b"), List.copyOf(src.names()));
      assertEquals(6f, src.get("a").get(1, 2));
      assertEquals(-8L, src.get("b").getLong(1));
      assertEquals("v", src.metadata().get("k"));
    }
  }

  /**
   * writeGenerated streams each tensor's bytes from its Fill, chunk by chunk, with the offsets of
   * the tensor's data: a BF16 tensor of 1.5 chunks and a small F32 one give byte for byte the file
   * that write gives for tensors holding the same bytes.
   */
  @Test
  void generatedFileEqualsTheWrittenOne() throws IOException {
    int n = SafetensorsWriter.CHUNK * 3 / 4; // BF16 elements: 1.5 chunks of bytes
    SafetensorsWriter.Fill pattern = (chunk, offset) -> {
      for (long i = 0; i < chunk.byteSize(); i++) {
        chunk.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) ((offset + i) * 31 + (offset + i) / 251));
      }
    };
    Tensor big = Tensor.empty(DType.BF16, 3, n / 3);
    pattern.fill(big.storage().segment().asSlice(0, 2L * n), 0);
    Tensor small = Tensor.of(new float[] {1, -2, 3.5f}, 3);
    Path written = tmp.resolve("w.safetensors");
    Path generated = tmp.resolve("g.safetensors");
    SafetensorsWriter.write(written, List.of(new SafetensorsWriter.Item("big", big), new SafetensorsWriter.Item("small", small)), java.util.Map.of("k", "v"));
    List<Long> offsets = new java.util.ArrayList<>();
    SafetensorsWriter.writeGenerated(generated, List.of(
        new SafetensorsWriter.Generated("big", DType.BF16, new int[] {3, n / 3}, (chunk, offset) -> {
          offsets.add(offset);
          pattern.fill(chunk, offset);
        }),
        new SafetensorsWriter.Generated("small", DType.F32, new int[] {3}, (chunk, offset) -> chunk.copyFrom(small.storage().segment().asSlice(0, 12)))),
        java.util.Map.of("k", "v"));
    assertEquals(List.of(0L, (long) SafetensorsWriter.CHUNK), offsets);
    assertTrue(java.util.Arrays.equals(Files.readAllBytes(written), Files.readAllBytes(generated)), "generated file differs from the written one");
    try (var src = SafetensorsSource.open(generated)) {
      assertEquals(-2f, src.get("small").get(1));
    }
  }

  @Test
  void rejectsHandWrittenBadHeaders() throws IOException {
    String[] bad = {
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", // size mismatch
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"U8\",\"shape\":[1000000,1000000,1000],\"data_offsets\":[0,4]}}",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
      "{\"a\":",
      "[1,2]",
      "{\"__metadata__\":{\"x\":1}}",
    };
    for (String h : bad) {
      Path p = tmp.resolve("bad.safetensors");
      byte[] header = h.getBytes(StandardCharsets.UTF_8);
      Files.write(p, SafetensorsWriter.frame(header, new byte[4]));
      var e = assertThrows(FormatException.class, () -> SafetensorsSource.open(p).close(), h);
      assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
    }
  }
}
