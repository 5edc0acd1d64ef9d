package dev.fovea.jmh;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fovea.llm.instructblip.InstructBlipConfig;
import dev.fovea.llm.instructblip.InstructBlipForConditionalGeneration;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.DType;
import dev.fovea.tensor.Shapes;
import dev.fovea.tensor.io.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A Hugging Face InstructBLIP folder with random BF16 weights, in the layout of
 * Salesforce/instructblip-vicuna-7b: {@code config.json}, the weights in safetensors shards of at
 * most {@code shardBytes} with {@code model.safetensors.index.json}, the LLaMA SentencePiece model
 * ({@code tokenizer.model}), the Q-Former's bert-base-uncased vocabulary ({@code
 * qformer_tokenizer/vocab.txt}) and the BlipImageProcessor's {@code preprocessor_config.json}. The
 * two vocabularies come from {@code ../shared/data/tokenizers}.
 *
 * <p>The values are random bits, not samples of a distribution: each BF16 value is a random sign and
 * 7 random mantissa bits under one exponent per parameter, picked from its {@link Parameter.Init}
 * so the forward stays finite at full depth (FAN_IN: |w| in [a, 2a) with a the power of two at or
 * below 0.65/sqrt(fan_in), which gives a variance near 1/fan_in; NEAR_ONE: [1, 1.12); SMALL: |b| in
 * [1/16, 1/8); NORMAL: |e| in [1/2, 1)). Four values come from one {@link SplittableRandom} long, so
 * the 16 GB of the 7B model are generated faster than they are written, 1 MiB at a time ({@link
 * SafetensorsWriter#writeGenerated}); nothing of the size of a tensor is held in memory.
 *
 * <p>{@code java -cp 'jmh/target/fovea-jmh-*.jar:jmh/target/lib/*' dev.fovea.jmh.InstructBlipFolder OUT [SHARD_GB]}
 * writes the full-size folder ({@link #vicuna7bConfig}) into OUT (bench/instructblip-memory.sh).
 */
public final class InstructBlipFolder {
  private InstructBlipFolder() {}

  /**
   * config.json of Salesforce/instructblip-vicuna-7b (spec models-formats.md 4.1): EVA ViT-g/14 at
   * 224 with 39 blocks (the last of the 40 dropped), the 12-layer Q-Former with cross-attention
   * every 2nd layer and 32 queries over BERT's 30,523 ids, Vicuna-7B with the added {@code [PAD]}
   * (vocabulary 32,001).
   */
  public static String vicuna7bConfig() {
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = json.createObjectNode();
    c.putArray("architectures").add("InstructBlipForConditionalGeneration");
    c.put("model_type", "instructblip");
    c.put("torch_dtype", "bfloat16");
    c.put("num_query_tokens", 32);
    c.put("use_decoder_only_language_model", true);
    c.put("initializer_factor", 1.0);
    c.put("initializer_range", 0.02);
    ObjectNode v = c.putObject("vision_config");
    v.put("model_type", "instructblip_vision_model");
    v.put("hidden_size", 1408);
    v.put("intermediate_size", 6144);
    v.put("num_hidden_layers", 39);
    v.put("num_attention_heads", 16);
    v.put("image_size", 224);
    v.put("patch_size", 14);
    v.put("hidden_act", "gelu");
    v.put("layer_norm_eps", 1e-6);
    v.put("qkv_bias", true);
    ObjectNode q = c.putObject("qformer_config");
    q.put("model_type", "instructblip_qformer");
    q.put("vocab_size", 30523);
    q.put("hidden_size", 768);
    q.put("num_hidden_layers", 12);
    q.put("num_attention_heads", 12);
    q.put("intermediate_size", 3072);
    q.put("hidden_act", "gelu");
    q.put("max_position_embeddings", 512);
    q.put("layer_norm_eps", 1e-12);
    q.put("cross_attention_frequency", 2);
    q.put("encoder_hidden_size", 1408);
    q.put("pad_token_id", 0);
    ObjectNode t = c.putObject("text_config");
    t.put("model_type", "llama");
    t.putArray("architectures").add("LlamaForCausalLM");
    t.put("vocab_size", 32001);
    t.put("hidden_size", 4096);
    t.put("intermediate_size", 11008);
    t.put("num_hidden_layers", 32);
    t.put("num_attention_heads", 32);
    t.put("num_key_value_heads", 32);
    t.put("hidden_act", "silu");
    t.put("max_position_embeddings", 2048);
    t.put("rms_norm_eps", 1e-6);
    t.put("rope_theta", 10000.0);
    t.put("tie_word_embeddings", false);
    t.put("bos_token_id", 1);
    t.put("eos_token_id", 2);
    t.put("pad_token_id", 32000);
    try {
      return json.writerWithDefaultPrettyPrinter().writeValueAsString(c);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** BlipImageProcessor as the conversion script configures it: 224 x 224 bicubic, CLIP mean/std (spec 4.6). */
  static String preprocessorConfig(int size) {
    return """
        {
          "do_resize": true,
          "size": {"height": %d, "width": %d},
          "resample": 3,
          "do_rescale": true,
          "rescale_factor": 0.00392156862745098,
          "do_normalize": true,
          "image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711],
          "do_convert_rgb": true,
          "image_processor_type": "BlipImageProcessor",
          "processor_class": "InstructBlipProcessor"
        }
        """.formatted(size, size);
  }

  /**
   * Writes the folder {@code out} for {@code configJson} (an InstructBLIP config.json) unless it is
   * there already (its {@code config.json} equal to this one and its index present): every
   * parameter of the model in BF16, in checkpoint order, split into shards of at most {@code
   * shardBytes} (HF's {@code model-0000i-of-0000n.safetensors}), then the tokenizers from {@code
   * sharedData}. Written into a temporary folder beside {@code out}, then renamed.
   *
   * @return the bytes of all weights
   */
  public static long write(Path out, String configJson, long shardBytes, Path sharedData) {
    Path llamaVocab = sharedData.resolve("tokenizers/llama/tokenizer.model");
    Path bertVocab = sharedData.resolve("tokenizers/bert/bert-base-uncased-vocab.txt");
    for (Path p : List.of(llamaVocab, bertVocab)) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalStateException(p + " is missing (the LLaMA and BERT vocabularies of ../shared/data; see its README)");
      }
    }
    InstructBlipConfig config = InstructBlipConfig.fromJson(configJson.getBytes(StandardCharsets.UTF_8), "the generated config.json");
    InstructBlipForConditionalGeneration shape = new InstructBlipForConditionalGeneration(config); // shapes only, nothing allocated
    List<SafetensorsWriter.Generated> all = new ArrayList<>();
    long total = 0;
    for (Parameter p : shape.namedParameters().values()) {
      all.add(new SafetensorsWriter.Generated(p.path(), DType.BF16, p.shape(), randomBf16(p)));
      total += DType.BF16.byteSize(Shapes.numel(p.shape()));
    }
    try {
      if (Files.isRegularFile(out.resolve("model.safetensors.index.json")) && Files.isRegularFile(out.resolve("config.json"))
          && Files.readString(out.resolve("config.json")).equals(configJson)) {
        return total;
      }
      List<List<SafetensorsWriter.Generated>> shards = new ArrayList<>();
      List<SafetensorsWriter.Generated> current = null;
      long inShard = 0;
      for (SafetensorsWriter.Generated g : all) {
        long bytes = g.dtype().byteSize(Shapes.numel(g.shape()));
        if (current == null || (inShard + bytes > shardBytes && !current.isEmpty())) {
          current = new ArrayList<>();
          shards.add(current);
          inShard = 0;
        }
        current.add(g);
        inShard += bytes;
      }
      Path parent = out.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = Files.createTempDirectory(parent, out.getFileName() + ".tmp");
      Map<String, String> weightMap = new LinkedHashMap<>();
      for (int i = 0; i < shards.size(); i++) {
        String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
        long t0 = System.nanoTime();
        SafetensorsWriter.writeGenerated(tmp.resolve(file), shards.get(i), Map.of("format", "pt"));
        long bytes = Files.size(tmp.resolve(file));
        System.err.printf("%s: %.2f GB in %.1f s%n", file, bytes / 1e9, (System.nanoTime() - t0) / 1e9);
        for (SafetensorsWriter.Generated g : shards.get(i)) {
          weightMap.put(g.name(), file);
        }
      }
      ObjectMapper json = new ObjectMapper();
      ObjectNode index = json.createObjectNode();
      index.putObject("metadata").put("total_size", total);
      ObjectNode map = index.putObject("weight_map");
      weightMap.forEach(map::put);
      Files.writeString(tmp.resolve("model.safetensors.index.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(index));
      Files.writeString(tmp.resolve("preprocessor_config.json"), preprocessorConfig(config.visionConfig().imageSize()));
      Files.copy(llamaVocab, tmp.resolve("tokenizer.model"));
      Files.createDirectories(tmp.resolve("qformer_tokenizer"));
      Files.copy(bertVocab, tmp.resolve("qformer_tokenizer/vocab.txt"));
      Files.writeString(tmp.resolve("config.json"), configJson); // last: its presence marks a complete folder
      if (Files.exists(out)) {
        try (var old = Files.walk(out)) {
          for (Path p : old.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
      return total;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The random BF16 bytes of one parameter (class comment), the same for the same path. */
  static SafetensorsWriter.Fill randomBf16(Parameter p) {
    int[] shape = p.shape();
    long fanIn = Math.max(1, Shapes.numel(shape) / Math.max(1, shape[0]));
    // per 16-bit lane: which random bits are kept, and the exponent (and sign) bits set
    long keep;
    int exponent;
    switch (p.init()) {
      case FAN_IN -> {
        keep = 0x807F;
        exponent = 127 + Math.getExponent(0.65 / Math.sqrt(fanIn));
      }
      case NEAR_ONE -> {
        keep = 0x000F;
        exponent = 127;
      }
      case SMALL -> {
        keep = 0x807F;
        exponent = 127 - 4;
      }
      case NORMAL -> {
        keep = 0x807F;
        exponent = 127 - 1;
      }
      default -> throw new IllegalStateException("unreachable");
    }
    long keep4 = keep * 0x0001_0001_0001_0001L;
    long set4 = ((long) exponent << 7) * 0x0001_0001_0001_0001L;
    long seed = p.path().hashCode();
    return (chunk, offset) -> {
      // one generator per 1 MiB chunk, seeded by the path and the chunk's place: the bytes do not
      // depend on how the file is cut
      SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + offset);
      long n = chunk.byteSize();
      long i = 0;
      for (; i + 8 <= n; i += 8) {
        chunk.set(ValueLayout.JAVA_LONG_UNALIGNED, i, (rng.nextLong() & keep4) | set4);
      }
      long last = (rng.nextLong() & keep4) | set4;
      for (; i < n; i++, last >>>= 8) {
        chunk.set(ValueLayout.JAVA_BYTE, i, (byte) last);
      }
    };
  }

  public static void main(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: InstructBlipFolder OUT [SHARD_GB]  (writes the full-size random-weight InstructBLIP Vicuna-7B folder)");
      System.exit(2);
    }
    Path shared = ModelFiles.sharedData();
    if (shared == null) {
      System.err.println("InstructBlipFolder: no ../shared/data (or -Dfovea.shared=DIR): the LLaMA and BERT vocabularies come from there");
      System.exit(2);
    }
    long shard = (long) (Double.parseDouble(args.length > 1 ? args[1] : "5") * 1e9);
    long t0 = System.nanoTime();
    long bytes = write(Path.of(args[0]), vicuna7bConfig(), shard, shared);
    System.err.printf("%s: %.2f GB of BF16 weights, ready in %.1f s%n", args[0], bytes / 1e9, (System.nanoTime() - t0) / 1e9);
  }
}
