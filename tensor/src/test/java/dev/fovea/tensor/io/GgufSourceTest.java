package dev.fovea.tensor.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufSourceTest {
  @TempDir Path tmp;

  @Test
  void readsEveryTensorTypeOfThePythonFixtureBitExact() {
    JsonNode want = Fixtures.expected("tiny.gguf.expected.json");
    try (var src = GgufSource.open(Fixtures.path("tiny.gguf"))) {
      assertEquals(3, src.version());
      assertEquals(64, src.alignment());
      Fixtures.checkAll(src, want.get("tensors"));
      assertEquals(GgmlType.Q6_K, src.ggmlType("t.q6_k"));
      assertEquals(DType.F32, src.info("t.q6_k").dtype());
      assertEquals(DType.Q4_0, src.get("blk.0.ffn_up.weight").dtype());
      assertTrue(src.get("blk.0.ffn_gate.weight").storage().isReadOnly(), "Q8_0 is mapped");
      assertArrayEquals(new int[] {2, 64}, src.info("blk.0.ffn_gate.weight").shape(), "ne reversed into row-major");
    }
  }

  /** The tensors converted on first use are listed by {@link GgufSource#convertedTensors()}, in file order, not logged. */
  /** Found by bench/fuzz.sh: a metadata key of thousands of characters was echoed whole in the error about its value. */
  @Test
  void aLongKeyIsCutInTheMessage() throws IOException {
    String key = "k".repeat(60_000);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(24 + 8 + key.length() + 4 + 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.putInt(GgufSource.MAGIC).putInt(3).putLong(0).putLong(1); // v3, no tensors, one key
    b.putLong(key.length()).put(key.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(99); // value type 99
    Path f = Files.write(tmp.resolve("long-key.gguf"), b.array());
    FormatException e = assertThrows(FormatException.class, () -> GgufSource.open(f));
    assertTrue(e.getMessage().startsWith(f + ": metadata 'kkk") && e.getMessage().endsWith("...': unknown metadata value type 99"),
        e.getMessage().substring(0, Math.min(300, e.getMessage().length())));
    assertTrue(e.getMessage().length() < 500, e.getMessage().length() + " chars");
  }

  @Test
  void convertedTensorsAreListedWithTheirStoredTypes() {
    try (var src = GgufSource.open(Fixtures.path("tiny.gguf"))) {
      Map<String, GgmlType> converted = src.convertedTensors();
      assertEquals(GgmlType.Q4_K, converted.get("t.q4_k"));
      assertEquals(GgmlType.Q6_K, converted.get("t.q6_k"));
      for (String n : src.names()) {
        assertEquals(src.ggmlType(n).converted(), converted.containsKey(n), n);
      }
      assertEquals(src.names().stream().filter(converted::containsKey).toList(), List.copyOf(converted.keySet()), "file order");
      assertThrows(UnsupportedOperationException.class, () -> converted.put("x", GgmlType.F32));
    }
  }

  @Test
  void metadataOfEveryValueType() {
    try (var src = GgufSource.open(Fixtures.path("tiny.gguf"))) {
      Map<String, Object> m = src.metadata();
      assertEquals(200, m.get("test.u8"));
      assertEquals(-5, m.get("test.i8"));
      assertEquals(60000, m.get("test.u16"));
      assertEquals(-30000, m.get("test.i16"));
      assertEquals(4000000000L, m.get("test.u32"));
      assertEquals(-2000000000, m.get("test.i32"));
      assertEquals(1.5f, m.get("test.f32"));
      assertEquals(false, m.get("test.bool"));
      assertEquals("9223372036854775813", Long.toUnsignedString((Long) m.get("test.u64")));
      assertEquals(-(1L << 40), m.get("test.i64"));
      assertEquals(3.25e100, m.get("test.f64"));
      assertEquals("fovea tiny \u2713", src.getString("general.name"));
      GgufArray nested = src.getArray("test.nested");
      assertEquals(GgufType.ARRAY, nested.elementType());
      assertEquals(new GgufArray(GgufType.UINT8, List.of(1, 2)), nested.values().get(0));
      assertEquals(new GgufArray(GgufType.STRING, List.of("x")), nested.values().get(1));
      assertEquals(new GgufArray(GgufType.INT64, List.of()), nested.values().get(2));
      assertEquals(0, src.getArray("test.empty").size());
      assertEquals(List.of(true, false), src.getArray("test.bools").values());
      assertEquals(GgufType.UINT64, src.metadataType("test.u64"));
      var e = assertThrows(FormatException.class, () -> src.getString("test.u8"));
      assertTrue(e.getMessage().contains("tiny.gguf") && e.getMessage().contains("test.u8"), e.getMessage());
      assertThrows(FormatException.class, () -> src.getInt("no.such.key"));
    }
  }

  @Test
  void llamaViewHasHuggingFaceNamesAndRopeOrder() {
    JsonNode want = Fixtures.expected("tiny.gguf.expected.json");
    try (WeightSource hf = GgufLlamaNames.asHuggingFace(GgufSource.open(Fixtures.path("tiny.gguf")))) {
      for (var e : want.get("huggingface").properties()) {
        Fixtures.check("hf " + e.getKey(), hf.get(e.getKey()), e.getValue());
      }
      assertTrue(hf.contains("model.embed_tokens.weight"));
      assertTrue(hf.contains("model.layers.0.input_layernorm.weight"));
      assertTrue(hf.contains("model.layers.0.mlp.gate_proj.weight"));
      assertTrue(hf.contains("t.q4_k"), "unknown names pass through");
      assertNull(hf.info("blk.0.attn_q.weight"));
      Fixtures.check(
          "v passes through",
          hf.get("model.layers.0.self_attn.v_proj.weight"),
          want.get("tensors").get("blk.0.attn_v.weight"));
    }
    assertEquals("model.layers.12.mlp.down_proj.weight", GgufLlamaNames.toHuggingFace("blk.12.ffn_down.weight"));
    assertEquals("lm_head.weight", GgufLlamaNames.toHuggingFace("output.weight"));
    assertEquals("blk.3.attn_output.weight", GgufLlamaNames.toGguf("model.layers.3.self_attn.o_proj.weight"));
    assertEquals("output_norm.weight", GgufLlamaNames.toGguf("model.norm.weight"));
    assertNull(GgufLlamaNames.toGguf("model.layers.x.self_attn.o_proj.weight"));
  }

  @Test
  void llamaParamsAndVocabulary() {
    try (var src = GgufSource.open(Fixtures.path("tiny.gguf"))) {
      var p = GgufLlamaNames.params(src);
      assertEquals(new GgufLlamaNames.Params(64, 8, 1, 16, 2, 1, 4, 1e-5f, 10000f, 4), p);
      var v = GgufLlamaNames.vocabulary(src);
      assertEquals(List.of("<unk>", "<s>", "</s>", "\u2581a"), v.tokens());
      assertArrayEquals(new float[] {0, 0, 0, -1.5f}, v.scores());
      assertArrayEquals(new int[] {2, 3, 3, 1}, v.tokenTypes());
      assertEquals(1, v.bosId());
      assertEquals(2, v.eosId());
      assertEquals(-1, v.paddingId());
    }
  }

  @Test
  void readsVersion2() {
    try (var src = GgufSource.open(Fixtures.path("v2.gguf"))) {
      assertEquals(2, src.version());
      assertEquals(32, src.alignment());
      Fixtures.checkAll(src, Fixtures.expected("v2.gguf.expected.json").get("tensors"));
    }
  }

  /** Our writer, fed the Python file's metadata and tensor bytes, writes the Python file byte for byte. */
  @Test
  void javaWriterReproducesTheIndependentPythonWriterByteForByte() throws IOException {
    for (String name : List.of("tiny.gguf", "v2.gguf")) {
      Path out = tmp.resolve(name);
      try (var src = GgufSource.open(Fixtures.path(name))) {
        GgufWriter w = new GgufWriter(src.version());
        for (String k : src.metadata().keySet()) {
          w.put(k, src.metadataType(k), src.metadata().get(k));
        }
        for (String n : src.names()) {
          w.addRaw(n, src.ggmlType(n), src.info(n).shape(), src.rawBytes(n));
        }
        w.write(out);
      }
      assertArrayEquals(Files.readAllBytes(Fixtures.path(name)), Files.readAllBytes(out), name);
    }
  }

  @Test
  void writerEncodesF32F16Bf16Q8Q4AndReadsBack() {
    Path p = tmp.resolve("w.gguf");
    Random rng = new Random(7);
    try (Scope scope = Scope.open()) {
      Tensor x = Tensor.randn(rng, 3, 64);
      new GgufWriter()
          .putString("general.architecture", "test")
          .putUInt32("general.alignment", 128)
          .putStrings("s", List.of("a", "b"))
          .putFloats("f", new float[] {1, 2})
          .putInts("i", new int[] {-1})
          .putBool("b", true)
          .addTensor("f32", x, GgmlType.F32)
          .addTensor("f16", x, GgmlType.F16)
          .addTensor("bf16", x, GgmlType.BF16)
          .addTensor("q8", x, GgmlType.Q8_0)
          .addTensor("q4", x, GgmlType.Q4_0)
          .write(p);
      try (var src = GgufSource.open(p)) {
        assertEquals(128, src.alignment());
        assertEquals(0, src.dataStart() % 128, "data section aligned (tensor offsets are checked at open)");
        float[] want = x.toFloatArray();
        assertArrayEquals(want, src.get("f32").toFloatArray());
        float[] f16 = src.get("f16").toFloatArray();
        float[] bf16 = src.get("bf16").toFloatArray();
        float[] q8 = src.get("q8").toFloatArray();
        float[] q4 = src.get("q4").toFloatArray();
        for (int i = 0; i < want.length; i++) {
          assertEquals(Float.float16ToFloat(Float.floatToFloat16(want[i])), f16[i]);
          assertEquals(dev.fovea.tensor.cpu.Elements.bf16ToFloat(dev.fovea.tensor.cpu.Elements.floatToBf16(want[i])), bf16[i]);
          assertEquals(want[i], q8[i], 0.05f, "q8 " + i);
          assertEquals(want[i], q4[i], 0.6f, "q4 " + i);
        }
        assertEquals(List.of("a", "b"), src.getStrings("s"));
        assertArrayEquals(new int[] {-1}, src.getInts("i"));
      }
    }
  }

  @Test
  void permuteAndUnpermuteAreInverse() {
    try (Scope scope = Scope.open()) {
      Tensor w = Tensor.randn(new Random(3), 16, 5);
      Tensor g = GgufLlamaNames.permuteRows(w, 2);
      assertArrayEquals(w.toFloatArray(), GgufLlamaNames.unpermuteRows(g, 2).toFloatArray());
      // HF row c*hd/2 + i of head h is GGUF row 2i + c: head 1 (hd 8), c=1, i=2 -> HF 8+4+2=14, GGUF 8+4+1=13
      assertEquals(w.get(14, 3), g.get(13, 3));
    }
  }
}
