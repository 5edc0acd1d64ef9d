package dev.fovea.methods.minillava;

import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.llm.llava.LlavaConfig;
import dev.fovea.llm.llava.LlavaForConditionalGeneration;
import dev.fovea.nn.Parameter;
import dev.fovea.tensor.Scope;
import dev.fovea.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * fovea's own small vision-language model: LLaVA-1.5's architecture in miniature, in the llava-hf
 * checkpoint layout, so every loader, hook, method and command runs on it unchanged (issue 22).
 *
 * <ul>
 *   <li>Vision tower: a CLIP ViT at 64 x 64 pixels, patch 8 (an 8 x 8 grid of 64 image tokens), width
 *       128, 5 layers, 4 heads, quick GELU; LLaVA's penultimate-layer features without CLS. A 448-pixel
 *       scene is seen at a seventh of its side: a 12-pixel glyph becomes two pixels, the loss of small
 *       detail that ViCrop's zoomed crop gives back.
 *   <li>Projector: LLaVA-1.5's two linear layers with GELU, 128 to 64.
 *   <li>Decoder: Karpathy's stories260K (LLaMA-2, dim 64, 5 layers, 8 heads, 4 KV heads, vocabulary
 *       512, trained on TinyStories), its vocabulary extended by {@code <image>} (512) and {@code <pad>}
 *       (513) to 576 rows, as llava-hf pads Vicuna's; a pretrained language model, as LLaVA starts from
 *       Vicuna.
 * </ul>
 *
 * {@link #create} builds the untrained model: the decoder's weights from the stories260K GGUF, the
 * tower and projector drawn from a seeded generator (weights N(0, 0.02), biases 0, layer norms 1).
 */
public final class MiniLlava {
  public static final int IMAGE_SIZE = 64;
  public static final int PATCH = 8;
  public static final int IMAGE_TOKEN = 512;
  public static final int PAD_TOKEN = 513;
  public static final int VOCAB = 576;

  /** The decoder layer whose attention the training teaches to look at the answer (ViCrop's {@code --layer} for this model). */
  public static final int ATTENTION_LAYER = 3;

  public static final String CONFIG_JSON = """
      {
        "architectures": ["LlavaForConditionalGeneration"],
        "model_type": "llava",
        "torch_dtype": "float32",
        "image_token_index": 512,
        "pad_token_id": 513,
        "projector_hidden_act": "gelu",
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
        "image_seq_length": 64,
        "multimodal_projector_bias": true,
        "tie_word_embeddings": false,
        "vision_config": {
          "hidden_size": 128,
          "intermediate_size": 512,
          "num_hidden_layers": 5,
          "num_attention_heads": 4,
          "num_channels": 3,
          "image_size": 64,
          "patch_size": 8,
          "hidden_act": "quick_gelu",
          "layer_norm_eps": 1e-05,
          "projection_dim": 128,
          "model_type": "clip_vision_model"
        },
        "text_config": {
          "vocab_size": 576,
          "hidden_size": 64,
          "intermediate_size": 172,
          "num_hidden_layers": 5,
          "num_attention_heads": 8,
          "num_key_value_heads": 4,
          "rms_norm_eps": 1e-05,
          "rope_theta": 10000.0,
          "rope_scaling": null,
          "max_position_embeddings": 512,
          "tie_word_embeddings": false,
          "model_type": "llama",
          "hidden_act": "silu",
          "bos_token_id": 1,
          "eos_token_id": 2,
          "pad_token_id": 513
        }
      }
      """;

  /** CLIP's processor at 64 pixels (bicubic resize of the shortest side, centre crop, CLIP mean and std). */
  public static final String PREPROCESSOR_JSON = """
      {
        "do_resize": true,
        "size": {"shortest_edge": 64},
        "resample": 3,
        "do_center_crop": true,
        "crop_size": {"height": 64, "width": 64},
        "do_rescale": true,
        "rescale_factor": 0.00392156862745098,
        "do_normalize": true,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "do_convert_rgb": true,
        "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor"
      }
      """;

  static final String ADDED_TOKENS_JSON = """
      {
        "<image>": 512,
        "<pad>": 513
      }
      """;

  static final String TOKENIZER_CONFIG_JSON = """
      {
        "added_tokens_decoder": {
          "512": {"content": "<image>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true},
          "513": {"content": "<pad>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}
        },
        "add_bos_token": true,
        "add_eos_token": false,
        "legacy": true,
        "pad_token": "<pad>",
        "processor_class": "LlavaProcessor",
        "tokenizer_class": "LlamaTokenizer"
      }
      """;

  private MiniLlava() {}

  public static LlavaConfig config() {
    return LlavaConfig.fromJson(CONFIG_JSON.getBytes(StandardCharsets.UTF_8), "fovea mini LLaVA");
  }

  /**
   * The files of a model folder beside the weights, by name: config.json, preprocessor_config.json,
   * the stories260K tokenizer ({@code tokenizer.bin}, llama2.c's format) and its two added tokens, and
   * {@code fovea.json} naming the layer ViCrop should read ({@link #ATTENTION_LAYER}).
   */
  public static Map<String, byte[]> folderFiles(Path tokenizerBin) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("config.json", CONFIG_JSON.getBytes(StandardCharsets.UTF_8));
    files.put("preprocessor_config.json", PREPROCESSOR_JSON.getBytes(StandardCharsets.UTF_8));
    try {
      files.put("tokenizer.bin", Files.readAllBytes(tokenizerBin));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the tokenizer " + tokenizerBin + ": " + e.getMessage(), e);
    }
    files.put("added_tokens.json", ADDED_TOKENS_JSON.getBytes(StandardCharsets.UTF_8));
    files.put("tokenizer_config.json", TOKENIZER_CONFIG_JSON.getBytes(StandardCharsets.UTF_8));
    files.put("fovea.json", ("{\"vicrop_layer\": " + ATTENTION_LAYER + "}\n").getBytes(StandardCharsets.UTF_8));
    return files;
  }

  /**
   * The untrained model: the decoder from {@code storiesGguf} (its 512 vocabulary rows; the two added
   * rows drawn N(0, 0.02) in the embedding and zero in the output layer), the rest drawn from {@code seed}.
   * Weights live in the global scope.
   */
  public static LlavaForConditionalGeneration create(Path storiesGguf, long seed) {
    LlavaForConditionalGeneration model = new LlavaForConditionalGeneration(config());
    Random rng = new Random(seed);
    try (LlamaForCausalLM stories = LlamaForCausalLM.load(storiesGguf); Scope scope = Scope.open()) {
      Map<String, Parameter> src = stories.namedParameters();
      Tensor embed = src.get("model.embed_tokens.weight").get();
      for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
        String name = e.getKey();
        Parameter p = e.getValue();
        int[] shape = p.shape();
        float[] v;
        if (name.startsWith("language_model.")) {
          String local = name.substring("language_model.".length());
          Parameter from = src.get(local);
          Tensor t = from != null ? from.get() : local.equals("lm_head.weight") ? embed : null;
          if (t == null) {
            throw new IllegalStateException("stories260K has no " + local);
          }
          float[] w = t.to(dev.fovea.tensor.DType.F32).toFloatArray();
          v = new float[Math.toIntExact(numel(shape))];
          System.arraycopy(w, 0, v, 0, Math.min(w.length, v.length));
          if (w.length < v.length && local.equals("model.embed_tokens.weight")) {
            for (int i = w.length; i < v.length; i++) {
              v[i] = (float) (0.02 * rng.nextGaussian());
            }
          }
        } else {
          v = new float[Math.toIntExact(numel(shape))];
          boolean bias = name.endsWith(".bias");
          boolean norm = name.contains("layer_norm") || name.contains("layernorm") || name.contains("layrnorm");
          for (int i = 0; i < v.length; i++) {
            v[i] = bias ? 0f : norm ? 1f : (float) (0.02 * rng.nextGaussian());
          }
        }
        Tensor t = Tensor.of(v, shape).copyTo(Scope.global());
        p.set(t);
      }
    }
    return model;
  }

  private static long numel(int[] shape) {
    long n = 1;
    for (int s : shape) {
      n *= s;
    }
    return n;
  }
}
