package dev.fovea.llm.llava;

import dev.fovea.llm.generate.CausalLM;
import dev.fovea.llm.generate.Inputs;
import dev.fovea.llm.generate.WrappedCausalLM;
import dev.fovea.llm.llama.DecodeState;
import dev.fovea.llm.llama.LlamaForCausalLM;
import dev.fovea.nn.Module;
import dev.fovea.tensor.ErrorList;
import dev.fovea.tensor.Tensor;
import dev.fovea.tensor.WeightSource;
import dev.fovea.tensor.archive.ArchiveReader;
import dev.fovea.tensor.io.GgufSource;
import dev.fovea.tensor.io.JsonConfig;
import dev.fovea.tensor.io.Resident;
import dev.fovea.tensor.io.WeightFiles;
import dev.fovea.vit.clip.ClipVisionModel;
import dev.fovea.vit.clip.ClipVisionTransformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * LLaVA-1.5 (transformers {@code LlavaForConditionalGeneration}, modeling_llava.py; spec
 * models-formats.md 2.3). Module paths are the llava-hf hub names (the newer {@code model.*}
 * naming is read through {@link LlavaNames}):
 *
 * <pre>
 * vision_tower.vision_model.*           CLIP vision tower (Dv wide, S px, patch P, N = (S/P)^2 patches)
 * multi_modal_projector.linear_{1,2}.*  [C, Dv], [C, C]
 * language_model.model.*                LLaMA decoder (C wide)
 * language_model.lm_head.weight         [V, C]
 * </pre>
 *
 * <p>Forward: pixels [n, 3, S, S] -> tower up to hidden_states[vision_feature_layer] (later layers
 * and post_layernorm never run) -> drop CLS ("default") [n, N, Dv] -> projector [n, N, C]; the
 * prompt's i-th image marker is replaced by image i's N rows between the text embeddings ->
 * LLaMA decoder over positions 0..L-1. The model holds no run state; {@link DecodeState}s come
 * from the decoder, so the generator, branches and logits combiners work unchanged.
 */
public final class LlavaForConditionalGeneration extends Module implements WrappedCausalLM, AutoCloseable {
  public final LlavaConfig config;
  public final ClipVisionModel visionTower;
  public final LlavaMultiModalProjector multiModalProjector;
  public final LlamaForCausalLM languageModel;
  private WeightSource weights;

  /** An unloaded model of this shape. */
  public LlavaForConditionalGeneration(LlavaConfig config) {
    this.config = config;
    this.visionTower = register("vision_tower", new ClipVisionModel(config.visionConfig()));
    this.multiModalProjector = register("multi_modal_projector",
        new LlavaMultiModalProjector(config.visionConfig().hiddenSize(), config.textConfig().hiddenSize(), config.multimodalProjectorBias()));
    this.languageModel = register("language_model", new LlamaForCausalLM(config.textConfig()));
  }

  // ---------------------------------------------------------------- loading

  /**
   * Loads a llava-hf folder (config.json + safetensors/.bin, single or sharded, either naming
   * generation), a weight file with config.json beside it, or a fovea archive carrying config.json.
   * A GGUF pair is opened by the converter ({@code LlavaGguf.open(model, mmproj)}) and handed to
   * {@link #load(WeightSource, byte[], String)}.
   */
  public static LlavaForConditionalGeneration load(Path path) {
    return load(path, null);
  }

  /**
   * As {@link #load(Path)}, and also an original haotian-liu folder ({@link LlavaOriginal}), whose
   * CLIP tower is {@code visionTower} or, when that is null, found from its {@code mm_vision_tower}.
   */
  public static LlavaForConditionalGeneration load(Path path, Path visionTower) {
    if (!Files.exists(path)) {
      throw new LlavaException(path + ": no such file or folder");
    }
    if (LlavaOriginal.isOriginalFolder(path)) {
      LlavaOriginal.Opened o = LlavaOriginal.open(path, visionTower);
      try {
        return load(o.weights(), o.configJson(), o.origin());
      } catch (RuntimeException e) {
        o.weights().close();
        throw e;
      }
    }
    WeightSource src = WeightFiles.open(path);
    try {
      byte[] json;
      String origin;
      if (src instanceof GgufSource) {
        throw new LlavaException(path + ": a LLaVA GGUF comes as a model + mmproj pair; open both (fovea ask --mmproj FILE)");
      } else if (src instanceof ArchiveReader archive) {
        if (!archive.fileNames().contains("config.json")) {
          throw new LlavaException(path + ": the archive carries no config.json");
        }
        json = archive.file("config.json");
        origin = path + "!config.json";
      } else {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
          throw new LlavaException(path + ": no config.json found in " + dir);
        }
        json = JsonConfig.readBytes(file, LlavaException::new);
        origin = file.toString();
      }
      return load(src, json, origin);
    } catch (RuntimeException e) {
      src.close();
      throw e;
    }
  }

  /** Strict load of every parameter from {@code source} (either naming); the model owns and closes it. */
  public static LlavaForConditionalGeneration load(WeightSource source, byte[] configJson, String origin) {
    LlavaConfig config = LlavaConfig.fromJson(configJson, origin);
    WeightSource named = LlavaNames.oldLayout(source);
    // the config against the tensor list before any module is built (a million layers fail here, in one line)
    List<String> bad = config.disagreements(named);
    if (!bad.isEmpty()) {
      throw new LlavaException(origin + " disagrees with the weights in " + named.origin() + ErrorList.lines(bad));
    }
    LlavaForConditionalGeneration m = new LlavaForConditionalGeneration(config);
    WeightSource src = Resident.of(named);
    boolean tied = m.config.textConfig().tieWordEmbeddings();
    Predicate<String> ignore = n -> n.endsWith(".rotary_emb.inv_freq") || n.endsWith("embeddings.position_ids")
        || (tied && n.equals("language_model.lm_head.weight"));
    m.load(src, "", ignore);
    m.weights = src;
    return m;
  }

  /** Closes the weights; decodes running on other threads end with a {@code ModelClosedException}. */
  @Override
  public synchronized void close() {
    languageModel.close(); // marks the decoder closed first (its weights are held here)
    if (weights != null) {
      WeightSource w = weights;
      weights = null;
      w.close();
    }
  }

  // ---------------------------------------------------------------- image features

  /**
   * Projected image features [n, N, C] of pixels [n, 3, S, S] (already preprocessed). Records a
   * graph in grad mode (pixels may require grad).
   */
  public Tensor imageFeatures(Tensor pixels) {
    int s = config.visionConfig().imageSize();
    if (pixels.dim() != 4 || pixels.size(1) != 3 || pixels.size(2) != s || pixels.size(3) != s) {
      throw new LlavaException("pixels " + Arrays.toString(pixels.shape()) + " must be [n, 3, " + s + ", " + s + "] (the vision tower's image_size)");
    }
    ClipVisionTransformer vm = visionTower.visionModel;
    Tensor h = vm.preLayrnorm.forward(vm.embeddings.forward(pixels)); // hidden_states[0], [n, 1 + N, Dv]
    h = vm.encoder.forwardLayers(h, null, config.featureHiddenStateIndex()); // hidden_states[feature layer]
    if (config.visionFeatureSelectStrategy().equals("default")) {
      h = h.narrow(1, 1, h.size(1) - 1); // drop CLS -> [n, N, Dv]
    }
    return multiModalProjector.forward(h.contiguous()); // [n, N, C]
  }

  // ---------------------------------------------------------------- prompt assembly

  /**
   * Merges a prompt with its images. {@code ids} hold BOS and the text ids with one
   * {@code image_token_index} per image ({@link LlavaPrompt#tokenize}); a run of k·N image tokens
   * (k &gt;= 1), as the HF processor expands them, counts as k images, and any other run of r
   * adjacent tokens as r markers ({@code "<image><image>"} is two images). {@code pixels}
   * [n, 3, S, S] holds the images in prompt order (null or n = 0 for a text-only prompt). Allocates
   * in the current scope; in grad mode the result is part of the graph.
   */
  public LlavaInputs prepare(int[] ids, Tensor pixels) {
    return prepare(ids, pixels == null ? 0 : pixels.size(0), () -> imageFeatures(pixels));
  }

  /**
   * As {@link #prepare(int[], Tensor)} with the projected features [n, N, C] of the images already
   * computed ({@link #imageFeatures}), e.g. to ask several prompts about one image without running
   * the vision tower again.
   */
  public LlavaInputs prepareWithFeatures(int[] ids, Tensor features) {
    int c = config.textConfig().hiddenSize();
    if (features != null && (features.dim() != 3 || features.size(1) != config.imageSeqLength() || features.size(2) != c)) {
      throw new LlavaException("image features " + Arrays.toString(features.shape()) + " must be [n, " + config.imageSeqLength() + ", " + c + "]");
    }
    return prepare(ids, features == null ? 0 : features.size(0), () -> features);
  }

  private LlavaInputs prepare(int[] ids, int images, java.util.function.Supplier<Tensor> imageFeatures) {
    int n = config.imageSeqLength();
    int tokenId = config.imageTokenIndex();
    // 1. find the markers
    List<int[]> segments = new ArrayList<>(); // text runs between markers
    int markers = 0;
    List<Integer> text = new ArrayList<>();
    List<Integer> perMarker = new ArrayList<>(); // images per marker run
    for (int i = 0; i < ids.length; ) {
      if (ids[i] != tokenId) {
        text.add(ids[i++]);
        continue;
      }
      int j = i;
      while (j < ids.length && ids[j] == tokenId) {
        j++;
      }
      int run = j - i;
      int k = run >= n && run % n == 0 ? run / n : run;
      segments.add(text.stream().mapToInt(Integer::intValue).toArray());
      text.clear();
      perMarker.add(k);
      markers += k;
      i = j;
    }
    segments.add(text.stream().mapToInt(Integer::intValue).toArray());
    if (markers > 0 && images == 0) {
      throw new LlavaException("the prompt has " + markers + " <image> marker(s) (token id " + tokenId + ") but no image was given");
    }
    if (markers != images) {
      throw new LlavaException("the prompt has " + markers + " <image> marker(s) (token id " + tokenId + ") but " + images + " image(s) were given"
          + (markers < images ? "; add one <image> per image, in order" : "; give one image per <image>, in order"));
    }
    int length = ids.length - markers + markers * n;
    if (markers > 0) {
      length = 0;
      for (int[] seg : segments) {
        length += seg.length;
      }
      length += markers * n;
    }
    if (length > maxPositions()) {
      throw new LlavaException("context too long: the prompt takes " + length + " positions (" + (length - markers * n) + " text + " + markers + " × " + n
          + " image) but the model holds at most " + maxPositions() + " (max_position_embeddings of " + config.origin() + ")");
    }
    // 2. embed the text runs, project the images, and splice them in order
    Tensor features = images == 0 ? null : imageFeatures.get(); // [n, N, C]
    List<Tensor> parts = new ArrayList<>();
    List<ImageSpan> spans = new ArrayList<>();
    int[] merged = new int[length];
    int pos = 0;
    int image = 0;
    for (int s = 0; s < segments.size(); s++) {
      int[] seg = segments.get(s);
      if (seg.length > 0) {
        parts.add(languageModel.embed(Tensor.ofInts(seg, 1, seg.length))); // [1, t, C]
        System.arraycopy(seg, 0, merged, pos, seg.length);
        pos += seg.length;
      }
      if (s < perMarker.size()) {
        for (int k = 0; k < perMarker.get(s); k++, image++) {
          parts.add(features.narrow(0, image, 1)); // [1, N, C]
          Arrays.fill(merged, pos, pos + n, tokenId);
          spans.add(new ImageSpan(pos, pos + n));
          pos += n;
        }
      }
    }
    if (parts.isEmpty()) {
      throw new LlavaException("the prompt is empty");
    }
    Tensor embeds = parts.size() == 1 ? parts.get(0) : dev.fovea.tensor.Ops.concat(parts, 1); // [1, L, C]
    return new LlavaInputs(embeds, merged, spans);
  }

  // ---------------------------------------------------------------- decoding

  /** A fresh decoding state of the language model. */
  public DecodeState newState(int batch, int capacity) {
    return languageModel.newState(batch, capacity);
  }

  /** Logits [1, L, V] ({@code allLogits}) or [1, 1, V] of a prepared prompt; grad mode records the graph. */
  public Tensor forward(LlavaInputs inputs, DecodeState state, boolean allLogits) {
    return languageModel.forward(inputs.embeddings(), state, allLogits);
  }

  /** Prefill of a prepared prompt (no autograd). */
  public DecodeState prefill(LlavaInputs inputs, int maxLength) {
    return prefill(inputs.toInputs(), maxLength);
  }

  /** Ids (text only) or merged embeddings ({@link LlavaInputs#toInputs}). */
  @Override
  public DecodeState prefill(Inputs inputs, int maxLength) {
    if (inputs.length() > maxLength) {
      throw new LlavaException("context too long: the prompt has " + inputs.length() + " positions, more than the maximum length " + maxLength);
    }
    return languageModel.prefill(inputs, maxLength);
  }

  /** The LLaMA decoder: steps, batched rows, vocabulary and stop ids are its. */
  @Override
  public CausalLM decoder() {
    return languageModel;
  }

  @Override
  protected String extraRepr() {
    return "(image tokens=" + config.imageSeqLength() + ", feature layer=" + config.visionFeatureLayer() + ", image_token_index="
        + config.imageTokenIndex() + ")";
  }
}
