package dev.fovea.vit.dino;

import dev.fovea.nn.Activation;
import dev.fovea.nn.StateDict;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * HF {@code ViTConfig} (transformers src/transformers/models/vit/configuration_vit.py): the
 * {@code config.json} of {@code facebook/dino-vitb16} and {@code dino-vits16} ({@code model_type:
 * vit}). Missing keys take the class defaults (ViT-B/16 at 224: 768 wide, 12 layers, 12 heads, MLP
 * 3072, exact GELU, {@code layer_norm_eps} 1e-12, qkv with bias). Read with {@link #read}, which
 * names the file and the key of every bad value.
 *
 * <p>Derived sizes: {@link #headDim()}, {@link #gridSize()}, {@link #numPositions()} (patches + CLS).
 */
public record VitConfig(
    int hiddenSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int intermediateSize,
    String hiddenAct,
    double layerNormEps,
    int imageSize,
    int patchSize,
    int numChannels,
    boolean qkvBias) {

  /** Limits on sizes read from a file (many times the largest published ViT). */
  public static final int MAX_HIDDEN = 65_536;

  public static final int MAX_LAYERS = 1024;
  public static final int MAX_IMAGE_SIZE = 8192;

  /** The keys of one config object; {@code source} names the file in errors. */
  public static VitConfig fromJson(JsonConfig c) {
    int hidden = c.integer("hidden_size", 768, 1, MAX_HIDDEN);
    int layers = c.integer("num_hidden_layers", 12, 1, MAX_LAYERS);
    int heads = c.integer("num_attention_heads", 12, 1, MAX_HIDDEN);
    int inter = c.integer("intermediate_size", 3072, 1, 4 * MAX_HIDDEN);
    String act = c.string("hidden_act", "gelu");
    double eps = c.has("layer_norm_eps") ? c.positive("layer_norm_eps", 1e-12) : 1e-12;
    int image = c.integer("image_size", 224, 1, MAX_IMAGE_SIZE);
    int patch = c.integer("patch_size", 16, 1, MAX_IMAGE_SIZE);
    int channels = c.integer("num_channels", 3, 1, 16);
    boolean qkvBias = c.bool("qkv_bias", true);
    if (hidden % heads != 0) {
      throw c.error("hidden_size", hidden + " is not a multiple of num_attention_heads " + heads);
    }
    if (image % patch != 0) {
      throw c.error("image_size", image + " is not a multiple of patch_size " + patch);
    }
    try {
      Activation.fromConfig(act);
    } catch (TensorException e) {
      throw c.error("hidden_act", e.getMessage());
    }
    return new VitConfig(hidden, layers, heads, inter, act, eps, image, patch, channels, qkvBias);
  }

  /** Parses config.json bytes; {@code source} names the file. */
  public static VitConfig parse(byte[] json, String source) {
    return fromJson(JsonConfig.of(JsonConfig.parse(json, source, VitConfigException::new), source, VitConfigException::new));
  }

  public int headDim() {
    return hiddenSize / numAttentionHeads;
  }

  public int gridSize() {
    return imageSize / patchSize;
  }

  public int numPositions() {
    return gridSize() * gridSize() + 1;
  }

  public Activation activation() {
    return Activation.fromConfig(hiddenAct);
  }

  /**
   * Where the tensors under {@code prefix} disagree with this config, one line each, from the tensor
   * list alone: the layer count, the patch projection, the CLS token and the position table.
   */
  public List<String> disagreements(WeightSource w, String prefix) {
    List<String> bad = new ArrayList<>();
    add(bad, StateDict.countDisagreement(w, prefix + "encoder.layer.", "num_hidden_layers", numHiddenLayers));
    String e = prefix + "embeddings.";
    add(bad, StateDict.shapeDisagreement(w, e + "patch_embeddings.projection.weight", "[hidden_size, num_channels, patch_size, patch_size]",
        hiddenSize, numChannels, patchSize, patchSize));
    add(bad, StateDict.shapeDisagreement(w, e + "cls_token", "[1, 1, hidden_size]", 1, 1, hiddenSize));
    add(bad, StateDict.shapeDisagreement(w, e + "position_embeddings", "[1, (image_size / patch_size)^2 + 1, hidden_size]", 1,
        numPositions(), hiddenSize));
    add(bad, StateDict.shapeDisagreement(w, prefix + "encoder.layer.0.intermediate.dense.weight", "[intermediate_size, hidden_size]",
        intermediateSize, hiddenSize));
    return bad;
  }

  private static void add(List<String> bad, String problem) {
    if (problem != null) {
      bad.add(problem);
    }
  }
}
