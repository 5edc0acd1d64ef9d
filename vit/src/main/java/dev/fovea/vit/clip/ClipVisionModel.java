package dev.fovea.vit.clip;

import dev.fovea.nn.Module;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.io.JsonConfig;

/**
 * HF {@code CLIPVisionModel}: the vision tower alone, at {@code vision_model}. Loads from a
 * vision-only folder ({@code CLIPVisionConfig}, as LLaVA's towers) or from a full CLIP checkpoint
 * (its other tensors are outside the {@code vision_model.} names and not this model's business).
 */
public final class ClipVisionModel extends Module {
  public final ClipVisionConfig config;
  public final ClipVisionTransformer visionModel;

  public ClipVisionModel(ClipVisionConfig config) {
    this.config = config;
    this.visionModel = register("vision_model", new ClipVisionTransformer(config));
  }

  public static ClipVisionModel load(ClipCheckpoint ckpt) {
    String source = ckpt.describe("config.json");
    JsonConfig root = JsonConfig.of(ClipConfig.tree(ckpt.configJson(), source), source, ClipConfigException::new);
    ClipVisionConfig config = ClipVisionConfig.fromRoot(root);
    String keys = root.has("vision_config_dict") ? "vision_config_dict." : root.has("vision_config") ? "vision_config." : "";
    ckpt.refuse(config.disagreements(ckpt.weights(), "vision_model.", keys)); // before building any module
    ClipVisionModel m = new ClipVisionModel(config);
    ckpt.load(m.visionModel, "vision_model.");
    return m;
  }

  public TowerOutput forward(Tensor pixels, ClipOutputs outputs) {
    return visionModel.forward(pixels, outputs);
  }
}
