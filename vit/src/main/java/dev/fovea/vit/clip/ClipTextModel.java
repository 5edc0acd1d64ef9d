package dev.fovea.vit.clip;

import dev.fovea.nn.Module;

/** HF {@code CLIPTextModel}: the text tower alone, at {@code text_model}; loads from a full CLIP checkpoint. */
public final class ClipTextModel extends Module {
  public final ClipTextConfig config;
  public final ClipTextTransformer textModel;

  public ClipTextModel(ClipTextConfig config) {
    this.config = config;
    this.textModel = register("text_model", new ClipTextTransformer(config));
  }

  public static ClipTextModel load(ClipCheckpoint ckpt) {
    ClipTextConfig config = ClipConfig.parse(ckpt.configJson(), ckpt.describe("config.json")).textConfig();
    ckpt.refuse(config.disagreements(ckpt.weights(), "text_model.", "text_config.")); // before building any module
    ClipTextModel m = new ClipTextModel(config);
    ckpt.load(m.textModel, "text_model.");
    return m;
  }

  public TowerOutput forward(int[][] ids, int[][] attentionMask, ClipOutputs outputs) {
    return textModel.forward(ids, attentionMask, outputs);
  }
}
