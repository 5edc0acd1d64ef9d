package dev.fovea.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.floats;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.cpu.Elements;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConverterTest {
  private static final int EXAMPLES = Integer.getInteger("fovea.examples", 200);

  @TempDir Path dir;

  /** Known tensors with real-looking names, in F32, F16, BF16 and I64, with an outlier, a zero and a negative-max block. */
  static Map<String, Tensor> checkpoint() {
    Random rng = new Random(3);
    Map<String, Tensor> m = new LinkedHashMap<>();
    float[] fc1 = Tensor.randn(rng, 64, 96).toFloatArray();
    fc1[5] = 40f; // outlier: its block's scale is large
    for (int i = 32; i < 64; i++) {
      fc1[i] = 0f; // an all-zero block (d = 0)
    }
    fc1[96 + 7] = -9f; // negative value of largest magnitude (Q4_0's signed scale)
    m.put("model.layers.0.mlp.fc1.weight", Tensor.of(fc1, 64, 96));
    m.put("model.layers.0.mlp.fc1.bias", Tensor.randn(rng, 64));
    m.put("model.layers.0.mlp.fc2.weight", Ops.to(Tensor.randn(rng, 96, 64), DType.F16));
    m.put("model.layers.0.self_attn.q_proj.weight", Ops.to(Tensor.randn(rng, 32, 64), DType.BF16));
    m.put("model.layers.0.input_layernorm.weight", Tensor.randn(rng, 64));
    m.put("model.embed_tokens.weight", Tensor.randn(rng, 100, 64));
    m.put("vision_model.embeddings.patch_embedding.weight", Tensor.randn(rng, 8, 3, 4, 4));
    m.put("lm_head.weight", Tensor.randn(rng, 10, 33));
    m.put("conv.weight", Tensor.randn(rng, 4, 2, 32));
    m.put("position_ids", Tensor.ofLongs(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 10));
    return m;
  }

  static Map<String, byte[]> sideFiles() {
    Map<String, byte[]> f = new LinkedHashMap<>();
    f.put("config.json", "{\"model_type\": \"llama\", \"hidden_size\": 64}".getBytes(StandardCharsets.UTF_8));
    f.put("tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}".getBytes(StandardCharsets.UTF_8));
    f.put("preprocessor_config.json", "{\"crop_size\": 336}".getBytes(StandardCharsets.UTF_8));
    return f;
  }

  /** Expected dtype per tensor for each target (the documented rules). */
  private static DType expected(String name, DType target) {
    return switch (name) {
      case "model.layers.0.mlp.fc1.weight", "model.layers.0.mlp.fc2.weight", "model.layers.0.self_attn.q_proj.weight" -> target;
      case "lm_head.weight", "conv.weight" -> target.isQuantized() ? DType.F32 : target;
      case "position_ids" -> DType.I64;
      default -> DType.F32; // biases, norms, small embeddings
    };
  }

  @Test
  void roundTripEveryTarget() throws Exception {
    Map<String, Tensor> ck = checkpoint();
    for (DType target : List.of(DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0)) {
      Path out = dir.resolve("m-" + target + ".fovea");
      Converter.Summary s = Converter.convert(WeightSource.of(ck), sideFiles(), Map.of("k", "v"), out, Converter.Options.of(target).withReportError(true), Converter.Progress.NONE);
      assertEquals(ck.size(), s.tensors());
      assertEquals(Files.size(out), s.fileBytes());
      try (ArchiveReader r = ArchiveReader.open(out)) {
        assertEquals(List.copyOf(ck.keySet()), List.copyOf(r.names()));
        for (Converter.TensorReport rep : s.reports()) {
          String name = rep.name();
          Tensor src = ck.get(name);
          Tensor got = r.get(name);
          DType want = expected(name, target);
          assertEquals(want, got.dtype(), target + " " + name);
          assertEquals(src.dtype().name(), r.entry(name).sourceDtype());
          assertArrayEquals(src.shape(), got.shape());
          if (want == DType.I64) {
            assertArrayEquals(src.toLongArray(), got.toLongArray(), name);
            continue;
          }
          float[] x = src.toFloatArray();
          float[] y = got.toFloatArray();
          double maxErr = 0;
          for (int i = 0; i < x.length; i++) {
            switch (want) {
              // F32 holds F32, F16 and BF16 inputs exactly.
              case F32 -> assertEquals(x[i], y[i], 0f, name + "[" + i + "]");
              // F16/BF16: exactly the round-to-nearest-even value of the input.
              case F16 -> assertEquals(Float.float16ToFloat(Float.floatToFloat16(x[i])), y[i], 0f, name + "[" + i + "]");
              case BF16 -> assertEquals(Elements.bf16ToFloat(Elements.floatToBf16(x[i])), y[i], 0f, name + "[" + i + "]");
              default -> {}
            }
            maxErr = Math.max(maxErr, Math.abs((double) y[i] - x[i]));
          }
          if (want.isQuantized()) {
            assertWithinBlockBounds(name, want, x, y);
            // Same bytes as the engine's own quantization.
            assertArrayEquals(Ops.to(src, want).toFloatArray(), y, 0f, name);
          }
          assertEquals(maxErr, rep.maxAbsError(), 1e-12, "reported error of " + name);
          if (want == DType.F16) {
            assertTrue(rep.maxRelError() <= 0x1p-11, name + " rel " + rep.maxRelError());
          }
          if (want == DType.BF16) {
            assertTrue(rep.maxRelError() <= 0x1p-8, name + " rel " + rep.maxRelError());
          }
        }
        assertEquals(Set.of("config.json", "tokenizer.json", "preprocessor_config.json"), r.fileNames());
        assertArrayEquals(sideFiles().get("tokenizer.json"), r.file("tokenizer.json"));
        assertEquals("v", r.metadata().get("k"));
        assertEquals(target.name().toLowerCase(), r.metadata().get("fovea.dtype"));
      }
      int total = s.dtypeCounts().values().stream().mapToInt(Integer::intValue).sum();
      assertEquals(ck.size(), total);
    }
  }

  /**
   * The documented per-element bounds (see {@link Converter}): with m = max|block|, d the float
   * scale and d16 its stored f16 value, Q8_0: |err| <= d/2 + 127|d16 - d|; Q4_0: |err| <= |d| +
   * 8|d16 - d| (|d| only for the clamped extreme, else |d|/2). A 1e-6 relative slack covers the
   * float arithmetic of x * (1/d).
   */
  static void assertWithinBlockBounds(String name, DType dtype, float[] x, float[] y) {
    for (int b = 0; b < x.length / 32; b++) {
      float amax = 0;
      float max = 0;
      for (int i = 0; i < 32; i++) {
        float v = x[b * 32 + i];
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          max = v;
        }
      }
      double d = dtype == DType.Q8_0 ? amax / 127f : max / -8f;
      double d16 = Float.float16ToFloat(Float.floatToFloat16((float) d));
      double bound = dtype == DType.Q8_0 ? Math.abs(d) / 2 + 127 * Math.abs(d16 - d) : Math.abs(d) + 8 * Math.abs(d16 - d);
      double loose = dtype == DType.Q8_0 ? amax * (1 / 254.0 + 1 / 2048.0) : amax / 8.0 * (1 + 0x1p-8);
      assertTrue(bound <= loose * (1 + 1e-6) + 1e-30, "bound vs closed form");
      for (int i = 0; i < 32; i++) {
        double err = Math.abs((double) y[b * 32 + i] - x[b * 32 + i]);
        assertTrue(err <= bound * (1 + 1e-6) + 1e-30, name + " block " + b + " element " + i + ": |err| " + err + " > bound " + bound + " (x = " + x[b * 32 + i] + ", m = " + amax + ")");
        if (dtype == DType.Q4_0 && x[b * 32 + i] / d < 7.5 - 1e-4) {
          // Away from the clamped extreme Q4_0 rounds to nearest: half a step.
          assertTrue(err <= Math.abs(d) / 2 + 8 * Math.abs(d16 - d) + Math.abs(d) * 1e-5, name + " Q4_0 half-step bound, element " + (b * 32 + i));
        }
      }
    }
  }

  @Test
  void blockBoundsHoldForRandomBlocksOfAnyScale() {
    for (DType dt : List.of(DType.Q8_0, DType.Q4_0)) {
      qt().withExamples(EXAMPLES)
          .forAll(lists().of(floats().between(-1f, 1f)).ofSize(64), floats().between(-12f, 12f))
          .checkAssert((vals, logScale) -> {
            float scale = (float) Math.pow(10, logScale / 2);
            float[] x = new float[64];
            for (int i = 0; i < 64; i++) {
              x[i] = vals.get(i) * scale;
            }
            Tensor q = Converter.convertTensor(Tensor.of(x, 2, 32), dt);
            float[] y = q.toFloatArray();
            // The bounds assume a normal f16 scale: |d| >= 2^-14 (m >~ 2e-3) and |d| <= 65504
            // (Q4_0: m < 8 * 65520 ~ 5.2e5, beyond which the f16 scale overflows to infinity, as in ggml).
            if (scale > 1e-2f && scale < 1e5f) {
              assertWithinBlockBounds(dt + " scale " + scale, dt, x, y);
            }
          });
    }
  }

  @Test
  void quantizeEmbeddingsFlagQuantizesSmallEmbeddingsToo() throws Exception {
    Path out = dir.resolve("e.fovea");
    Converter.convert(WeightSource.of(checkpoint()), Map.of(), Map.of(), out, Converter.Options.of(DType.Q8_0).withQuantizeEmbeddings(true), Converter.Progress.NONE);
    try (ArchiveReader r = ArchiveReader.open(out)) {
      assertEquals(DType.Q8_0, r.info("model.embed_tokens.weight").dtype());
      assertEquals(DType.F32, r.info("vision_model.embeddings.patch_embedding.weight").dtype(), "4-D: not a matrix");
      assertEquals(DType.F32, r.info("model.layers.0.input_layernorm.weight").dtype());
    }
  }

  @Test
  void archiveToArchiveRequantization() throws Exception {
    Map<String, Tensor> ck = checkpoint();
    Path f32 = dir.resolve("f32.fovea");
    Converter.convert(WeightSource.of(ck), sideFiles(), Map.of("general.name", "tiny"), f32, Converter.Options.of(DType.F32), Converter.Progress.NONE);
    Path q8 = dir.resolve("q8.fovea");
    int[] calls = {0};
    Converter.Summary s;
    try (ModelInput in = Inputs.open(f32)) {
      assertEquals(Inputs.ARCHIVE, in.format());
      s = Converter.convert(in, q8, Converter.Options.of(DType.Q8_0), (done, total, name, b, bt) -> {
        calls[0]++;
        assertTrue(done <= total && b <= bt);
      });
    }
    assertEquals(ck.size(), calls[0], "one progress call per tensor");
    assertTrue(s.bytesOut() < s.bytesIn());
    try (ArchiveReader r = ArchiveReader.open(q8)) {
      assertEquals(sideFiles().keySet(), r.fileNames(), "side files travel with the archive");
      assertEquals("tiny", r.metadata().get("general.name"), "source metadata travels");
      assertEquals("f32.fovea", r.metadata().get("fovea.source"));
      Tensor w = ck.get("model.layers.0.mlp.fc2.weight");
      assertArrayEquals(Ops.to(w, DType.Q8_0).toFloatArray(), r.get("model.layers.0.mlp.fc2.weight").toFloatArray(), 0f);
    }
    // Re-quantizing Q8_0 -> Q4_0 -> F32 works from a quantized source as well.
    Path back = dir.resolve("back.fovea");
    try (ModelInput in = Inputs.open(q8)) {
      Converter.convert(in, back, Converter.Options.of(DType.F32), Converter.Progress.NONE);
    }
    try (ArchiveReader r = ArchiveReader.open(back); ArchiveReader q = ArchiveReader.open(q8)) {
      assertEquals(DType.F32, r.info("model.layers.0.mlp.fc1.weight").dtype());
      assertArrayEquals(q.get("model.layers.0.mlp.fc1.weight").toFloatArray(), r.get("model.layers.0.mlp.fc1.weight").toFloatArray(), 0f);
    }
  }

  @Test
  void failingSourceLeavesNothingBehind() throws Exception {
    Map<String, Tensor> ck = checkpoint();
    WeightSource inner = WeightSource.of(ck);
    WeightSource failing = new WeightSource() {
      @Override
      public Set<String> names() {
        return inner.names();
      }

      @Override
      public TensorInfo info(String name) {
        return inner.info(name);
      }

      @Override
      public Tensor get(String name) {
        if (name.equals("model.layers.0.input_layernorm.weight")) {
          throw new TensorException("read error in the middle of " + name);
        }
        return inner.get(name);
      }

      @Override
      public String origin() {
        return "failing";
      }
    };
    Path out = dir.resolve("x.fovea");
    TensorException e = assertThrows(TensorException.class, () -> Converter.convert(failing, sideFiles(), Map.of(), out, Converter.Options.of(DType.Q4_0), Converter.Progress.NONE));
    assertTrue(e.getMessage().contains("read error"));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(), s.toList());
    }
  }

  @Test
  void inputsDetectFormatsAndNameWhatIsMissing() throws Exception {
    // safetensors written by the reader module's writer: detected, opened, converted, equal.
    Path st = dir.resolve("model.safetensors");
    java.util.List<dev.fovea.tensor.io.SafetensorsWriter.Item> items = new java.util.ArrayList<>();
    checkpoint().forEach((name, t) -> items.add(new dev.fovea.tensor.io.SafetensorsWriter.Item(name, t)));
    dev.fovea.tensor.io.SafetensorsWriter.write(st, items, Map.of());
    try (ModelInput in = Inputs.open(st)) {
      assertEquals(Inputs.SAFETENSORS, in.format());
      assertEquals(checkpoint().keySet(), in.weights().names());
      Path out = dir.resolve("from-safetensors.fovea");
      Converter.convert(in, out, Converter.Options.of(DType.F32), Converter.Progress.NONE);
      try (var archive = dev.fovea.tensor.archive.ArchiveReader.open(out)) {
        for (var entry : checkpoint().entrySet()) {
          org.junit.jupiter.api.Assertions.assertArrayEquals(entry.getValue().toFloatArray(), archive.get(entry.getKey()).toFloatArray(), entry.getKey());
        }
      }
    }
    ConvertException e;
    Path gguf = dir.resolve("m.gguf");
    Files.write(gguf, "GGUF\3\0\0\0".getBytes(StandardCharsets.US_ASCII));
    assertEquals(Inputs.GGUF, new Inputs(Inputs.STANDARD).detect(gguf));
    Path junk = dir.resolve("junk.bin");
    Files.write(junk, new byte[] {1, 2, 3});
    e = assertThrows(ConvertException.class, () -> Inputs.open(junk));
    assertTrue(e.getMessage().startsWith(junk + ": unrecognised weights format (first bytes 010203)"), e.getMessage());
    e = assertThrows(ConvertException.class, () -> Inputs.open(dir.resolve("missing")));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    // A folder with one archive opens it; a pluggable format is tried first.
    Path sub = Files.createDirectories(dir.resolve("model"));
    Converter.convert(WeightSource.of(checkpoint()), Map.of(), Map.of(), sub.resolve("m.fovea"), Converter.Options.of(DType.F16), Converter.Progress.NONE);
    try (ModelInput in = Inputs.open(sub)) {
      assertEquals(checkpoint().keySet(), in.weights().names());
    }
    Format fake = new Format("test tensors", p -> p.nameEndsWith(".safetensors"), p -> WeightSource.of(checkpoint()));
    try (ModelInput in = Inputs.with(fake).openInput(st)) {
      assertEquals(fake, in.format());
      assertFalse(in.files().containsKey("config.json"));
    }
  }

  @Test
  void sideFilesAreCollectedFromTheModelFolder() throws Exception {
    Files.writeString(dir.resolve("config.json"), "{}");
    Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n");
    Files.writeString(dir.resolve("notes.md"), "not a side file");
    assertEquals(Set.of("config.json", "vocab.txt"), SideFiles.collect(dir).keySet());
    assertEquals(DType.Q4_0, Converter.parseDType("Q4_0"));
    assertThrows(ConvertException.class, () -> Converter.parseDType("q5_k"));
  }
}
