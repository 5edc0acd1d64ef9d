package dev.fovea.vit.blip;

import dev.fovea.nn.Linear;
import dev.fovea.nn.Module;
import dev.fovea.nn.StateDictException;
import dev.fovea.tensor.Ops;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.TensorException;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.tensor.io.Resident;
import dev.fovea.tensor.io.WeightFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * HF {@code BlipForImageTextRetrieval} (transformers src/transformers/models/blip/modeling_blip.py;
 * LAVIS lavis/models/blip_models/blip_image_text_matching.py; spec methods-abs-agla.md B.9) under
 * HF's names: {@code vision_model}, {@code text_encoder}, {@code vision_proj}, {@code text_proj},
 * {@code itm_head}. Shapes: B batch, T tokens, N image tokens, D vision width, C text width, E
 * {@code image_text_hidden_size}.
 *
 * <pre>
 * V   = vision_model(pixels)                                        [B, N, D]
 * ITM = itm_head(text_encoder(ids, V)[:, 0])                        [B, 2]   class 1 = match
 * ITC = normalize(vision_proj(V[:, 0])) . normalize(text_proj(text_encoder(ids)[:, 0]))   [B]
 * </pre>
 *
 * The ids are used as given: the original BLIP (and AGLA) put {@code [ENC]} at position 0 for ITM and
 * keep {@code [CLS]} for ITC, HF's class keeps {@code [CLS]} for both; {@link BlipText} builds either.
 */
public final class BlipForImageTextRetrieval extends Module {
  public final BlipConfig config;
  public final BlipVisionModel visionModel;
  public final BlipTextModel textEncoder;
  /** [E, D]. */
  public final Linear visionProj;
  /** [E, C]. */
  public final Linear textProj;
  /** [2, C]. */
  public final Linear itmHead;

  public BlipForImageTextRetrieval(BlipConfig config) {
    this.config = config;
    this.visionModel = register("vision_model", new BlipVisionModel(config.vision()));
    this.textEncoder = register("text_encoder", new BlipTextModel(config.text()));
    this.visionProj = register("vision_proj", new Linear(config.vision().hiddenSize(), config.embedDim(), true));
    this.textProj = register("text_proj", new Linear(config.text().hiddenSize(), config.embedDim(), true));
    this.itmHead = register("itm_head", new Linear(config.text().hiddenSize(), 2, true));
  }

  /** The image states V [B, N, D] of pixels [B, 3, S, S]. */
  public Tensor imageEmbeds(Tensor pixels) {
    return visionModel.forward(pixels);
  }

  /** ITM logits [B, 2] (multimodal mode). */
  public Tensor itmLogits(int[][] ids, int[][] mask, Tensor imageEmbeds) {
    Tensor h = textEncoder.forward(ids, mask, imageEmbeds); // [B, T, C]
    return itmHead.forward(h.select(1, 0));
  }

  /** ITM match probability softmax(logits)[:, 1], [B]. */
  public static Tensor itmProbability(Tensor itmLogits) {
    return Ops.softmax(itmLogits, -1).select(1, 1);
  }

  /** ITC cosine [B] between the image CLS and the text-mode [CLS] state, both projected and L2-normalized (no temperature). */
  public Tensor itcCosine(int[][] ids, int[][] mask, Tensor imageEmbeds) {
    Tensor h = textEncoder.forward(ids, mask, null); // text mode
    Tensor img = normalize(visionProj.forward(imageEmbeds.select(1, 0))); // [B, E]
    Tensor txt = normalize(textProj.forward(h.select(1, 0))); // [B, E]
    return Ops.sum(Ops.mul(img, txt), -1, false);
  }

  /** x / max(||x||_2, 1e-12) over the last dimension (torch.nn.functional.normalize). */
  static Tensor normalize(Tensor x) {
    Tensor norm = Ops.sqrt(Ops.sum(Ops.square(x), -1, true));
    return Ops.div(x, Ops.maximum(norm, Tensor.scalar(1e-12f)));
  }

  // ---------------------------------------------------------------- loading

  /**
   * Opens a folder with {@code config.json} and weights ({@code model.safetensors}, {@code
   * pytorch_model.bin}, sharded or not, or LAVIS's one {@code .pth}) under either naming ({@link
   * BlipNames}); the LAVIS momentum tensors and queues are skipped. Loading is strict: every
   * missing, unexpected or mis-shaped tensor is reported together.
   */
  public static Loaded open(Path folder) {
    if (!Files.isDirectory(folder)) {
      throw new BlipConfigException(folder + ": no such BLIP model folder (config.json, weights, vocab.txt)");
    }
    Path cfgFile = folder.resolve("config.json");
    if (!Files.isRegularFile(cfgFile)) {
      throw new BlipConfigException(cfgFile + ": missing (a BLIP model folder needs HF's config.json; for a LAVIS checkpoint write the"
          + " matching Salesforce/blip-itm-* config.json beside it)");
    }
    BlipConfig config = BlipConfig.parse(JsonConfig.readBytes(cfgFile, BlipConfigException::new), cfgFile.toString());
    WeightSource raw = WeightFiles.open(weightsOf(folder));
    WeightSource named = null;
    try {
      boolean lavis = BlipNames.isLavis(raw);
      named = Resident.of(lavis ? BlipNames.hfView(raw) : raw);
      BlipForImageTextRetrieval m = new BlipForImageTextRetrieval(config);
      try {
        m.load(named, "", BlipNames::isUnused);
      } catch (StateDictException e) {
        throw new BlipConfigException("BLIP checkpoint " + folder + (lavis ? " (LAVIS names)" : "") + " does not match " + cfgFile + ": "
            + e.getMessage(), e);
      }
      return new Loaded(m, named, lavis, folder);
    } catch (RuntimeException e) {
      try {
        (named != null ? named : raw).close();
      } catch (TensorException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * The folder itself when it holds HF's weight files ({@code model.safetensors}, {@code
   * pytorch_model.bin}, sharded or not), else its one {@code .pth} (LAVIS's {@code
   * model_large_retrieval_coco.pth}, a zip of {@code {"model": state_dict}}).
   */
  static Path weightsOf(Path folder) {
    for (String n : new String[] {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"}) {
      if (Files.isRegularFile(folder.resolve(n))) {
        return folder;
      }
    }
    try (var files = Files.list(folder)) {
      var pth = files.filter(f -> f.getFileName().toString().endsWith(".pth") && Files.isRegularFile(f)).sorted().toList();
      if (pth.size() == 1) {
        return pth.get(0);
      }
      if (pth.size() > 1) {
        throw new BlipConfigException(folder + ": " + pth.size() + " .pth files and no model.safetensors or pytorch_model.bin; keep one checkpoint");
      }
    } catch (java.io.IOException e) {
      throw new BlipConfigException(folder + ": cannot list: " + e.getMessage(), e);
    }
    return folder; // the reader's own error names what it looked for
  }

  /** A model with the mapped weights it uses; close when done. */
  public record Loaded(BlipForImageTextRetrieval model, WeightSource weights, boolean lavisNames, Path folder) implements AutoCloseable {
    @Override
    public void close() {
      weights.close();
    }
  }
}
