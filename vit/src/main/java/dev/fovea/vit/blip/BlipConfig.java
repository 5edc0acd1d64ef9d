package dev.fovea.vit.blip;

import dev.fovea.nn.Activation;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.io.JsonConfig;

/**
 * HF {@code BlipConfig} of a {@code BlipForImageTextRetrieval} folder (configuration_blip.py; spec
 * models-formats.md 5.1, methods-abs-agla.md B.9): {@code vision_config}, {@code text_config} and
 * {@code image_text_hidden_size}. Missing keys take HF's class defaults; every size is validated
 * here, and a failure names the file and the key.
 *
 * @param embedDim {@code image_text_hidden_size}, the ITC projection width (256)
 */
public record BlipConfig(Vision vision, Text text, int embedDim) {
  static final int MAX_HIDDEN = 16384;
  /** The most layers a tower may have (fovea's limit). */
  public static final int MAX_LAYERS = 1024;
  static final int MAX_HEADS = 1024;
  static final int MAX_IMAGE = 8192;
  static final int MAX_VOCAB = 1 << 22;
  static final int MAX_POSITIONS = 1 << 16;

  /**
   * HF {@code BlipVisionConfig}: a ViT with patch conv (bias), CLS, learnt positions, pre-LN blocks
   * with a fused qkv, exact GELU, a final LayerNorm on every token.
   *
   * @param layerNormEps HF's default is 1e-5; LAVIS's ViT uses 1e-6 (spec B.9)
   */
  public record Vision(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads, int imageSize, int patchSize,
      double layerNormEps, String hiddenAct) {
    public Vision {
      if (hiddenSize % numAttentionHeads != 0) {
        throw new BlipConfigException("'vision_config.hidden_size' " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
      }
      if (imageSize % patchSize != 0) {
        throw new BlipConfigException("'vision_config.image_size' " + imageSize + " is not a multiple of patch_size " + patchSize);
      }
    }

    public int headDim() {
      return hiddenSize / numAttentionHeads;
    }

    /** Patches per side (24 at 384/16). */
    public int gridSize() {
      return imageSize / patchSize;
    }

    /** grid^2 + 1 (the CLS token first). */
    public int numPositions() {
      return gridSize() * gridSize() + 1;
    }

    public Activation activation() {
      return Activation.fromConfig(hiddenAct);
    }
  }

  /**
   * HF {@code BlipTextConfig}: BLIP's BERT ("MED") with cross-attention in every layer, post-LN, no
   * token types.
   *
   * @param encoderHiddenSize width of the image states the cross-attention reads (1024 for ViT-L)
   */
  public record Text(int vocabSize, int hiddenSize, int encoderHiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
      int maxPositionEmbeddings, double layerNormEps, String hiddenAct) {
    public Text {
      if (hiddenSize % numAttentionHeads != 0) {
        throw new BlipConfigException("'text_config.hidden_size' " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
      }
    }

    public Activation activation() {
      return Activation.fromConfig(hiddenAct);
    }
  }

  /** Parses a config.json's bytes; {@code source} names the file in errors. */
  public static BlipConfig parse(byte[] json, String source) {
    JsonConfig root = JsonConfig.of(JsonConfig.parse(json, source, BlipConfigException::new), source, BlipConfigException::new);
    JsonConfig v = root.object("vision_config"); // absent: all defaults
    JsonConfig t = root.object("text_config");
    try {
      Vision vision = new Vision(
          v.integer("hidden_size", 768, 1, MAX_HIDDEN),
          v.integer("intermediate_size", 3072, 1, MAX_HIDDEN * 8),
          v.integer("num_hidden_layers", 12, 1, MAX_LAYERS),
          v.integer("num_attention_heads", 12, 1, MAX_HEADS),
          v.integer("image_size", 384, 1, MAX_IMAGE),
          v.integer("patch_size", 16, 1, MAX_IMAGE),
          v.positive("layer_norm_eps", 1e-5),
          activation(v, "gelu"));
      Text text = new Text(
          t.integer("vocab_size", 30524, 1, MAX_VOCAB),
          t.integer("hidden_size", 768, 1, MAX_HIDDEN),
          t.integer("encoder_hidden_size", vision.hiddenSize(), 1, MAX_HIDDEN),
          t.integer("intermediate_size", 3072, 1, MAX_HIDDEN * 8),
          t.integer("num_hidden_layers", 12, 1, MAX_LAYERS),
          t.integer("num_attention_heads", 8, 1, MAX_HEADS),
          t.integer("max_position_embeddings", 512, 1, MAX_POSITIONS),
          t.positive("layer_norm_eps", 1e-12),
          activation(t, "gelu"));
      return new BlipConfig(vision, text, root.integer("image_text_hidden_size", 256, 1, MAX_HIDDEN));
    } catch (BlipConfigException e) {
      if (e.getMessage().startsWith(source)) {
        throw e; // a key reader's error already names the file
      }
      throw new BlipConfigException(source + ": " + e.getMessage(), e);
    }
  }

  private static String activation(JsonConfig c, String dflt) {
    String act = c.string("hidden_act", dflt);
    try {
      Activation.fromConfig(act);
    } catch (TensorException e) {
      throw c.error("hidden_act", e.getMessage());
    }
    return act;
  }
}
