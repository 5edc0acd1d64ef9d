package dev.fovea.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fovea.tensor.DType;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.SafetensorsWriter;
import dev.fovea.tensor.io.TorchBinSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HF-style model folder (config, tokenizer and preprocessor files, two safetensors shards with
 * their index) through {@code ./fovea convert --dtype X} and back; and a PyTorch .bin folder.
 */
class FolderRoundTripTest {
  @TempDir Path dir;

  static final Map<String, String> SIDE = new LinkedHashMap<>();

  static {
    SIDE.put("config.json", "{\"model_type\": \"clip\", \"hidden_size\": 64}\n");
    SIDE.put("preprocessor_config.json", "{\"crop_size\": 224, \"image_mean\": [0.5, 0.5, 0.5]}\n");
    SIDE.put("tokenizer_config.json", "{\"model_max_length\": 77}\n");
    SIDE.put("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a</w>\": 0, \"b</w>\": 1}, \"merges\": [\"a b\"]}}\n");
    SIDE.put("vocab.json", "{\"a</w>\": 0, \"b</w>\": 1, \"\u00e9</w>\": 2}\n");
    SIDE.put("merges.txt", "#version: 0.2\na b\n");
  }

  /** Tensors with HF names; F32, F16 and BF16 sources; two shards. */
  static Map<String, Tensor> tensors() {
    Random rng = new Random(21);
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("vision_model.embeddings.class_embedding", Tensor.randn(rng, 64));
    m.put("vision_model.embeddings.patch_embedding.weight", Tensor.randn(rng, 64, 3, 4, 4));
    m.put("vision_model.encoder.layers.0.self_attn.q_proj.weight", Tensor.randn(rng, 64, 64));
    m.put("vision_model.encoder.layers.0.self_attn.q_proj.bias", Tensor.randn(rng, 64));
    m.put("vision_model.encoder.layers.0.mlp.fc1.weight", Ops.to(Tensor.randn(rng, 128, 64), DType.F16));
    m.put("vision_model.encoder.layers.0.mlp.fc2.weight", Ops.to(Tensor.randn(rng, 64, 128), DType.BF16));
    float[] big = Tensor.randn(rng, 96, 64).toFloatArray();
    big[3] = 50f; // an outlier block
    m.put("text_model.encoder.layers.0.self_attn.k_proj.weight", Tensor.of(big, 96, 64));
    m.put("text_model.final_layer_norm.weight", Tensor.randn(rng, 64));
    m.put("text_projection.weight", Tensor.randn(rng, 48, 64));
    m.put("logit_scale", Tensor.of(new float[] {4.6052f}));
    return m;
  }

  static void writeFolder(Path folder, Map<String, Tensor> t) throws Exception {
    Files.createDirectories(folder);
    for (var e : SIDE.entrySet()) {
      Files.writeString(folder.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
    }
    List<SafetensorsWriter.Item> a = new ArrayList<>();
    List<SafetensorsWriter.Item> b = new ArrayList<>();
    StringBuilder map = new StringBuilder();
    int i = 0;
    for (var e : t.entrySet()) {
      boolean first = i++ < t.size() / 2;
      (first ? a : b).add(new SafetensorsWriter.Item(e.getKey(), e.getValue()));
      map.append(map.isEmpty() ? "" : ", ").append('"').append(e.getKey()).append("\": \"model-0000").append(first ? 1 : 2).append("-of-00002.safetensors\"");
    }
    SafetensorsWriter.write(folder.resolve("model-00001-of-00002.safetensors"), a, Map.of("format", "pt"));
    SafetensorsWriter.write(folder.resolve("model-00002-of-00002.safetensors"), b, Map.of("format", "pt"));
    Files.writeString(folder.resolve("model.safetensors.index.json"), "{\"metadata\": {\"total_size\": 1234}, \"weight_map\": {" + map + "}}");
  }

  @Test
  void shardedSafetensorsFolderThroughEveryDtype() throws Exception {
    Path folder = dir.resolve("model");
    Map<String, Tensor> src = tensors();
    writeFolder(folder, src);
    for (String dtype : new String[] {"f32", "f16", "bf16", "q8_0", "q4_0"}) {
      Path out = dir.resolve("x-" + dtype + ".fovea");
      InspectFormatsTest.Run r = InspectFormatsTest.run("convert", folder.toString(), "-o", out.toString(), "--dtype", dtype, "--no-progress");
      assertEquals(0, r.code(), r.err());
      try (ArchiveReader ar = ArchiveReader.open(out)) {
        assertEquals(src.keySet(), ar.names(), dtype);
        assertEquals(SIDE.keySet(), ar.fileNames(), dtype);
        for (var e : SIDE.entrySet()) {
          assertArrayEquals(e.getValue().getBytes(StandardCharsets.UTF_8), ar.file(e.getKey()), dtype + " " + e.getKey() + " byte-identical");
        }
        for (var e : src.entrySet()) {
          String n = e.getKey();
          Tensor got = ar.get(n);
          assertArrayEquals(e.getValue().shape(), got.shape(), n);
          check(dtype + " " + n, got.dtype(), e.getValue().toFloatArray(), got.toFloatArray(), e.getValue().shape());
        }
        DType target = dev.fovea.convert.Converter.parseDType(dtype);
        assertEquals(target, ar.info("vision_model.encoder.layers.0.self_attn.q_proj.weight").dtype(), dtype);
        assertEquals(DType.F32, ar.info("vision_model.encoder.layers.0.self_attn.q_proj.bias").dtype(), dtype);
      }
    }
  }

  /** F32 exact; F16/BF16 equal to the input rounded to that type; Q8_0/Q4_0 within the documented block bound. */
  static void check(String what, DType stored, float[] x, float[] y, int[] shape) {
    switch (stored) {
      case F32 -> assertArrayEquals(x, y, what);
      case F16, BF16 -> assertArrayEquals(Ops.to(Tensor.of(x, x.length), stored).toFloatArray(), y, what);
      case Q8_0, Q4_0 -> {
        for (int b = 0; b < x.length; b += 32) {
          double m = 0;
          for (int k = b; k < b + 32; k++) {
            m = Math.max(m, Math.abs(x[k]));
          }
          double bound = stored == DType.Q8_0 ? m * (1.0 / 254 + 1.0 / 2048) : m / 8 * (1 + 1.0 / 256);
          for (int k = b; k < b + 32; k++) {
            assertTrue(Math.abs(y[k] - x[k]) <= bound * (1 + 1e-6) + 1e-12, what + " element " + k + ": " + y[k] + " vs " + x[k] + " bound " + bound);
          }
        }
      }
      default -> throw new AssertionError(what + ": unexpected " + stored);
    }
  }

  @Test
  void pytorchBinFolder() throws Exception {
    Path folder = dir.resolve("torch");
    Files.createDirectories(folder);
    Files.copy(InspectFormatsTest.fixture("basic.bin"), folder.resolve("pytorch_model.bin"));
    Files.writeString(folder.resolve("config.json"), SIDE.get("config.json"));
    Path out = dir.resolve("torch.fovea");
    InspectFormatsTest.Run r = InspectFormatsTest.run("convert", folder.toString(), "-o", out.toString(), "--dtype", "f32", "--no-progress");
    assertEquals(0, r.code(), r.err());
    try (WeightSource bin = TorchBinSource.open(folder.resolve("pytorch_model.bin"));
        ArchiveReader ar = ArchiveReader.open(out)) {
      assertEquals(bin.names(), ar.names());
      for (String n : bin.names()) {
        Tensor want = bin.get(n);
        Tensor got = ar.get(n);
        assertArrayEquals(want.shape(), got.shape(), n);
        if (want.dtype().isFloatingPoint()) {
          assertArrayEquals(want.toFloatArray(), got.toFloatArray(), n);
        } else {
          assertEquals(want.dtype(), got.dtype(), n);
        }
      }
      assertArrayEquals(SIDE.get("config.json").getBytes(StandardCharsets.UTF_8), ar.file("config.json"));
      assertTrue(ar.metadata().get("fovea.source_format").toString().contains("PyTorch"));
    }
  }
}
