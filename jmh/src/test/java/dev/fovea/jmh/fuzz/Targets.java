package dev.fovea.jmh.fuzz;

import static dev.fovea.jmh.fuzz.Target.bytes;
import static dev.fovea.jmh.fuzz.Target.fields;
import static dev.fovea.jmh.fuzz.Target.jsonOrBytes;

import dev.fovea.jmh.fuzz.Target.Input;
import dev.fovea.llm.llama.LlamaConfig;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.archive.ArchiveSample;
import dev.fovea.tensor.io.GgmlType;
import dev.fovea.tensor.io.GgufLlamaNames;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.GgufWriter;
import dev.fovea.tensor.io.HostileJson;
import dev.fovea.tensor.io.Mutations;
import dev.fovea.tensor.io.SafetensorsSource;
import dev.fovea.tensor.io.TorchBinSource;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.clip.ClipCheckpoint;
import dev.fovea.vit.clip.ClipModel;
import dev.fovea.vit.clip.ClipVisionModel;
import dev.fovea.vit.image.ImageProcessor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The parsers of the campaign, in the order they run: weight files, model configs, tokenizer files
 * ({@link TokenizerTargets}), images ({@link ImageTargets}) and evaluation data ({@link DataTargets}).
 * Each is given inputs made from the repository's own fixtures.
 */
final class Targets {
  private Targets() {}

  static final String FORMATS = "tensor/src/test/resources/formats/";
  static final String LLAMA = "llm/src/test/resources/llama-reference/";
  static final String LLAVA = "llm/src/test/resources/llava-reference/";
  static final String CLIP = "vit/src/test/resources/clip-reference/";

  /** Every parser; {@code scratch} is a folder for seeds that are written rather than read. */
  static List<Target> all(Seeds s, Path scratch) throws IOException {
    return List.of(
        safetensors(s),
        shardedIndex(s),
        gguf(s),
        binZip(s),
        binPickle(s),
        archive(scratch),
        llamaConfig(s),
        llamaGgufConfig(s, scratch),
        llavaConfig(s),
        llavaOriginalConfig(s),
        clipConfig(s),
        clipVisionConfig(s),
        preprocessorConfig(s),
        TokenizerTargets.tokenizerJson(s),
        TokenizerTargets.tokenizerModel(s),
        TokenizerTargets.clipVocabMerges(s),
        TokenizerTargets.vocabTxt(),
        TokenizerTargets.llama2cBin(s),
        TokenizerTargets.ggufJson(s),
        TokenizerTargets.gguf(s, scratch),
        TokenizerTargets.addedTokens(s),
        ImageTargets.png(s),
        ImageTargets.jpeg(s),
        DataTargets.vqaJsonl(s),
        DataTargets.popeJsonl(s),
        DataTargets.textVqa(),
        DataTargets.resultsJournal(scratch));
  }

  // ---------------------------------------------------------------- weight files

  static Target safetensors(Seeds s) {
    byte[] orig = s.read(FORMATS + "basic.safetensors");
    int n = (int) ByteBuffer.wrap(orig).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String header = new String(orig, 8, n, StandardCharsets.UTF_8);
    byte[] data = Arrays.copyOfRange(orig, 8 + n, orig.length);
    byte[] donor = s.read(FORMATS + "sharded/model-00001-of-00003.safetensors");
    String f = "model.safetensors";
    return new Target("safetensors", Map.of(), r -> switch (r.nextInt(10)) {
      case 0, 1, 2, 3 -> bytes(r, f, orig, 8 + n, donor);
      case 4, 5 -> {
        int k = 5 + r.nextInt(2);
        yield Input.of(f, Mutations.structuredSafetensors(k, r.nextLong(), header, data), "structured " + k);
      }
      default -> {
        byte[] h = HostileJson.mutate(header.getBytes(StandardCharsets.UTF_8), r.nextLong());
        byte[] d = r.nextInt(4) == 0 ? Arrays.copyOf(data, r.nextInt(2 * data.length + 1)) : data;
        yield Input.of(f, Mutations.reframeSafetensors(h, d), "header json");
      }
    }, dir -> {
      try (var src = SafetensorsSource.open(dir.resolve(f))) {
        Mutations.readAll(src);
      }
    });
  }

  static Target shardedIndex(Seeds s) {
    Map<String, Path> shards = new LinkedHashMap<>();
    for (int i = 1; i <= 3; i++) {
      String name = "model-0000" + i + "-of-00003.safetensors";
      shards.put(name, s.path(FORMATS + "sharded/" + name));
    }
    String f = "model.safetensors.index.json";
    byte[] orig = s.read(FORMATS + "sharded/" + f);
    return new Target("safetensors-index", shards, r -> jsonOrBytes(r, f, orig), dir -> {
      try (var src = WeightFiles.open(dir.resolve(f))) {
        Mutations.readAll(src);
      }
    });
  }

  static Target gguf(Seeds s) {
    byte[] orig = s.read(FORMATS + "tiny.gguf");
    byte[] donor = s.read(FORMATS + "v2.gguf");
    int dataStart;
    try (var src = GgufSource.open(s.path(FORMATS + "tiny.gguf"))) {
      dataStart = (int) src.dataStart();
    }
    List<Mutations.Field> fs = Mutations.ggufFields(orig);
    String f = "model.gguf";
    return new Target("gguf", Map.of(), r -> switch (r.nextInt(10)) {
      case 0, 1, 2, 3 -> bytes(r, f, orig, dataStart, donor);
      case 4 -> Input.of(f, Mutations.structuredGguf(r.nextLong(), orig), "structured");
      default -> fields(r, f, orig, fs);
    }, dir -> {
      try (var src = GgufSource.open(dir.resolve(f))) {
        Mutations.readAll(src);
        src.convertedTensors();
      }
    });
  }

  static Target binZip(Seeds s) {
    byte[] orig = s.read(FORMATS + "basic.bin");
    byte[] donor = s.read(FORMATS + "module_state.bin");
    List<Mutations.Field> fs = Mutations.zipFields(orig);
    String f = "pytorch_model.bin";
    return new Target("bin-zip", Map.of(), r -> r.nextBoolean() ? bytes(r, f, orig, orig.length, donor) : fields(r, f, orig, fs), dir -> {
      try (var src = TorchBinSource.open(dir.resolve(f))) {
        Mutations.readAll(src);
      }
    });
  }

  static Target binPickle(Seeds s) {
    List<Path> bins = List.of(s.path(FORMATS + "basic.bin"), s.path(FORMATS + "module_state.bin"));
    List<byte[]> pickles = bins.stream().map(Mutations::pickleOf).toList();
    List<List<Mutations.Field>> fs = pickles.stream().map(Mutations::pickleFields).toList();
    String[] globals = {"os\nsystem", "builtins\neval", "subprocess\nPopen", "__builtin__\nexec", "torch\nload", "numpy.core.multiarray\n_reconstruct",
      "torch\nQInt8Storage", "torch._utils\n_rebuild_qtensor", "collections\nOrderedDic"};
    String f = "pytorch_model.bin";
    return new Target("bin-pickle", Map.of(), r -> {
      int k = r.nextInt(bins.size());
      byte[] pkl = pickles.get(k);
      long seed = r.nextLong();
      int m = r.nextInt(10);
      String how;
      java.util.function.Function<byte[], byte[]> edit;
      switch (m) {
        case 0, 1 -> {
          how = "pickle damage";
          edit = p -> Mutations.mutatePickle(seed, p);
        }
        case 2, 3, 4 -> {
          how = "pickle program";
          edit = p -> Mutations.picklePrograms(seed, p);
        }
        case 5, 6 -> {
          Input in = fields(new Random(seed), "data.pkl", pkl, fs.get(k));
          how = "pickle " + in.how();
          edit = p -> in.files().get("data.pkl");
        }
        case 7, 8 -> {
          int g = r.nextInt(Mutations.GENERIC);
          how = "pickle generic " + g;
          edit = p -> Mutations.generic(g, seed, p, p.length, pickles.get(1 - k));
        }
        default -> {
          String g = globals[r.nextInt(globals.length)];
          how = "global " + g.replace('\n', '.');
          edit = p -> Mutations.replace(p, r.nextBoolean() ? "collections\nOrderedDict" : "torch\nFloatStorage", g);
        }
      }
      return Input.of(f, Mutations.rezip(bins.get(k), edit::apply), how);
    }, dir -> {
      try (var src = TorchBinSource.open(dir.resolve(f))) {
        Mutations.readAll(src);
      }
    });
  }

  static Target archive(Path scratch) throws IOException {
    Path sample = scratch.resolve("sample.fovea");
    ArchiveSample.write(sample);
    byte[] orig = java.nio.file.Files.readAllBytes(sample);
    int dataStart;
    try (ArchiveReader a = ArchiveReader.open(sample)) {
      dataStart = (int) a.dataStart();
    }
    // the preamble's header length, then every aligned word of the FlatBuffers header: offsets, vtable entries, lengths, shapes
    List<Mutations.Field> fs = new ArrayList<>();
    fs.add(new Mutations.Field(8, 8, false, "header length"));
    for (int p = 16; p + 4 <= dataStart; p += 4) {
      fs.add(new Mutations.Field(p, 4, false, "header word"));
      if (p + 8 <= dataStart) {
        fs.add(new Mutations.Field(p, 8, false, "header long"));
      }
    }
    String f = "model.fovea";
    return new Target("fovea-archive", Map.of(), r -> r.nextInt(5) < 2 ? bytes(r, f, orig, dataStart, orig) : fields(r, f, orig, fs), dir -> {
      try (ArchiveReader a = ArchiveReader.open(dir.resolve(f))) {
        Mutations.readAll(a);
        a.files().forEach((k, v) -> k.length());
      }
    });
  }

  // ---------------------------------------------------------------- model configs, loaded with the weights they describe

  static Target llamaConfig(Seeds s) {
    byte[] orig = s.read(LLAMA + "tiny/config.json");
    byte[] donor = s.read(LLAMA + "tied-llama3/config.json");
    return new Target("config-llama", Map.of("model.safetensors", s.path(LLAMA + "tiny/model.safetensors")),
        r -> r.nextInt(4) == 0 ? bytes(r, "config.json", orig, orig.length, donor) : Target.json(r, "config.json", orig),
        dir -> LlamaForCausalLM.load(dir).close());
  }

  /**
   * A llama GGUF's {@code llama.*} metadata, the config of a GGUF model ({@link
   * dev.fovea.llm.llama.LlamaConfig#fromGguf}): the tiny checkpoint written as GGUF (q/k rows in
   * llama.cpp's order), its header fields set to hostile values (metadata values three times in
   * four), then loaded.
   */
  static Target llamaGgufConfig(Seeds s, Path scratch) {
    Path gguf = scratch.resolve("tiny-llama.gguf");
    LlamaConfig c = LlamaConfig.fromJson(s.path(LLAMA + "tiny/config.json"));
    GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putUInt32("llama.context_length", c.maxPositionEmbeddings())
        .putUInt32("llama.embedding_length", c.hiddenSize()).putUInt32("llama.block_count", c.numHiddenLayers())
        .putUInt32("llama.feed_forward_length", c.intermediateSize()).putUInt32("llama.rope.dimension_count", c.headDim())
        .putUInt32("llama.attention.head_count", c.numAttentionHeads()).putUInt32("llama.attention.head_count_kv", c.numKeyValueHeads())
        .putFloat32("llama.attention.layer_norm_rms_epsilon", c.rmsNormEps()).putFloat32("llama.rope.freq_base", (float) c.ropeTheta())
        .putUInt32("tokenizer.ggml.bos_token_id", 1).putUInt32("tokenizer.ggml.eos_token_id", 2);
    try (var src = WeightFiles.open(s.path(LLAMA + "tiny/model.safetensors")); var scope = Scope.open()) {
      for (String n : src.names()) {
        w.addTensor(GgufLlamaNames.toGguf(n), GgufLlamaNames.ggufRows(n, src.get(n), c.numAttentionHeads(), c.numKeyValueHeads()), GgmlType.F32);
      }
      w.write(gguf);
    }
    byte[] orig;
    try {
      orig = java.nio.file.Files.readAllBytes(gguf);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    List<Mutations.Field> all = Mutations.ggufFields(orig);
    List<Mutations.Field> values = all.stream().filter(x -> x.name().endsWith(" value")).toList();
    String f = "model.gguf";
    return new Target("config-llama-gguf", Map.of(), r -> fields(r, f, orig, r.nextInt(4) == 0 ? all : values),
        dir -> LlamaForCausalLM.load(dir.resolve(f)).close());
  }

  static Target llavaConfig(Seeds s) {
    byte[] orig = s.read(LLAVA + "tiny/config.json");
    return new Target("config-llava", Map.of("model.safetensors", s.path(LLAVA + "tiny/model.safetensors")), r -> jsonOrBytes(r, "config.json", orig),
        dir -> LlavaForConditionalGeneration.load(dir).close());
  }

  static Target llavaOriginalConfig(Seeds s) {
    String d = LLAVA + "tiny-original/";
    Map<String, Path> side = new LinkedHashMap<>();
    for (String n : List.of("pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin", "pytorch_model.bin.index.json")) {
      side.put(n, s.path(d + n));
    }
    for (String n : List.of("config.json", "model.safetensors", "preprocessor_config.json")) {
      side.put("tower/" + n, s.path(LLAVA + "tiny-original-clip/" + n));
    }
    byte[] orig = s.read(d + "config.json");
    byte[] tower = s.read(LLAVA + "tiny-original-clip/config.json");
    return new Target("config-llava-original", side,
        r -> r.nextInt(5) == 0 ? jsonOrBytes(r, "tower/config.json", tower) : jsonOrBytes(r, "config.json", orig),
        dir -> LlavaForConditionalGeneration.load(dir, dir.resolve("tower")).close());
  }

  static Target clipConfig(Seeds s) {
    byte[] orig = s.read(CLIP + "tiny-p32/config.json");
    return new Target("config-clip", Map.of("model.safetensors", s.path(CLIP + "tiny-p32/model.safetensors")), r -> jsonOrBytes(r, "config.json", orig),
        dir -> ClipModel.open(dir).close());
  }

  static Target clipVisionConfig(Seeds s) {
    byte[] orig = s.read(CLIP + "tiny-vision/config.json");
    return new Target("config-clip-vision", Map.of("model.safetensors", s.path(CLIP + "tiny-vision/model.safetensors")),
        r -> jsonOrBytes(r, "config.json", orig), dir -> {
          try (ClipCheckpoint c = ClipCheckpoint.open(dir)) {
            ClipVisionModel.load(c);
          }
        });
  }

  static Target preprocessorConfig(Seeds s) {
    List<byte[]> seeds = List.of(s.read(LLAVA + "tiny/preprocessor_config.json"), s.read(CLIP + "tiny-p32/preprocessor_config.json"),
        s.read(LLAVA + "tiny-original-clip/preprocessor_config.json"));
    String f = "preprocessor_config.json";
    return new Target("preprocessor-config", Map.of(), r -> jsonOrBytes(r, f, seeds.get(r.nextInt(seeds.size()))),
        dir -> ImageProcessor.fromConfig(dir.resolve(f)));
  }
}
